// The arithmetic of each op, on rows of numbers. The C prelude uses the same formulas in the same
// order (a dot product summed from k = 0 up, the bias added last), so f64 results agree closely.

enum Kernels {
  /// `y[r, n] = sum_k W[n, k] x[r, k] + b[n]` for every row r of x.
  static func linear<S: InterpreterScalar>(_ x: [S], rows: Int, k: Int, weight: [S], n: Int, bias: [S]?) -> [S] {
    precondition(x.count >= rows * k && weight.count >= n * k && (bias?.count ?? n) >= n)
    var y = [S](repeating: 0, count: rows * n)
    // Unchecked indexing (the sizes are checked above): training runs this in its inner loops.
    // With W transposed, a row of y is updated by contiguous rows of W^T, one x value at a time:
    // each output still sums its products from k = 0 up (then adds the bias), and the loop over
    // outputs vectorises.
    var transposed = [S](repeating: 0, count: k * n)
    transposed.withUnsafeMutableBufferPointer { t in
      weight.withUnsafeBufferPointer { w in
        for i in 0..<n { for j in 0..<k { t[j * n + i] = w[i * k + j] } }
      }
    }
    y.withUnsafeMutableBufferPointer { y in
      x.withUnsafeBufferPointer { x in
        transposed.withUnsafeBufferPointer { t in
          for r in 0..<rows {
            let out = y.baseAddress! + r * n
            var j = 0
            while j + 4 <= k {
              let (a0, a1, a2, a3) = (x[r * k + j], x[r * k + j + 1], x[r * k + j + 2], x[r * k + j + 3])
              let (t0, t1, t2, t3) = (t.baseAddress! + j * n, t.baseAddress! + (j + 1) * n, t.baseAddress! + (j + 2) * n, t.baseAddress! + (j + 3) * n)
              for i in 0..<n {
                var v = out[i]
                v += t0[i] * a0
                v += t1[i] * a1
                v += t2[i] * a2
                v += t3[i] * a3
                out[i] = v
              }
              j += 4
            }
            while j < k {
              let a = x[r * k + j]
              let tj = t.baseAddress! + j * n
              for i in 0..<n { out[i] += tj[i] * a }
              j += 1
            }
            if let bias { for i in 0..<n { out[i] = out[i] + bias[i] } }
          }
        }
      }
    }
    return y
  }

  /// `dx[r, j] = Σ_i dy[r, i] W[i, j]`, summed from i = 0 up.
  static func linearInput<S: InterpreterScalar>(_ dy: [S], rows: Int, n: Int, weight: [S], k: Int) -> [S] {
    precondition(dy.count >= rows * n && weight.count >= n * k)
    var dx = [S](repeating: 0, count: rows * k)
    dx.withUnsafeMutableBufferPointer { dx in
      dy.withUnsafeBufferPointer { dy in
        weight.withUnsafeBufferPointer { w in
          for r in 0..<rows {
            let out = dx.baseAddress! + r * k
            var i = 0
            // Four rows of W per pass over dx[r]: the same additions in the same order (i up, for
            // each j), with a quarter of the loads and stores of dx.
            while i + 4 <= n {
              let (d0, d1, d2, d3) = (dy[r * n + i], dy[r * n + i + 1], dy[r * n + i + 2], dy[r * n + i + 3])
              let (w0, w1, w2, w3) = (w.baseAddress! + i * k, w.baseAddress! + (i + 1) * k, w.baseAddress! + (i + 2) * k, w.baseAddress! + (i + 3) * k)
              for j in 0..<k {
                var v = out[j]
                v += d0 * w0[j]
                v += d1 * w1[j]
                v += d2 * w2[j]
                v += d3 * w3[j]
                out[j] = v
              }
              i += 4
            }
            while i < n {
              let d = dy[r * n + i]
              for j in 0..<k { out[j] += d * w[i * k + j] }
              i += 1
            }
          }
        }
      }
    }
    return dx
  }

  /// `dW[i, j] = Σ_r dy[r, i] x[r, j]`, summed from r = 0 up.
  static func linearWeight<S: InterpreterScalar>(_ x: [S], _ dy: [S], rows: Int, k: Int, n: Int) -> [S] {
    precondition(x.count >= rows * k && dy.count >= rows * n)
    var dw = [S](repeating: 0, count: n * k)
    dw.withUnsafeMutableBufferPointer { dw in
      x.withUnsafeBufferPointer { x in
        dy.withUnsafeBufferPointer { dy in
          var r = 0
          // Four rows of x per pass over dW: the same additions in the same order (r up, for each
          // element), with a quarter of the loads and stores of dW.
          while r + 4 <= rows {
            let (x0, x1, x2, x3) = (x.baseAddress! + r * k, x.baseAddress! + (r + 1) * k, x.baseAddress! + (r + 2) * k, x.baseAddress! + (r + 3) * k)
            for i in 0..<n {
              let (d0, d1, d2, d3) = (dy[r * n + i], dy[(r + 1) * n + i], dy[(r + 2) * n + i], dy[(r + 3) * n + i])
              let out = dw.baseAddress! + i * k
              for j in 0..<k {
                var v = out[j]
                v += d0 * x0[j]
                v += d1 * x1[j]
                v += d2 * x2[j]
                v += d3 * x3[j]
                out[j] = v
              }
            }
            r += 4
          }
          while r < rows {
            for i in 0..<n {
              let d = dy[r * n + i]
              for j in 0..<k { dw[i * k + j] += d * x[r * k + j] }
            }
            r += 1
          }
        }
      }
    }
    return dw
  }

  static func sigmoid<S: InterpreterScalar>(_ x: S, _ mode: ActivationMode) -> S {
    mode == .fast ? S.fastSigmoid(x) : 1 / (1 + S.exponential(-x))
  }

  static func tanh<S: InterpreterScalar>(_ x: S, _ mode: ActivationMode) -> S {
    mode == .fast ? S.fastTanh(x) : S.hyperbolicTangent(x)
  }

  /// e^x − 1 for elu's negative side. The fast C keeps expm1 near 0, where e^x − 1 would lose
  /// every digit, and uses its exp below −0.5, where subtracting 1 costs at most a factor 1.6.
  static func eluNegative<S: InterpreterScalar>(_ x: S, _ mode: ActivationMode) -> S {
    mode == .fast && !(x > -0.5) ? S.fastExponential(x) - 1 : S.exponentialMinusOne(x)
  }

  /// One element of an elementwise activation (not softmax or l2norm), by ONNX's definitions. The C prelude
  /// writes each formula the same way; sigmoid, tanh and exp by `mode`, as the C of that mode.
  static func activate<S: InterpreterScalar>(_ a: Activation, _ x: S, _ mode: ActivationMode) -> S {
    switch a {
    case .identity, .softmax, .l2norm: return x
    case .sigmoid: return sigmoid(x, mode)
    case .tanh: return tanh(x, mode)
    case .relu: return x > 0 ? x : 0
    case .hardSigmoid(let alpha, let beta):
      let v = S(alpha) * x + S(beta)
      return v < 0 ? 0 : (v > 1 ? 1 : v)
    case .leakyRelu(let alpha): return x >= 0 ? x : S(alpha) * x
    case .thresholdedRelu(let alpha): return x >= S(alpha) ? x : 0
    case .scaledTanh(let alpha, let beta): return S(alpha) * tanh(S(beta) * x, mode)
    case .affine(let alpha, let beta): return S(alpha) * x + S(beta)
    case .elu(let alpha): return x >= 0 ? x : S(alpha) * eluNegative(x, mode)
    case .softsign: return x / (1 + (x < 0 ? -x : x))
    // log(1 + e^x) without overflow: x + log1p(e^-x) for positive x.
    case .softplus: return x > 0 ? x + S.logOnePlus(S.exponential(-x)) : S.logOnePlus(S.exponential(x))
    case .clip(let c): return x < S(-c) ? S(-c) : (x > S(c) ? S(c) : x)
    }
  }

  static func apply<S: InterpreterScalar>(_ a: Activation, _ x: [S], features: Int, mode: ActivationMode) -> [S] {
    switch a {
    case .identity: return x
    case .sigmoid, .tanh, .relu, .hardSigmoid, .leakyRelu, .thresholdedRelu, .scaledTanh, .affine, .elu, .softsign,
      .softplus, .clip:
      return x.map { activate(a, $0, mode) }
    case .softmax:
      var y = x
      for r in 0..<(features == 0 ? 0 : x.count / features) {
        let row = (r * features)..<((r + 1) * features)
        var m = x[row.lowerBound]
        for i in row where x[i] > m { m = x[i] }
        var sum: S = 0
        for i in row {
          y[i] = S.exponential(x[i] - m)
          sum += y[i]
        }
        for i in row { y[i] /= sum }
      }
      return y
    case .l2norm(let epsilon):
      var y = x
      for r in 0..<(features == 0 ? 0 : x.count / features) {
        let row = (r * features)..<((r + 1) * features)
        let norm = l2normDivisor(x[row], epsilon: epsilon)
        for i in row { y[i] = x[i] / norm }
      }
      return y
    }
  }

  /// `max(sqrt(Σ x²), epsilon)`, summed from the first element up as the C kernel sums.
  static func l2normDivisor<S: InterpreterScalar>(_ x: ArraySlice<S>, epsilon: Double) -> S {
    var sum: S = 0
    for v in x { sum += v * v }
    let norm = sum.squareRoot()
    return norm < S(epsilon) ? S(epsilon) : norm
  }

  /// `dx = f'(x) · dy`, element by element (softmax: `y · (dy − Σ dy·y)` per row of `features`;
  /// l2norm: `(dy − y · Σ dy·y) / ‖x‖` per row, or `dy / epsilon` where the norm is clamped, since
  /// the clamped divisor is a constant there).
  static func activationGradient<S: InterpreterScalar>(
    _ a: Activation, _ x: [S], _ dy: [S], features: Int, mode: ActivationMode
  ) -> [S] {
    if case .softmax = a {
      let y = apply(a, x, features: features, mode: mode)
      var dx = [S](repeating: 0, count: x.count)
      for r in 0..<(features == 0 ? 0 : x.count / features) {
        let row = (r * features)..<((r + 1) * features)
        var dot: S = 0
        for i in row { dot += dy[i] * y[i] }
        for i in row { dx[i] = y[i] * (dy[i] - dot) }
      }
      return dx
    }
    if case .l2norm(let epsilon) = a {
      var dx = [S](repeating: 0, count: x.count)
      for r in 0..<(features == 0 ? 0 : x.count / features) {
        let row = (r * features)..<((r + 1) * features)
        let norm = l2normDivisor(x[row], epsilon: epsilon)
        let clamped = !(norm > S(epsilon))
        var dot: S = 0
        if !clamped { for i in row { dot += dy[i] * (x[i] / norm) } }
        for i in row { dx[i] = clamped ? dy[i] / norm : (dy[i] - (x[i] / norm) * dot) / norm }
      }
      return dx
    }
    return x.indices.map { derivative(a, x[$0], mode) * dy[$0] }
  }

  /// f'(x) of an elementwise activation. At the kinks of relu, clip, hard-sigmoid and the
  /// thresholds the derivative of the side the forward formula takes is used. The derivatives
  /// are the exact functions' (written with the forward values of `mode`).
  static func derivative<S: InterpreterScalar>(_ a: Activation, _ x: S, _ mode: ActivationMode) -> S {
    switch a {
    case .identity, .softmax, .l2norm: return 1
    case .sigmoid:
      let y = sigmoid(x, mode)
      return y * (1 - y)
    case .tanh:
      let y = tanh(x, mode)
      return 1 - y * y
    case .relu: return x > 0 ? 1 : 0
    case .hardSigmoid(let alpha, let beta):
      let v = S(alpha) * x + S(beta)
      return v < 0 || v > 1 ? 0 : S(alpha)
    case .leakyRelu(let alpha): return x >= 0 ? 1 : S(alpha)
    case .thresholdedRelu(let alpha): return x >= S(alpha) ? 1 : 0
    case .scaledTanh(let alpha, let beta):
      let y = tanh(S(beta) * x, mode)
      return S(alpha) * S(beta) * (1 - y * y)
    case .affine(let alpha, _): return S(alpha)
    case .elu(let alpha): return x >= 0 ? 1 : S(alpha) * (mode == .fast ? S.fastExponential(x) : S.exponential(x))
    case .softsign:
      let d = 1 + (x < 0 ? -x : x)
      return 1 / (d * d)
    case .softplus: return sigmoid(x, mode)
    case .clip(let c): return x < S(-c) || x > S(c) ? 0 : 1
    }
  }

  /// `z * a + (1 - z) * b`
  static func blend<S: InterpreterScalar>(_ z: S, _ a: S, _ b: S) -> S { z * a + (1 - z) * b }
}
