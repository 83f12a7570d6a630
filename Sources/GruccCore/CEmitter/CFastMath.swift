// The fast activation mode of the C backend: exp, sigmoid and tanh as short polynomials in
// plain C99 that clang and gcc vectorise without -ffast-math. The method and the measured
// errors are in Tools/fastmath/REPORT.md (Tools/fastmath/measure.c checks every float).
//
// exp(x) = 2^n · (1 + expm1(r)), x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, ln2 in two parts);
// expm1(r) = r + r²·P(r), P minimax (degree 4 for float, 9 for double); 2^n is built in the
// exponent bits. sigmoid(x) = 1 / (1 + e^-x); tanh|x| = E / (E + 2) with E = expm1(2|x|), sign
// restored. Clamps keep NaN, saturate to exact 0, 1 and ±1, and overflow exp to +inf.

/// How sigmoid, tanh and exp are computed, by the generated C and by the interpreter alike.
public enum ActivationMode: String, Sendable {
  /// CFastMath's polynomials (the interpreter's FastMath computes the same bits): the default.
  case fast
  /// The C library's expf/tanhf (exp/tanh for f64).
  case libm

  /// A mode by its command-line name; `exact`, the name of `libm` before `fast` became the
  /// default, is still accepted.
  public init?(name: String) {
    if name == "exact" { self = .libm } else { self.init(rawValue: name) }
  }
}

enum CFastMath {
  /// The kernels whose fast form uses this code.
  static let kernels: CKernels = [.sigmoid, .tanh, .scaledTanh, .elu]

  /// Maximum errors over all inputs (every float against double libm; for double a sweep of 10^8
  /// points against long-double libm), measured by Tools/fastmath/measure.c with and without
  /// FMA contraction: the worst of clang -march=native, -march=znver3 with -ffp-contract=off,
  /// on and fast, and x86-64.
  static func accuracy(_ precision: Precision) -> String {
    precision == .f32
      ? "sigmoid 8.9e-8, tanh 8.9e-8 (absolute), exp 8.6e-8 (relative), checked on every float"
      : "sigmoid 1.7e-16, tanh 1.7e-16 (absolute), exp 1.7e-16 (relative), on 10^8 doubles"
  }

  /// Emits the support code and the functions asked for, named `<model>_exp`, `<model>_sigmoid`
  /// and `<model>_tanh`.
  static func emit(exp: Bool, sigmoid: Bool, tanh: Bool, names: CNames, precision: Precision, into w: inout CWriter) {
    let f32 = precision == .f32
    var parts = [f32 ? supportF32 : supportF64]
    // Only exp and sigmoid clamp from below: with tanh alone the lower clamp would be an unused
    // static function, which -Wunused-function reports.
    if exp || sigmoid { parts.append(f32 ? maxF32 : maxF64) }
    if exp { parts.append(f32 ? expF32 : expF64) }
    if sigmoid { parts.append(f32 ? sigmoidF32 : sigmoidF64) }
    if tanh { parts.append(f32 ? tanhF32 : tanhF64) }
    for part in parts {
      let text = part.replacing("@m_", with: "\(names.symbol)_").replacing("@M_", with: "\(names.macro)_")
      for line in text.split(separator: "\n", omittingEmptySubsequences: false) { w.line(String(line)) }
      w.line()
    }
  }

  /// The file-scope names and macros the code below defines (after `@m_` / `@M_`), which CNames
  /// keeps free of the model's own names.
  static let helperNames: [String] = placeholders("@m_")
  static let macroNames: [String] = placeholders("@M_")

  private static func placeholders(_ marker: String) -> [String] {
    var found = Set<String>()
    for text in [supportF32, supportF64, maxF32, maxF64, expF32, expF64, sigmoidF32, sigmoidF64, tanhF32, tanhF64] {
      var rest = Substring(text)
      while let r = rest.range(of: marker) {
        let name = rest[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        found.insert(String(name))
        rest = rest[r.upperBound...]
      }
    }
    return found.sorted()
  }

  static let supportF32 = """
    /* Bit casts through memcpy (strict-aliasing safe; compilers turn them into register moves). */
    @M_INLINE uint32_t @m_f2u(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
    @M_INLINE float @m_u2f(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }

    /* Every multiply and add rounded on its own, as the interpreter (Interpreter/FastMath.swift)
     * computes them: a contraction into an FMA, which compilers make where they choose, would
     * change the last bits. clang honours the standard pragma; gcc ignores it (with a warning),
     * and contracts only in its GNU dialects, not under -std=c99. */
    #if defined(__clang__)
    #define @M_NO_CONTRACT _Pragma("STDC FP_CONTRACT OFF")
    #else
    #define @M_NO_CONTRACT
    #endif

    /* Clamps that keep NaN: "x > hi ? hi : x".  Written as a mask select because
     * gcc (default -ftrapping-math) keeps a plain float ?: as a branch, PRE then
     * sinks the following arithmetic into it and the loop no longer vectorises.
     * Both gcc and clang compile these to a single vminps/vmaxps. */
    @M_INLINE float @m_minf(float x, float hi) {
        uint32_t m = 0u - (uint32_t)(x > hi);
        return @m_u2f((@m_f2u(x) & ~m) | (@m_f2u(hi) & m));
    }
    #define @M_LOG2E_F 1.44269502f
    #define @M_MAGIC_F 12582912.0f      /* 1.5 * 2^23: x + MAGIC rounds x to an integer */
    #define @M_LN2HI_F 0.693145751953125f /* 15 significant bits: n*LN2HI exact for |n| < 512 */
    #define @M_LN2LO_F 1.42860677e-06f

    /* expm1(r) for |r| <= ln2/2: r + r^2 P(r), P minimax (Tools/fastmath/fit.py); rel. err 1.7e-8 */
    @M_INLINE float @m_expm1_poly_f(float r) {
        @M_NO_CONTRACT
        float r2 = r * r;
        float a = 0.49999997f + 0.166665435f * r;
        float b = 0.0416672006f + 0.00836651959f * r;
        float p = a + r2 * (b + r2 * 0.00138825213f);
        return r + r2 * p;
    }

    /* Reduce x: returns r with x = n*ln2 + r and stores the magic sum t whose low
     * mantissa bits hold n (two's complement). */
    @M_INLINE float @m_reduce_f(float x, float *t_out) {
        @M_NO_CONTRACT
        float t = x * @M_LOG2E_F + @M_MAGIC_F;
        float n = t - @M_MAGIC_F;
        float r = x - n * @M_LN2HI_F;
        *t_out = t;
        return r - n * @M_LN2LO_F;
    }
    """

  static let maxF32 = """
    /* The lower clamp, the same mask select as the upper one. */
    @M_INLINE float @m_maxf(float x, float lo) {
        uint32_t m = 0u - (uint32_t)(x < lo);
        return @m_u2f((@m_f2u(x) & ~m) | (@m_f2u(lo) & m));
    }
    """

  static let expF32 = """
    /* e^x, x clamped to [-104, 88.8]; 2^n is applied as 2^n1 * 2^n2 (n1 = floor(n/2))
     * so that results near overflow and in the subnormal range round once. */
    @M_INLINE float @m_exp(float x) {
        @M_NO_CONTRACT
        float t, r, p;
        uint32_t k, k1;
        x = @m_minf(x, 88.8f);
        x = @m_maxf(x, -104.0f);
        r = @m_reduce_f(x, &t);
        p = 1.0f + @m_expm1_poly_f(r);
        k = @m_f2u(t) - 0x4B3FFF00u;   /* n + 256, in [106, 384] */
        k1 = k >> 1;                      /* n1 + 128 */
        return (p * @m_u2f((k1 - 1u) << 23)) * @m_u2f((k - k1 - 1u) << 23);
    }
    """

  static let sigmoidF32 = """
    /* 1/(1+e^-x).  e^-x uses a single scale 2^n, n in [-126, 128]; n = 128 gives
     * +inf and hence an exact 0. */
    @M_INLINE float @m_sigmoid(float x) {
        @M_NO_CONTRACT
        float y = -x, t, r, e;
        y = @m_minf(y, 88.8f);
        y = @m_maxf(y, -87.0f);
        r = @m_reduce_f(y, &t);
        e = (1.0f + @m_expm1_poly_f(r)) * @m_u2f((@m_f2u(t) + 127u) << 23);
        return 1.0f / (1.0f + e);
    }
    """

  static let tanhF32 = """
    /* tanh|x| = E/(E+2), E = expm1(2|x|) = 2^n q + (2^n - 1): no cancellation near
     * 0, so the relative error stays small; the sign of x is OR-ed back in. */
    @M_INLINE float @m_tanh(float x) {
        @M_NO_CONTRACT
        uint32_t xb = @m_f2u(x);
        float a = @m_u2f(xb & 0x7FFFFFFFu), t, r, q, s, em1;
        a = @m_minf(a, 9.1f);
        r = @m_reduce_f(a + a, &t);
        q = @m_expm1_poly_f(r);
        s = @m_u2f((@m_f2u(t) + 127u) << 23);  /* 2^n, n in [0, 27] */
        em1 = s * q + (s - 1.0f);
        return @m_u2f(@m_f2u(em1 / (em1 + 2.0f)) | (xb & 0x80000000u));
    }
    """

  static let supportF64 = """
    /* Bit casts through memcpy (strict-aliasing safe; compilers turn them into register moves). */
    @M_INLINE uint64_t @m_d2u(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
    @M_INLINE double @m_u2d(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

    /* Every multiply and add rounded on its own, as the interpreter (Interpreter/FastMath.swift)
     * computes them: a contraction into an FMA, which compilers make where they choose, would
     * change the last bits. clang honours the standard pragma; gcc ignores it (with a warning),
     * and contracts only in its GNU dialects, not under -std=c99. */
    #if defined(__clang__)
    #define @M_NO_CONTRACT _Pragma("STDC FP_CONTRACT OFF")
    #else
    #define @M_NO_CONTRACT
    #endif

    /* Clamps that keep NaN: "x > hi ? hi : x".  Written as a mask select because
     * gcc (default -ftrapping-math) keeps a plain float ?: as a branch, PRE then
     * sinks the following arithmetic into it and the loop no longer vectorises.
     * Both gcc and clang compile these to a single vminps/vmaxps. */
    @M_INLINE double @m_mind(double x, double hi) {
        uint64_t m = 0u - (uint64_t)(x > hi);
        return @m_u2d((@m_d2u(x) & ~m) | (@m_d2u(hi) & m));
    }

    #define @M_LOG2E_D 1.4426950408889634
    #define @M_MAGIC_D 6755399441055744.0   /* 1.5 * 2^52 */
    #define @M_LN2HI_D 0.69314718036912382  /* 32 significant bits */
    #define @M_LN2LO_D 1.9082149292705877e-10

    /* expm1(r) for |r| <= ln2/2: r + r^2 P(r), P degree 9 minimax; rel. err 3.5e-17 */
    @M_INLINE double @m_expm1_poly_d(double r) {
        @M_NO_CONTRACT
        double r2 = r * r, r4 = r2 * r2;
        double a = 0.50000000000000056 + 0.16666666666666588 * r;
        double b = 0.041666666666576826 + 0.0083333333333895036 * r;
        double c = 0.0013888888931539269 + 0.00019841269719086515 * r;
        double d = 2.4801505306628675e-05 + 2.7557407501566062e-06 * r;
        double e = 2.7626024126242271e-07 + 2.5053776532754159e-08 * r;
        double p = (a + r2 * b) + r4 * ((c + r2 * d) + r4 * e);
        return r + r2 * p;
    }

    @M_INLINE double @m_reduce_d(double x, double *t_out) {
        @M_NO_CONTRACT
        double t = x * @M_LOG2E_D + @M_MAGIC_D;
        double n = t - @M_MAGIC_D;
        double r = x - n * @M_LN2HI_D;
        *t_out = t;
        return r - n * @M_LN2LO_D;
    }
    """

  static let maxF64 = """
    /* The lower clamp, the same mask select as the upper one. */
    @M_INLINE double @m_maxd(double x, double lo) {
        uint64_t m = 0u - (uint64_t)(x < lo);
        return @m_u2d((@m_d2u(x) & ~m) | (@m_d2u(lo) & m));
    }
    """

  static let expF64 = """
    /* e^x, x clamped to [-746, 709.9]; scale split as in @m_expf. */
    @M_INLINE double @m_exp(double x) {
        @M_NO_CONTRACT
        double t, r, p;
        uint64_t k, k1;
        x = @m_mind(x, 709.9);
        x = @m_maxd(x, -746.0);
        r = @m_reduce_d(x, &t);
        p = 1.0 + @m_expm1_poly_d(r);
        k = @m_d2u(t) - UINT64_C(0x4337FFFFFFFFF800);   /* n + 2048 */
        k1 = k >> 1;
        return (p * @m_u2d((k1 - 1u) << 52)) * @m_u2d((k - k1 - 1u) << 52);
    }
    """

  static let sigmoidF64 = """
    @M_INLINE double @m_sigmoid(double x) {
        @M_NO_CONTRACT
        double y = -x, t, r, e;
        y = @m_mind(y, 709.9);
        y = @m_maxd(y, -708.0);
        r = @m_reduce_d(y, &t);
        e = (1.0 + @m_expm1_poly_d(r)) * @m_u2d((@m_d2u(t) + 1023u) << 52);
        return 1.0 / (1.0 + e);
    }
    """

  static let tanhF64 = """
    @M_INLINE double @m_tanh(double x) {
        @M_NO_CONTRACT
        uint64_t xb = @m_d2u(x);
        double a = @m_u2d(xb & UINT64_C(0x7FFFFFFFFFFFFFFF)), t, r, q, s, em1;
        a = @m_mind(a, 19.5);
        r = @m_reduce_d(a + a, &t);
        q = @m_expm1_poly_d(r);
        s = @m_u2d((@m_d2u(t) + 1023u) << 52);  /* 2^n, n in [0, 56] */
        em1 = s * q + (s - 1.0);
        return @m_u2d(@m_d2u(em1 / (em1 + 2.0)) | (xb & UINT64_C(0x8000000000000000)));
    }
    """
}
