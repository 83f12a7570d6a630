// The arithmetic of each op, on rows of numbers. The C prelude uses the same formulas in the same
// order (a dot product summed from k = 0 up, the bias added last), so f64 results agree closely.

enum Kernels {
  /// `y[r, n] = sum_k W[n, k] x[r, k] + b[n]` for every row r of x.
  static func linear<S: InterpreterScalar>(_ x: [S], rows: Int, k: Int, weight: [S], n: Int, bias: [S]?) -> [S] {
    precondition(x.count >= rows * k && weight.count >= n * k && (bias?.count ?? n) >= n)
    var y = [S](repeating: 0, count: rows * n)
    // Unchecked indexing (the sizes are checked above): training runs this in its inner loops.
    y.withUnsafeMutableBufferPointer { y in
      x.withUnsafeBufferPointer { x in
        weight.withUnsafeBufferPointer { w in
          for r in 0..<rows {
            let xr = x.baseAddress! + r * k
            var i = 0
            // Four outputs at a time: four independent sums (each still from j = 0 up) keep the
            // processor busy where one sum would wait on each addition.
            while i + 4 <= n {
              let (w0, w1, w2, w3) = (w.baseAddress! + i * k, w.baseAddress! + (i + 1) * k, w.baseAddress! + (i + 2) * k, w.baseAddress! + (i + 3) * k)
              var (a0, a1, a2, a3): (S, S, S, S) = (0, 0, 0, 0)
              for j in 0..<k {
                let v = xr[j]
                a0 += w0[j] * v
                a1 += w1[j] * v
                a2 += w2[j] * v
                a3 += w3[j] * v
              }
              for (q, acc) in [a0, a1, a2, a3].enumerated() { y[r * n + i + q] = bias.map { acc + $0[i + q] } ?? acc }
              i += 4
            }
            while i < n {
              var acc: S = 0
              for j in 0..<k { acc += w[i * k + j] * xr[j] }
              y[r * n + i] = bias.map { acc + $0[i] } ?? acc
              i += 1
            }
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
            for i in 0..<n {
              let d = dy[r * n + i]
              for j in 0..<k { dx[r * k + j] += d * w[i * k + j] }
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
          for r in 0..<rows {
            for i in 0..<n {
              let d = dy[r * n + i]
              for j in 0..<k { dw[i * k + j] += d * x[r * k + j] }
            }
          }
        }
      }
    }
    return dw
  }

  static func sigmoid<S: InterpreterScalar>(_ x: S) -> S { 1 / (1 + S.exponential(-x)) }

  /// One element of an elementwise activation (not softmax), by ONNX's definitions. The C prelude
  /// writes each formula the same way.
  static func activate<S: InterpreterScalar>(_ a: Activation, _ x: S) -> S {
    switch a {
    case .identity, .softmax: return x
    case .sigmoid: return sigmoid(x)
    case .tanh: return S.hyperbolicTangent(x)
    case .relu: return x > 0 ? x : 0
    case .hardSigmoid(let alpha, let beta):
      let v = S(alpha) * x + S(beta)
      return v < 0 ? 0 : (v > 1 ? 1 : v)
    case .leakyRelu(let alpha): return x >= 0 ? x : S(alpha) * x
    case .thresholdedRelu(let alpha): return x >= S(alpha) ? x : 0
    case .scaledTanh(let alpha, let beta): return S(alpha) * S.hyperbolicTangent(S(beta) * x)
    case .affine(let alpha, let beta): return S(alpha) * x + S(beta)
    case .elu(let alpha): return x >= 0 ? x : S(alpha) * (S.exponential(x) - 1)
    case .softsign: return x / (1 + (x < 0 ? -x : x))
    // log(1 + e^x) without overflow: x + log1p(e^-x) for positive x.
    case .softplus: return x > 0 ? x + S.logOnePlus(S.exponential(-x)) : S.logOnePlus(S.exponential(x))
    case .clip(let c): return x < S(-c) ? S(-c) : (x > S(c) ? S(c) : x)
    }
  }

  static func apply<S: InterpreterScalar>(_ a: Activation, _ x: [S], features: Int) -> [S] {
    switch a {
    case .identity: return x
    case .sigmoid, .tanh, .relu, .hardSigmoid, .leakyRelu, .thresholdedRelu, .scaledTanh, .affine, .elu, .softsign,
      .softplus, .clip:
      return x.map { activate(a, $0) }
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
    }
  }

  /// `dx = f'(x) · dy`, element by element (softmax: `y · (dy − Σ dy·y)` per row of `features`).
  static func activationGradient<S: InterpreterScalar>(_ a: Activation, _ x: [S], _ dy: [S], features: Int) -> [S] {
    if case .softmax = a {
      let y = apply(a, x, features: features)
      var dx = [S](repeating: 0, count: x.count)
      for r in 0..<(features == 0 ? 0 : x.count / features) {
        let row = (r * features)..<((r + 1) * features)
        var dot: S = 0
        for i in row { dot += dy[i] * y[i] }
        for i in row { dx[i] = y[i] * (dy[i] - dot) }
      }
      return dx
    }
    return x.indices.map { derivative(a, x[$0]) * dy[$0] }
  }

  /// f'(x) of an elementwise activation. At the kinks of relu, clip, hard-sigmoid and the
  /// thresholds the derivative of the side the forward formula takes is used.
  static func derivative<S: InterpreterScalar>(_ a: Activation, _ x: S) -> S {
    switch a {
    case .identity, .softmax: return 1
    case .sigmoid:
      let y = sigmoid(x)
      return y * (1 - y)
    case .tanh:
      let y = S.hyperbolicTangent(x)
      return 1 - y * y
    case .relu: return x > 0 ? 1 : 0
    case .hardSigmoid(let alpha, let beta):
      let v = S(alpha) * x + S(beta)
      return v < 0 || v > 1 ? 0 : S(alpha)
    case .leakyRelu(let alpha): return x >= 0 ? 1 : S(alpha)
    case .thresholdedRelu(let alpha): return x >= S(alpha) ? 1 : 0
    case .scaledTanh(let alpha, let beta):
      let y = S.hyperbolicTangent(S(beta) * x)
      return S(alpha) * S(beta) * (1 - y * y)
    case .affine(let alpha, _): return S(alpha)
    case .elu(let alpha): return x >= 0 ? 1 : S(alpha) * S.exponential(x)
    case .softsign:
      let d = 1 + (x < 0 ? -x : x)
      return 1 / (d * d)
    case .softplus: return sigmoid(x)
    case .clip(let c): return x < S(-c) || x > S(c) ? 0 : 1
    }
  }

  /// `z * a + (1 - z) * b`
  static func blend<S: InterpreterScalar>(_ z: S, _ a: S, _ b: S) -> S { z * a + (1 - z) * b }
}
