// C for `batchnorm` and `layernorm`: one call per row (one step of one sequence), to a kernel
// that computes what Interpreter/Normalisation.swift computes, in the same order. The tensors
// are the op's parameter operands; a tensor the layer does not have (`scale no`, `center no`)
// is passed as NULL.

extension CKernels {
  static let batchnorm = CKernels(rawValue: 1 << 20)
  static let layernorm = CKernels(rawValue: 1 << 21)
}

extension CVectorCode {
  /// `dest = norm(x)` for `rows` rows of x, `ld` apart.
  mutating func emitNorm(
    _ n: NormOp, operands: [CValue], dest: String, features: Int, rows: String, ld: String, w: inout CWriter
  ) {
    precondition(operands.count == 1 + n.parameterNames.count, "\(n.mnemonic) '\(n.layer.name)' has no tensor operands")
    var k = 1
    func next(_ present: Bool) -> String {
      guard present else { return "NULL" }
      defer { k += 1 }
      return operands[k].pointer
    }
    var arguments = [next(n.layer.scale), next(n.layer.center)]
    if n.kind == .batch { arguments += [next(true), next(true)] }
    arguments.append(literal(n.layer.epsilon))
    kernels.insert(n.kind == .batch ? .batchnorm : .layernorm)
    let kernel = iface.names.global(n.kind.keyword)
    let rest = arguments.joined(separator: ", ")
    let x = operands[0].pointer
    if rows == "1" {
      w.line("\(kernel)(\(dest), \(x), \(features), \(rest));")
    } else {
      w.line("for (size_t b = 0; b < \(rows); b++) \(kernel)(\(dest) + (size_t)b * \(features), \(x) + (size_t)b * \(ld), \(features), \(rest));")
    }
  }
}

enum CNormalisation {
  /// Every multiply and add rounded on its own, as the interpreter computes them. clang contracts
  /// `a * b + c` within an expression by default, and folds such a contraction exactly when the
  /// tensors are compiled-in constants (`beta - mean * s`), one ulp away from the interpreter.
  static func noContraction(_ w: inout CWriter) {
    w.line("#if defined(__clang__)")
    w.line("#pragma STDC FP_CONTRACT OFF")
    w.line("#endif")
  }

  /// The kernels the module uses, after the prelude's others.
  static func emitKernels(_ kernels: CKernels, names: CNames, precision: Precision, into w: inout CWriter) {
    let real = precision == .f32 ? "float" : "double"
    let sqrt = precision == .f32 ? "sqrtf" : "sqrt"
    let (zero, one) = (CLiteral.real(0, precision), CLiteral.real(1, precision))
    if kernels.contains(.batchnorm) {
      w.comment(["batchnorm: y (n) = x (n) * s + t per channel, s = gamma / sqrt(var + eps), t = beta - mean * s;",
                 "gamma and beta may be NULL (1 and 0). As the interpreter computes it: s, then t, then y."])
      w.block(
        "static void \(names.global("batchnorm"))(\(real) *y, const \(real) *x, size_t n, const \(real) *gamma, "
          + "const \(real) *beta, const \(real) *mean, const \(real) *var, \(real) eps)"
      ) { w in
        noContraction(&w)
        w.line("size_t i;")
        w.block("for (i = 0; i < n; i++)") { w in
          w.line("\(real) s = (gamma ? gamma[i] : \(one)) / \(sqrt)(var[i] + eps);")
          w.line("\(real) t = (beta ? beta[i] : \(zero)) - mean[i] * s;")
          w.line("y[i] = x[i] * s + t;")
        }
      }
      w.line()
    }
    if kernels.contains(.layernorm) {
      w.comment(["layernorm: y (n) = (x - mu) / sqrt(var + eps) * gamma + beta, mu and the biased var over the",
                 "n values, each summed from i = 0 up; gamma and beta may be NULL. y may alias x."])
      w.block(
        "static void \(names.global("layernorm"))(\(real) *y, const \(real) *x, size_t n, const \(real) *gamma, "
          + "const \(real) *beta, \(real) eps)"
      ) { w in
        noContraction(&w)
        w.line("size_t i;")
        w.line("\(real) sum = \(zero), squares = \(zero), mu, root;")
        w.line("for (i = 0; i < n; i++) sum += x[i];")
        w.line("mu = sum / (\(real))n;")
        w.line("for (i = 0; i < n; i++) { \(real) d = x[i] - mu; squares += d * d; }")
        w.line("root = \(sqrt)(squares / (\(real))n + eps);")
        w.block("for (i = 0; i < n; i++)") { w in
          w.line("\(real) v = (x[i] - mu) / root;")
          w.line("if (gamma) v = v * gamma[i];")
          w.line("if (beta) v = v + beta[i];")
          w.line("y[i] = v;")
        }
      }
      w.line()
    }
  }
}
