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
  /// tanh as a kernel: only in the fast mode (the exact mode calls tanhf inline).
  static let tanh = CKernels(rawValue: 4096)
  static let l2norm = CKernels(rawValue: 8192)

  /// The kernel that computes an elementwise activation, and its C name's stem; nil for the ones
  /// written inline (identity, tanh, relu) and for the ones over the features (softmax, l2norm).
  static func of(_ a: Activation) -> (CKernels, String)? {
    switch a {
    case .identity, .tanh, .relu, .softmax, .l2norm: return nil
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
  /// Outputs per register block of the packed product: two 256-bit vectors of the precision.
  static func block(_ precision: Precision) -> Int { precision == .f32 ? 16 : 8 }

  /// The widest panel: its sums fill eight 256-bit registers, enough independent chains to keep
  /// the FMA units busy on one row.
  static func widestPanel(_ precision: Precision) -> Int { precision == .f32 ? 64 : 32 }

  /// Rows per register block of the packed product: 6 rows × 2 vectors of sums, plus the weights
  /// and one broadcast, fit the 16 vector registers of AVX2.
  static let blockRows = 6

  /// Columns of W per pass over a single row's sums (see emitPackedLinear).
  static let columnsPerPass = 4

  static func emit(
    _ kernels: CKernels, panels: [Int] = [], mode: ActivationMode = .fast, names: CNames, precision: Precision,
    element: WeightElement = .f32, int8Inputs: Int = 0, into w: inout CWriter
  ) {
    let real = precision == .f32 ? "float" : "double"
    let zero = CLiteral.real(0, precision)
    let fast = mode == .fast
    emitMacros(names: names, into: &w)
    if (element == .f16 || element == .bf16) && !panels.isEmpty { emitWiden(element, names: names, into: &w) }
    if int8Inputs > 0 { CInt8.emitKernel(maxK: int8Inputs, names: names, into: &w) }
    for panel in panels { emitPackedLinear(panel: panel, names: names, precision: precision, element: element, into: &w) }
    let one = CLiteral.real(1, precision)
    let libmExp = precision == .f32 ? "expf" : "exp"
    let exp = fast ? names.global("exp") : libmExp
    if kernels.contains(.linear) {
      w.comment(["y (n) = W (n, k) @ x (k) + b (n), W row-major; b may be NULL.",
                 "The sum runs from j = 0 up and the bias is added last, as in the interpreter."])
      w.block("static void \(names.global("linear"))(\(real) *y, const \(real) *W, const \(real) *b, const \(real) *x, size_t n, size_t k)") { w in
        w.line("size_t i, j;")
        w.block("for (i = 0; i < n; i++)") { w in
          w.line("\(real) acc = \(zero);")
          w.line("for (j = 0; j < k; j++) acc += W[i * k + j] * x[j];")
          w.line("y[i] = b ? acc + b[i] : acc;")
        }
      }
      w.line()
    }
    if fast && !kernels.isDisjoint(with: CFastMath.kernels) {
      CFastMath.emit(
        exp: kernels.contains(.elu), sigmoid: kernels.contains(.sigmoid),
        tanh: !kernels.isDisjoint(with: [.tanh, .scaledTanh]), names: names, precision: precision, into: &w)
    }
    if kernels.contains(.sigmoid) && !fast {
      w.comment(["sigmoid(x) = 1 / (1 + exp(-x))"])
      w.block("\(names.macro)_INLINE \(real) \(names.global("sigmoid"))(\(real) x)") { w in
        w.line("return \(one) / (\(one) + \(exp)(-x));")
      }
      w.line()
    }
    let fabs = precision == .f32 ? "fabsf" : "fabs"
    let expm1 = precision == .f32 ? "expm1f" : "expm1"
    let half = CLiteral.real(-0.5, precision)
    // exp(x) - 1 loses every digit as x goes to 0 (elu(-1e-30) was 0): expm1 near 0. Below -0.5
    // exp(x) < 0.61, so subtracting 1 costs at most a factor 1.6 of exp's error: the fast exp
    // keeps its speed there.
    let eluNegative = fast ? "(x > \(half) ? \(expm1)(x) : \(exp)(x) - \(one))" : "\(expm1)(x)"
    let log1p = precision == .f32 ? "log1pf" : "log1p"
    let tanh = fast ? names.global("tanh") : (precision == .f32 ? "tanhf" : "tanh")
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
      (.elu, "elu", ["alpha"], "elu(x) = x if x >= 0, else alpha * (exp(x) - 1), with expm1",
       ["return x >= \(zero) ? x : alpha * \(eluNegative);"]),
      (.softsign, "softsign", [], "softsign(x) = x / (1 + |x|)", ["return x / (\(one) + \(fabs)(x));"]),
      (.softplus, "softplus", [], "softplus(x) = log(1 + exp(x)), as x + log1p(exp(-x)) for x > 0 so it cannot overflow",
       ["return x > \(zero) ? x + \(log1p)(\(libmExp)(-x)) : \(log1p)(\(libmExp)(x));"]),
      (.clip, "clip", ["c"], "clip(x) = min(max(x, -c), c)", ["return x < -c ? -c : (x > c ? c : x);"]),
    ]
    for (kernel, stem, parameters, contract, body) in activations where kernels.contains(kernel) {
      w.comment([contract])
      let arguments = (["x"] + parameters).map { "\(real) \($0)" }.joined(separator: ", ")
      w.block("\(names.macro)_INLINE \(real) \(names.global(stem))(\(arguments))") { w in
        for line in body { w.line(line) }
      }
      w.line()
    }
    if kernels.contains(.softmax) {
      w.comment(["y (n) = softmax(x (n)) = exp(x - max x) / sum exp(x - max x); y may alias x."])
      w.block("static void \(names.global("softmax"))(\(real) *y, const \(real) *x, size_t n)") { w in
        w.line("size_t i;")
        w.line("\(real) m = x[0], sum = \(zero);")
        w.line("for (i = 1; i < n; i++) if (x[i] > m) m = x[i];")
        w.block("for (i = 0; i < n; i++)") { w in
          w.line("y[i] = \(libmExp)(x[i] - m);")
          w.line("sum += y[i];")
        }
        w.line("for (i = 0; i < n; i++) y[i] /= sum;")
      }
      w.line()
    }
    if kernels.contains(.l2norm) {
      let sqrt = precision == .f32 ? "sqrtf" : "sqrt"
      w.comment(["y (n) = x (n) / max(sqrt(sum x^2), eps); y may alias x. torch's F.normalize, summed from",
                 "i = 0 up as the interpreter sums."])
      w.block("static void \(names.global("l2norm"))(\(real) *y, const \(real) *x, size_t n, \(real) eps)") { w in
        w.line("size_t i;")
        w.line("\(real) sum = \(zero), norm;")
        w.line("for (i = 0; i < n; i++) sum += x[i] * x[i];")
        w.line("norm = \(sqrt)(sum);")
        w.line("if (norm < eps) norm = eps;")
        w.line("for (i = 0; i < n; i++) y[i] = x[i] / norm;")
      }
      w.line()
    }
    CNormalisation.emitKernels(kernels, names: names, precision: precision, into: &w)
    w.trimTrailingBlankLines()
  }

  /// The widening of a stored 16-bit weight to float, exact for every finite value.
  private static func emitWiden(_ element: WeightElement, names: CNames, into w: inout CWriter) {
    let widen = names.global("widen")
    switch element {
    case .f32, .int8: return
    case .bf16:
      w.comment(["bf16 -> float: the 16 bits are the float's high half."])
      w.block("\(names.macro)_INLINE float \(widen)(uint16_t h)") { w in
        w.line("uint32_t u = (uint32_t)h << 16;")
        w.line("float f;")
        w.line("memcpy(&f, &u, sizeof f);")
        w.line("return f;")
      }
    case .f16:
      w.comment([
        "f16 -> float, exactly. Where the hardware converts (x86 with F16C, aarch64), through _Float16;",
        "elsewhere (no _Float16, or no instruction for it: x86-64 without F16C, a Cortex-M4) by moving",
        "the exponent and mantissa bits to their float places, which makes the value times 2^-112 (an",
        "f16 subnormal becomes a float subnormal), and one multiplication by 2^112; then the sign.",
        "Both give the same float. Stored weights are finite. (A build that flushes float subnormals",
        "to zero, -ffast-math's DAZ, would zero the f16 subnormals on the second path.)",
      ])
      w.line("#if defined(__GNUC__) && defined(__FLT16_MAX__) && (defined(__F16C__) || defined(__aarch64__))")
      w.line("__extension__ typedef _Float16 \(names.global("half"));")
      w.block("\(names.macro)_INLINE float \(widen)(uint16_t h)") { w in
        w.line("\(names.global("half")) f;")
        w.line("memcpy(&f, &h, sizeof f);")
        w.line("return (float)f;")
      }
      w.line("#else")
      w.block("\(names.macro)_INLINE float \(widen)(uint16_t h)") { w in
        w.line("uint32_t u = (uint32_t)(h & 0x7FFFu) << 13;")
        w.line("float f;")
        w.line("memcpy(&f, &u, sizeof f);")
        w.line("f *= 5.192296858534828e33f;  /* 2^112 */")
        w.line("memcpy(&u, &f, sizeof u);")
        w.line("u |= (uint32_t)(h & 0x8000u) << 16;")
        w.line("memcpy(&f, &u, sizeof f);")
        w.line("return f;")
      }
      w.line("#endif")
    }
    w.line()
  }

  /// `<MODEL>_INLINE` and `<MODEL>_RESTRICT`, which the kernels and step functions are declared with.
  static func emitMacros(names: CNames, into w: inout CWriter) {
    let m = names.macro
    w.comment([
      "Kernels are inlined where they are called: a product is specialised to each call's sizes (10-20%",
      "faster, measured), and an activation leaves the loop that calls it free of calls, which gcc needs",
      "to vectorise it. A compiler without the attribute still gets the hint.",
    ])
    w.line("#if defined(__GNUC__)")
    w.line("#define \(m)_INLINE static inline __attribute__((always_inline))")
    w.line("#else")
    w.line("#define \(m)_INLINE static inline")
    w.line("#endif")
    w.comment([
      "The step functions' pointers never overlap; saying so lets gcc -O2 vectorise their loops without",
      "run-time overlap checks, which it does not add. C++ has no restrict: its compilers spell it __restrict.",
    ])
    w.line("#if !defined(__cplusplus)")
    w.line("#define \(m)_RESTRICT restrict")
    w.line("#elif defined(__GNUC__) || defined(_MSC_VER)")
    w.line("#define \(m)_RESTRICT __restrict")
    w.line("#else")
    w.line("#define \(m)_RESTRICT")
    w.line("#endif")
    w.line()
  }

  /// The product with panel-packed weights (PackWeights), for `m` rows at once.
  ///
  /// Its loops are shaped so that clang and gcc (at -O2 too) both vectorise them and keep the
  /// register block's sums in registers: each row's sums are a small array (a0..a5) that only one
  /// unit-stride loop of constant length touches, so once vectorised it is a register. An array
  /// indexed by a row number from an outer loop (`acc[q][l]`) stayed in memory under gcc: a load
  /// and a store per multiply-add.
  private static func emitPackedLinear(
    panel: Int, names: CNames, precision: Precision, element: WeightElement, into w: inout CWriter
  ) {
    let real = precision == .f32 ? "float" : "double"
    // Narrow weights are read as 16-bit values and widened to f32 (exactly) where they are used.
    let stored = element == .f32 ? real : "uint16_t"
    func weight(_ load: String) -> String { element == .f32 ? load : "\(names.global("widen"))(\(load))" }
    let zero = CLiteral.real(0, precision)
    let block = block(precision)
    let rows = blockRows
    let unroll = columnsPerPass
    let q = Array(0..<rows)
    w.comment([
      "y = x W^T + b for m rows: row r of y at y + r * ldy (n values), of x at x + r * ldx (k values).",
      "W is n x k in panels of \(panel) rows (n a multiple of \(panel)): W[p][j][l] holds row p * \(panel) + l, column j.",
      "Each output is summed from j = 0 up and the bias added last, as in the interpreter; the lanes",
      "of a panel are independent sums, so the loops vectorise without reassociating any sum.",
      "From \(rows) rows on, \(rows) rows at a time share each load of W (a register block of \(rows) x \(block) sums,",
      "a0..a\(rows - 1)); fewer rows go one by one, \(panel) sums at a time and \(unroll) columns per pass over them.",
    ] + (element == .f32 ? [] : ["W holds \(element.rawValue) values, widened to float as they are read; the sums are float."]))
    let signature = "\(names.macro)_INLINE void \(names.global("linear_p\(panel)"))(\(real) *y, size_t ldy, const \(stored) *W, const \(real) *b, "
      + "const \(real) *x, size_t ldx, size_t m, size_t n, size_t k)"
    w.block(signature) { w in
      w.block("for (size_t p = 0; p < n; p += \(panel))") { w in
        w.line("const \(stored) *wp = W + p * k;")
        w.line("size_t r = 0;")
        // From 6 rows on, blocks of 6; a last partial block repeats its last row (computed, not stored)
        // so that it still shares each load of W.
        w.block("if (m >= \(rows))") { w in
          w.block("for (; r < m; r += \(rows))") { w in
            w.line("size_t used = m - r < \(rows) ? m - r : \(rows);")
            w.line("const \(real) *x0 = x + r * ldx;")
            for i in q.dropFirst() {
              w.line("const \(real) *x\(i) = x + (\(i) < used ? r + \(i) : m - 1) * ldx;")
            }
            // Full blocks of `block` lanes, then the panel's last few lanes as a narrower block
            // (each a constant width, so no load reaches past the panel).
            let full = panel / block * block
            func emitBlock(width: Int, at column: String, _ w: inout CWriter) {
              w.line("\(real) " + q.map { "a\($0)[\(width)]" }.joined(separator: ", ") + ";")
              w.line("for (size_t l = 0; l < \(width); l++) { " + q.map { "a\($0)[l] = \(zero);" }.joined(separator: " ") + " }")
              w.block("for (size_t j = 0; j < k; j++)") { w in
                w.line("const \(stored) *wj = wp + j * \(panel) + \(column);")
                w.line("\(real) " + q.map { "v\($0) = x\($0)[j]" }.joined(separator: ", ") + ";")
                w.block("for (size_t l = 0; l < \(width); l++)") { w in
                  if element == .f32 {
                    for i in q { w.line("a\(i)[l] += wj[l] * v\(i);") }
                  } else {
                    w.line("\(real) wl = \(weight("wj[l]"));")
                    for i in q { w.line("a\(i)[l] += wl * v\(i);") }
                  }
                }
              }
              for i in q {
                let row = i == 0 ? "r" : "(r + \(i))"
                let store = "for (size_t l = 0; l < \(width); l++) y[\(row) * ldy + p + \(column) + l] = b ? a\(i)[l] + b[p + \(column) + l] : a\(i)[l];"
                w.line(i == 0 ? store : "if (\(i) < used) " + store)
              }
            }
            if full > 0 {
              w.block("for (size_t c = 0; c < \(full); c += \(block))") { w in emitBlock(width: block, at: "c", &w) }
            }
            if panel > full {
              w.block("/* the panel's last \(panel - full) lanes */") { w in emitBlock(width: panel - full, at: "\(full)", &w) }
            }
          }
        }
        // One row: the whole panel's sums in one array, updated by `unroll` columns per pass, so that
        // without unrolling (gcc -O2) its loads and stores are shared by `unroll` multiply-adds.
        // (Small arrays as in the block would be unrolled by gcc -O3 before it vectorises, for a
        // narrow panel, and then not vectorised: 3x slower at H = 16.)
        w.block("for (; r < m; r++)") { w in
          w.line("const \(real) *xr = x + r * ldx;")
          w.line("\(real) acc[\(panel)];")
          w.line("size_t j = 0;")
          w.line("for (size_t l = 0; l < \(panel); l++) acc[l] = \(zero);")
          // Once inlined, k is a constant and clang unrolls this loop fully when it is short (k = 50:
          // 12 passes), spilling the panel's sums: a 13 KB frame and a step 1.5x slower (measured
          // on a model with H = 50). Two passes per iteration keep the speed of longer panels.
          w.line("#if defined(__clang__)")
          w.line("#pragma clang loop unroll_count(2)")
          w.line("#endif")
          w.block("for (; j + \(unroll) <= k; j += \(unroll))") { w in
            w.line("const \(stored) *wj = wp + j * \(panel);")
            w.line("\(real) " + (0..<unroll).map { "v\($0) = xr[\($0 == 0 ? "j" : "j + \($0)")]" }.joined(separator: ", ") + ";")
            w.block("for (size_t l = 0; l < \(panel); l++)") { w in
              w.line("\(real) a = acc[l];")
              for u in 0..<unroll { w.line("a += \(weight("wj[\(u == 0 ? "" : "\(u * panel) + ")l]")) * v\(u);") }
              w.line("acc[l] = a;")
            }
          }
          w.block("for (; j < k; j++)") { w in
            w.line("\(real) xj = xr[j];")
            w.line("for (size_t l = 0; l < \(panel); l++) acc[l] += \(weight("wp[j * \(panel) + l]")) * xj;")
          }
          w.line("for (size_t l = 0; l < \(panel); l++) y[r * ldy + p + l] = b ? acc[l] + b[p + l] : acc[l];")
        }
      }
    }
    w.line()
  }
}
