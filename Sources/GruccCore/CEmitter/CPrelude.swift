// The few static kernels the generated code calls, emitted only when used. Each has its
// contract in a comment, and computes exactly as the interpreter's Kernels do.

/// Which kernels a module needs.
struct CKernels: OptionSet {
  let rawValue: Int
  static let linear = CKernels(rawValue: 1)
  static let sigmoid = CKernels(rawValue: 2)
  static let softmax = CKernels(rawValue: 4)
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
