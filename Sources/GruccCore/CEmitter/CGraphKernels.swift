// The products of the training C (CGraphProgram) as register-blocked static functions. The
// plain loops they replace read a weight with a stride or swept the whole of dW once per row, so
// they ran from memory; these hold a block of 4 rows × GR_LANES outputs in local arrays (the
// compilers keep them in vector registers) while the sum runs down its axis. Blocking changes
// only which sums are open at once: every output element still starts at 0 and adds its terms
// in index order, each product and sum rounded on its own, so f64 stays bit-equal to the
// interpreter. Plain C99 (restrict spelled for C++ too), no intrinsics, no allocation.

enum CGraphKernels {
  /// `GR_LANES`: one 64-byte vector of the precision (what an AVX-512 register, or four SSE
  /// ones, holds); measured best among 1, 2 and 4 vectors per row on the H = 128 model.
  /// `GR_RESTRICT`: C++ has no restrict.
  static func macros(f32: Bool) -> String {
    """
    #define GR_LANES \(f32 ? 16 : 8)
    #if !defined(__cplusplus)
    #define GR_RESTRICT restrict
    #elif defined(__GNUC__) || defined(_MSC_VER)
    #define GR_RESTRICT __restrict
    #else
    #define GR_RESTRICT
    #endif
    """
  }

  /// `wt[j][i] = w[i][j]` for an `[n][k]` w: the forward product reads it once per call so that
  /// its inner loop, over the outputs, runs along contiguous memory.
  static let transpose = """
    /* wt = the [k][n] transpose of the [n][k] matrix w. */
    static void gr_transpose(size_t n, size_t k, const gr_real *GR_RESTRICT w, gr_real *GR_RESTRICT wt) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < k; j++) wt[j * n + i] = w[i * k + j];
        }
    }
    """

  /// `y[r][i] = (Σ_j w[j][i]·x[r][j], j up) (+ bias[i])`, w `[k][n]` (contiguous along the
  /// outputs). Serves the forward product (w the transposed weight) and linear_grad_input
  /// (dx[r][j] = Σ_i dy[r][i]·W[i][j], W as stored), whose products commute exactly.
  static let linear = """
    /* y[r][i] = (sum over j, up, of w[j][i] * x[r][j]) + bias[i] (no bias when NULL), for r < rows. */
    static void gr_linear(size_t rows, size_t n, size_t k, const gr_real *GR_RESTRICT x, const gr_real *GR_RESTRICT w,
        const gr_real *GR_RESTRICT bias, gr_real *GR_RESTRICT y) {
        /* Bounds computed once: gcc's constant-propagated copies otherwise warn about tail loops. */
        size_t r = 0, blocked = n - n % GR_LANES;
        for (; r + 4 <= rows; r += 4) {
            const gr_real *x0 = x + r * k, *x1 = x0 + k, *x2 = x1 + k, *x3 = x2 + k;
            gr_real *y0 = y + r * n, *y1 = y0 + n, *y2 = y1 + n, *y3 = y2 + n;
            for (size_t i = 0; i < blocked; i += GR_LANES) {
                gr_real a0[GR_LANES], a1[GR_LANES], a2[GR_LANES], a3[GR_LANES];
                for (size_t v = 0; v < GR_LANES; v++) { a0[v] = 0; a1[v] = 0; a2[v] = 0; a3[v] = 0; }
                for (size_t j = 0; j < k; j++) {
                    const gr_real *wj = w + j * n + i;
                    gr_real b0 = x0[j], b1 = x1[j], b2 = x2[j], b3 = x3[j];
                    for (size_t v = 0; v < GR_LANES; v++) {
                        a0[v] += wj[v] * b0; a1[v] += wj[v] * b1; a2[v] += wj[v] * b2; a3[v] += wj[v] * b3;
                    }
                }
                if (bias) {
                    for (size_t v = 0; v < GR_LANES; v++) {
                        y0[i + v] = a0[v] + bias[i + v]; y1[i + v] = a1[v] + bias[i + v];
                        y2[i + v] = a2[v] + bias[i + v]; y3[i + v] = a3[v] + bias[i + v];
                    }
                } else {
                    for (size_t v = 0; v < GR_LANES; v++) { y0[i + v] = a0[v]; y1[i + v] = a1[v]; y2[i + v] = a2[v]; y3[i + v] = a3[v]; }
                }
            }
            for (size_t i = blocked; i < n; i++) {
                gr_real a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                for (size_t j = 0; j < k; j++) {
                    gr_real wj = w[j * n + i];
                    a0 += wj * x0[j]; a1 += wj * x1[j]; a2 += wj * x2[j]; a3 += wj * x3[j];
                }
                if (bias) { a0 = a0 + bias[i]; a1 = a1 + bias[i]; a2 = a2 + bias[i]; a3 = a3 + bias[i]; }
                y0[i] = a0; y1[i] = a1; y2[i] = a2; y3[i] = a3;
            }
        }
        /* The last rows one by one, every output's sum open in y. */
        for (; r < rows; r++) {
            gr_real *out = y + r * n;
            for (size_t i = 0; i < n; i++) out[i] = 0;
            for (size_t j = 0; j < k; j++) {
                gr_real b = x[r * k + j];
                for (size_t i = 0; i < n; i++) out[i] += w[j * n + i] * b;
            }
            if (bias) {
                for (size_t i = 0; i < n; i++) out[i] = out[i] + bias[i];
            }
        }
    }
    """

  /// `dw[i][j] = Σ_r dy[r][i]·x[r][j]`, r up: tiles of 8 × GR_LANES of dw in registers (8
  /// accumulators: more products per load of x than 4, still within the 16/32 vector registers)
  /// while r runs over a chunk of 64 rows; the columns' block is the outer loop, so its 64 rows
  /// of x stay in L1 across every tile of the block. A tile's sums are stored between chunks and
  /// picked up again, in the same order. Measured alone (3200 × 128 × 128, f32, clang -O3
  /// -march=native, one core): 70 GFLOP/s with 4-row tiles over 256-row chunks, 100 with these.
  static let linearWeight = """
    /* dw[i][j] = sum over r, up, of dy[r][i] * x[r][j]; dy is [rows][n], x [rows][k], dw [n][k]. */
    static void gr_linear_weight(size_t rows, size_t n, size_t k, const gr_real *GR_RESTRICT dy,
        const gr_real *GR_RESTRICT x, gr_real *GR_RESTRICT dw) {
        size_t eights = n - n % 8, blocked = k - k % GR_LANES;
        for (size_t e = 0; e < n * k; e++) dw[e] = 0;
        for (size_t start = 0; start < rows; start += 64) {
            size_t end = rows - start > 64 ? start + 64 : rows;
            for (size_t j = 0; j < blocked; j += GR_LANES) {
                for (size_t i = 0; i < eights; i += 8) {
                    gr_real *w = dw + i * k + j;
                    gr_real a0[GR_LANES], a1[GR_LANES], a2[GR_LANES], a3[GR_LANES];
                    gr_real a4[GR_LANES], a5[GR_LANES], a6[GR_LANES], a7[GR_LANES];
                    for (size_t v = 0; v < GR_LANES; v++) {
                        a0[v] = w[v]; a1[v] = w[k + v]; a2[v] = w[2 * k + v]; a3[v] = w[3 * k + v];
                        a4[v] = w[4 * k + v]; a5[v] = w[5 * k + v]; a6[v] = w[6 * k + v]; a7[v] = w[7 * k + v];
                    }
                    for (size_t r = start; r < end; r++) {
                        const gr_real *xr = x + r * k + j, *d = dy + r * n + i;
                        gr_real d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5], d6 = d[6], d7 = d[7];
                        for (size_t v = 0; v < GR_LANES; v++) {
                            gr_real xv = xr[v];
                            a0[v] += d0 * xv; a1[v] += d1 * xv; a2[v] += d2 * xv; a3[v] += d3 * xv;
                            a4[v] += d4 * xv; a5[v] += d5 * xv; a6[v] += d6 * xv; a7[v] += d7 * xv;
                        }
                    }
                    for (size_t v = 0; v < GR_LANES; v++) {
                        w[v] = a0[v]; w[k + v] = a1[v]; w[2 * k + v] = a2[v]; w[3 * k + v] = a3[v];
                        w[4 * k + v] = a4[v]; w[5 * k + v] = a5[v]; w[6 * k + v] = a6[v]; w[7 * k + v] = a7[v];
                    }
                }
                for (size_t i = eights; i < n; i++) {
                    for (size_t r = start; r < end; r++) {
                        gr_real d = dy[r * n + i];
                        for (size_t v = 0; v < GR_LANES; v++) dw[i * k + j + v] += d * x[r * k + j + v];
                    }
                }
            }
            for (size_t i = 0; i < n; i++) {
                for (size_t j = blocked; j < k; j++) {
                    for (size_t r = start; r < end; r++) dw[i * k + j] += dy[r * n + i] * x[r * k + j];
                }
            }
        }
    }
    """
}
