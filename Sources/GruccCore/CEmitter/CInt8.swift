// `weights-storage int8` in the C: the weight arrays (int8 in groups of 16 rows, column pairs
// interleaved, and a float scale per row) and the product kernel, which computes exactly what
// Int8Product computes in the interpreter.

enum CInt8 {
  /// Columns rounded up to whole pairs: the kernels multiply pairs of int16 (vpdpwssd, pmaddwd).
  static func pairedColumns(_ k: Int) -> Int { (k + 1) / 2 * 2 }

  /// Rows rounded up to whole groups (zero rows pad the last).
  static func groupedRows(_ n: Int) -> Int { (n + Int8Product.group - 1) / Int8Product.group * Int8Product.group }

  /// Bytes of a matrix as stored: the int8 values, padding included, and a float scale per row.
  static func bytes(rows: Int, columns: Int) -> Int { groupedRows(rows) * pairedColumns(columns) + 4 * rows }

  /// The scale array of a weight array.
  static func scaleName(_ weights: String) -> String { weights + "_scale" }

  /// W[g][j][l][e] holds row 16 g + l, column 2 j + e: one pair step of a group is 32 bytes, which
  /// widen to one AVX-512 register of int16 (or two AVX2 ones) against a broadcast pair of inputs.
  static func emitWeights(_ p: Parameter, name: String, _ w: inout CWriter) {
    guard let rows = p.int8 else { preconditionFailure("'\(p.name)' was not quantised") }
    let (n, k) = (p.shape[0], p.shape[1])
    let group = Int8Product.group
    let (np, kp) = (groupedRows(n), pairedColumns(k))
    var stored = [Int8](repeating: 0, count: np * kp)
    for o in 0..<n {
      let (g, l) = o.quotientAndRemainder(dividingBy: group)
      for j in 0..<k { stored[((g * (kp / 2) + j / 2) * group + l) * 2 + j % 2] = rows.q[o * k + j] }
    }
    w.comment([
      "\(p.name) \(n)x\(k): \(p.role);",
      "stored as int8 in groups of \(group) rows (\(np - n) zero rows, \(kp - k) zero columns of padding), column pairs interleaved",
    ])
    w.line("static const int8_t \(name)[\(stored.count)] = {")
    let perLine = 24
    var i = 0
    while i < stored.count {
      w.line("  " + stored[i..<min(i + perLine, stored.count)].map { String($0) + "," }.joined(separator: " "))
      i += perLine
    }
    w.line("};")
    w.line("static const float \(scaleName(name))[\(n)] = {")
    i = 0
    while i < n {
      w.line("  " + rows.scales[i..<min(i + 6, n)].map { CLiteral.real(Double($0), .f32) + "," }.joined(separator: " "))
      i += 6
    }
    w.line("};")
  }

  /// The call computing `rows` rows of y (ldy apart) from rows of x (ldx apart).
  static func call(
    _ names: CNames, dest: String, ldy: String, weights: String, bias: String?, x: String, ldx: String, rows: String,
    n: Int, k: Int
  ) -> String {
    let levels = CLiteral.real(Double(Int8Product.levels(k: k)), .f32)
    return "\(names.global("qlinear"))(\(dest), \(ldy), \(weights), \(scaleName(weights)), \(bias ?? "NULL"), "
      + "\(x), \(ldx), \(rows), \(n), \(k), \(levels));"
  }

  /// The kernel, for inputs of at most `maxK` values (its int16 copy of one input row is on the
  /// stack: StackPlan counts it).
  static func emitKernel(maxK: Int, names: CNames, into w: inout CWriter) {
    let m = names.macro
    let kp = pairedColumns(maxK)
    w.comment([
      "y = W x + b with int8 weights and int16 inputs (weights-storage int8), as the interpreter computes it",
      "(IR/Int8Product.swift): each row of x is quantised with one scale s = max|x| / L to integers rounded half",
      "to even by adding and subtracting 1.5 * 2^23 (the float operations are the interpreter's, none fused:",
      "clang is told not to contract, gcc contracts only in its GNU dialects); the sums are int32 and exact, so",
      "the AVX-512 VNNI, AVX2 and plain C loops below give the same sums; then y = (float)sum * s_w[row] * s + b.",
      "L keeps every sum within an int32 (32767 up to 516 inputs).",
    ])
    w.line("#if defined(__AVX512VNNI__) && defined(__AVX512BW__) || defined(__AVX2__)")
    w.line("#include <immintrin.h>")
    w.line("#endif")
    let signature = "\(m)_INLINE void \(names.global("qlinear"))(float *y, size_t ldy, const int8_t *W, const float *sw, "
      + "const float *b, const float *x, size_t ldx, size_t m, size_t n, size_t k, float levels)"
    w.block(signature) { w in
      w.line("#if defined(__clang__)")
      w.line("#pragma STDC FP_CONTRACT OFF")
      w.line("#endif")
      w.line("int16_t xq[\(kp)];")
      w.line("size_t pairs = (k + 1) / 2;")
      w.block("for (size_t r = 0; r < m; r++)") { w in
        w.line("const float *xr = x + r * ldx;")
        w.line("float top = 0.0f, inverse = 0.0f, s = 0.0f;")
        w.block("for (size_t j = 0; j < k; j++)") { w in
          w.line("float a = fabsf(xr[j]);")
          w.line("top = a > top ? a : top;")
        }
        w.block("if (top > 1e-30f)") { w in
          w.line("inverse = levels / top;")
          w.line("s = top / levels;")
        }
        w.line("for (size_t j = 0; j < k; j++) xq[j] = (int16_t)(int32_t)((xr[j] * inverse + 12582912.0f) - 12582912.0f);")
        w.line("if (k & 1u) xq[k] = 0;")
        w.block("for (size_t g = 0; g * 16u < n; g++)") { w in
          w.line("const int8_t *wg = W + g * pairs * 32u;")
          w.line("int32_t acc[16];")
          w.line("#if defined(__AVX512VNNI__) && defined(__AVX512BW__)")
          // Four sums per row, over every fourth pair, so that four vpdpwssd (or pmaddwd and
          // add) chains are in flight rather than one waiting on its own latency.
          w.line("__m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;")
          w.line("size_t j = 0;")
          w.block("for (; j + 4u <= pairs; j += 4u)") { w in
            w.line("int32_t p[4];")
            w.line("memcpy(p, xq + 2 * j, sizeof p);")
            w.line("const int8_t *wj = wg + j * 32u;")
            for u in 0..<4 {
              w.line("a\(u) = _mm512_dpwssd_epi32(a\(u), _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(wj + \(u * 32)u))), _mm512_set1_epi32(p[\(u)]));")
            }
          }
          w.block("for (; j < pairs; j++)") { w in
            w.line("int32_t pair;")
            w.line("memcpy(&pair, xq + 2 * j, sizeof pair);")
            w.line("a0 = _mm512_dpwssd_epi32(a0, _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(wg + j * 32u))), _mm512_set1_epi32(pair));")
          }
          w.line("_mm512_storeu_si512((void *)acc, _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));")
          w.line("#elif defined(__AVX2__)")
          w.line("__m256i a0 = _mm256_setzero_si256(), a1 = a0, b0 = a0, b1 = a0;")
          w.line("size_t j = 0;")
          w.block("for (; j + 2u <= pairs; j += 2u)") { w in
            w.line("int32_t p[2];")
            w.line("memcpy(p, xq + 2 * j, sizeof p);")
            w.line("const int8_t *wj = wg + j * 32u;")
            w.line("__m256i v0 = _mm256_set1_epi32(p[0]), v1 = _mm256_set1_epi32(p[1]);")
            w.line("a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)wj)), v0));")
            w.line("a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wj + 16u))), v0));")
            w.line("b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wj + 32u))), v1));")
            w.line("b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wj + 48u))), v1));")
          }
          w.block("for (; j < pairs; j++)") { w in
            w.line("int32_t pair;")
            w.line("memcpy(&pair, xq + 2 * j, sizeof pair);")
            w.line("__m256i v = _mm256_set1_epi32(pair);")
            w.line("a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wg + j * 32u))), v));")
            w.line("a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wg + j * 32u + 16u))), v));")
          }
          w.line("_mm256_storeu_si256((__m256i *)(void *)acc, _mm256_add_epi32(a0, b0));")
          w.line("_mm256_storeu_si256((__m256i *)(void *)(acc + 8), _mm256_add_epi32(a1, b1));")
          w.line("#else")
          w.line("for (size_t l = 0; l < 16u; l++) acc[l] = 0;")
          w.block("for (size_t j = 0; j < pairs; j++)") { w in
            w.line("int32_t x0 = xq[2 * j], x1 = xq[2 * j + 1];")
            w.line("const int8_t *wj = wg + j * 32u;")
            w.line("for (size_t l = 0; l < 16u; l++) acc[l] += (int32_t)wj[2 * l] * x0 + (int32_t)wj[2 * l + 1] * x1;")
          }
          w.line("#endif")
          w.line("size_t rows = n - g * 16u < 16u ? n - g * 16u : 16u;")
          // The same conversion (round to nearest), products and sum, sixteen at a time. (The
          // masked conversion: gcc 12's unmasked one warns as C++ of its own uninitialised value.)
          w.line("#if defined(__AVX512VNNI__) && defined(__AVX512BW__)")
          w.line("__mmask16 live = (__mmask16)((1u << rows) - 1u);")
          w.line("__m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_cvtepi32_ps(live, _mm512_loadu_si512((const void *)acc)), "
            + "_mm512_maskz_loadu_ps(live, sw + g * 16u)), _mm512_set1_ps(s));")
          w.line("if (b) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(live, b + g * 16u));")
          w.line("_mm512_mask_storeu_ps(y + r * ldy + g * 16u, live, v);")
          w.line("#else")
          w.block("for (size_t l = 0; l < rows; l++)") { w in
            w.line("float v = (float)acc[l] * sw[g * 16u + l] * s;")
            w.line("y[r * ldy + g * 16u + l] = b ? v + b[g * 16u + l] : v;")
          }
          w.line("#endif")
        }
      }
    }
    w.line()
  }
}
