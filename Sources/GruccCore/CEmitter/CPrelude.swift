// The few static kernels the generated code calls, emitted only when used. Each has its
// contract in a comment, and computes exactly as the interpreter's Kernels do.

/// Which kernels a module needs.
struct CKernels: OptionSet {
  let rawValue: Int
  static let linear = CKernels(rawValue: 1)
  static let sigmoid = CKernels(rawValue: 2)
  static let softmax = CKernels(rawValue: 4)
  static let hardSigmoid = CKernels(rawValue: 8)
  static let leakyRelu = CKernels(rawValue: 16)
  static let thresholdedRelu = CKernels(rawValue: 32)
  static let scaledTanh = CKernels(rawValue: 64)
  static let affine = CKernels(rawValue: 128)
  static let elu = CKernels(rawValue: 256)
  static let softsign = CKernels(rawValue: 512)
  static let softplus = CKernels(rawValue: 1024)
  static let clip = CKernels(rawValue: 2048)

  /// The kernel that computes an elementwise activation, and its C name's stem; nil for the ones
  /// written inline (identity, tanh, relu) and for softmax.
  static func of(_ a: Activation) -> (CKernels, String)? {
    switch a {
    case .identity, .tanh, .relu, .softmax: return nil
    case .sigmoid: return (.sigmoid, "sigmoid")
    case .hardSigmoid: return (.hardSigmoid, "hard_sigmoid")
    case .leakyRelu: return (.leakyRelu, "leaky_relu")
    case .thresholdedRelu: return (.thresholdedRelu, "thresholded_relu")
    case .scaledTanh: return (.scaledTanh, "scaled_tanh")
    case .affine: return (.affine, "affine")
    case .elu: return (.elu, "elu")
    case .softsign: return (.softsign, "softsign")
    case .softplus: return (.softplus, "softplus")
    case .clip: return (.clip, "clip")
    }
  }
}

enum CPrelude {
  static func emit(_ kernels: CKernels, names: CNames, precision: Precision, into w: inout CWriter) {
    let real = precision == .f32 ? "float" : "double"
    let zero = CLiteral.real(0, precision)
    let one = CLiteral.real(1, precision)
    let exp = precision == .f32 ? "expf" : "exp"
    if kernels.contains(.linear) {
      w.comment(["y (n) = W (n, k) @ x (k) + b (n), W row-major; b may be NULL.",
                 "The sum runs from j = 0 up and the bias is added last, as in the interpreter."])
      w.block("static void \(names.global("linear"))(\(real) *y, const \(real) *W, const \(real) *b, const \(real) *x, int n, int k)") { w in
        w.line("int i, j;")
        w.block("for (i = 0; i < n; i++)") { w in
          w.line("\(real) acc = \(zero);")
          w.line("for (j = 0; j < k; j++) acc += W[i * k + j] * x[j];")
          w.line("y[i] = b ? acc + b[i] : acc;")
        }
      }
      w.line()
    }
    if kernels.contains(.sigmoid) {
      w.comment(["sigmoid(x) = 1 / (1 + exp(-x))"])
      w.block("static \(real) \(names.global("sigmoid"))(\(real) x)") { w in
        w.line("return \(one) / (\(one) + \(exp)(-x));")
      }
      w.line()
    }
    let fabs = precision == .f32 ? "fabsf" : "fabs"
    let log1p = precision == .f32 ? "log1pf" : "log1p"
    let tanh = precision == .f32 ? "tanhf" : "tanh"
    // The elementwise activations of ONNX's recurrent operators, as the interpreter computes them.
    let activations: [(CKernels, String, [String], String, [String])] = [
      (.hardSigmoid, "hard_sigmoid", ["alpha", "beta"], "hard-sigmoid(x) = min(max(alpha * x + beta, 0), 1)",
       ["\(real) v = alpha * x + beta;", "return v < \(zero) ? \(zero) : (v > \(one) ? \(one) : v);"]),
      (.leakyRelu, "leaky_relu", ["alpha"], "leaky-relu(x) = x if x >= 0, else alpha * x",
       ["return x >= \(zero) ? x : alpha * x;"]),
      (.thresholdedRelu, "thresholded_relu", ["alpha"], "thresholded-relu(x) = x if x >= alpha, else 0",
       ["return x >= alpha ? x : \(zero);"]),
      (.scaledTanh, "scaled_tanh", ["alpha", "beta"], "scaled-tanh(x) = alpha * tanh(beta * x)",
       ["return alpha * \(tanh)(beta * x);"]),
      (.affine, "affine", ["alpha", "beta"], "affine(x) = alpha * x + beta", ["return alpha * x + beta;"]),
      (.elu, "elu", ["alpha"], "elu(x) = x if x >= 0, else alpha * (exp(x) - 1)",
       ["return x >= \(zero) ? x : alpha * (\(exp)(x) - \(one));"]),
      (.softsign, "softsign", [], "softsign(x) = x / (1 + |x|)", ["return x / (\(one) + \(fabs)(x));"]),
      (.softplus, "softplus", [], "softplus(x) = log(1 + exp(x)), as x + log1p(exp(-x)) for x > 0 so it cannot overflow",
       ["return x > \(zero) ? x + \(log1p)(\(exp)(-x)) : \(log1p)(\(exp)(x));"]),
      (.clip, "clip", ["c"], "clip(x) = min(max(x, -c), c)", ["return x < -c ? -c : (x > c ? c : x);"]),
    ]
    for (kernel, stem, parameters, contract, body) in activations where kernels.contains(kernel) {
      w.comment([contract])
      let arguments = (["x"] + parameters).map { "\(real) \($0)" }.joined(separator: ", ")
      w.block("static \(real) \(names.global(stem))(\(arguments))") { w in
        for line in body { w.line(line) }
      }
      w.line()
    }
    if kernels.contains(.softmax) {
      w.comment(["y (n) = softmax(x (n)) = exp(x - max x) / sum exp(x - max x); y may alias x."])
      w.block("static void \(names.global("softmax"))(\(real) *y, const \(real) *x, int n)") { w in
        w.line("int i;")
        w.line("\(real) m = x[0], sum = \(zero);")
        w.line("for (i = 1; i < n; i++) if (x[i] > m) m = x[i];")
        w.block("for (i = 0; i < n; i++)") { w in
          w.line("y[i] = \(exp)(x[i] - m);")
          w.line("sum += y[i];")
        }
        w.line("for (i = 0; i < n; i++) y[i] /= sum;")
      }
      w.line()
    }
    w.trimTrailingBlankLines()
  }
}
