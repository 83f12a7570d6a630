// The arithmetic of `batchnorm` and `layernorm`, one row (one step of one sequence) at a time.
// The C kernels (CNormalisation) compute the same expressions in the same order, so the two
// agree bit for bit.

extension Kernels {
  /// Applies a norm op to x `[..., C]` with its tensors in `NormOp.parameterNames` order.
  static func normalise<S: InterpreterScalar>(_ n: NormOp, _ x: Tensor<S>, _ tensors: [Tensor<S>]) -> Tensor<S> {
    var k = 0
    func next() -> [S] {
      defer { k += 1 }
      return tensors[k].data
    }
    let gamma = n.layer.scale ? next() : nil
    let beta = n.layer.center ? next() : nil
    let epsilon = S(n.layer.epsilon)
    switch n.kind {
    case .batch:
      let (mean, variance) = (next(), next())
      return Tensor(shape: x.shape, data: batchnorm(x.data, features: x.features, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon))
    case .layer:
      return Tensor(shape: x.shape, data: layernorm(x.data, features: x.features, gamma: gamma, beta: beta, epsilon: epsilon))
    }
  }

  /// The per-channel scale and shift of a batchnorm, in this order:
  /// `s = gamma / sqrt(variance + eps)` (1 for gamma with `scale no`), `t = beta - mean * s`
  /// (0 for beta with `center no`).
  static func batchnormAffine<S: InterpreterScalar>(
    gamma: S?, beta: S?, mean: S, variance: S, epsilon: S
  ) -> (s: S, t: S) {
    let s = (gamma ?? 1) / (variance + epsilon).squareRoot()
    let t = (beta ?? 0) - mean * s
    return (s, t)
  }

  /// `y = x * s + t` per channel, s and t as `batchnormAffine` computes them.
  static func batchnorm<S: InterpreterScalar>(
    _ x: [S], features c: Int, gamma: [S]?, beta: [S]?, mean: [S], variance: [S], epsilon: S
  ) -> [S] {
    var y = x
    for r in 0..<(c == 0 ? 0 : x.count / c) {
      for i in 0..<c {
        let (s, t) = batchnormAffine(gamma: gamma?[i], beta: beta?[i], mean: mean[i], variance: variance[i], epsilon: epsilon)
        y[r * c + i] = x[r * c + i] * s + t
      }
    }
    return y
  }

  /// Per row of c features: `mu = (Σ x) / c`, `var = (Σ (x - mu)²) / c` (biased), both summed
  /// from the first feature up; then `y = (x - mu) / sqrt(var + eps)`, times gamma, plus beta.
  static func layernorm<S: InterpreterScalar>(_ x: [S], features c: Int, gamma: [S]?, beta: [S]?, epsilon: S) -> [S] {
    var y = x
    for r in 0..<(c == 0 ? 0 : x.count / c) {
      let row = r * c
      var sum: S = 0
      for i in 0..<c { sum += x[row + i] }
      let mu = sum / S(c)
      var squares: S = 0
      for i in 0..<c {
        let d = x[row + i] - mu
        squares += d * d
      }
      let root = (squares / S(c) + epsilon).squareRoot()
      for i in 0..<c {
        var v = (x[row + i] - mu) / root
        if let gamma { v = v * gamma[i] }
        if let beta { v = v + beta[i] }
        y[row + i] = v
      }
    }
    return y
  }
}
