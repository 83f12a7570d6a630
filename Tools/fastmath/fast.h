/* fast.h -- branch-free exp, sigmoid and tanh for grucc's fast activation mode.
 *
 * Portable C99 (also valid C++11); no libm, no tables, no pointer type-punning
 * (bit casts go through memcpy, which compilers turn into register moves).
 * Written so that clang and gcc auto-vectorise loops calling these functions
 * at -O3 without -ffast-math.  Accuracy holds with and without FMA
 * contraction (see REPORT.md for the measured errors).
 *
 * Method: n = rint(x/ln2) by the 1.5*2^m "magic number" trick, Cody-Waite
 * reduction r = x - n*ln2 (two-part ln2, n*LN2HI exact), |r| <= ln2/2, then
 * expm1(r) ~= r + r^2 P(r) with P a minimax polynomial (degree 4 for float,
 * 9 for double) fitted for relative error by fit.py; 2^n is built by shifting
 * the integer bits of the magic sum into the exponent field.
 *
 * Special values:
 *   fast_exp[f]:     overflows to +inf (x > ln(MAX)), +inf -> +inf, -inf -> +0,
 *                    gradual underflow to subnormals and then +0; NaN -> NaN.
 *   fast_sigmoid[f]: exactly 1 for large x (float x >= ~17, double >= ~37),
 *                    exactly +0 for very negative x (float x <= -88.4, double
 *                    x <= -709.4; results that would be subnormal near that
 *                    edge are flushed to 0), sigmoid(+-inf) = 1 / +0;  NaN -> NaN.
 *   fast_tanh[f]:    exactly odd (tanh(-x) == -tanh(x) bitwise), tanh(+-0) = +-0,
 *                    exactly +-1 for |x| >= 9.02 (float) / 19.07 (double); NaN -> NaN.
 * All NaN propagation is free: the clamps (min/max that keep a NaN operand)
 * keep a NaN, and every later step then yields NaN.
 */
#ifndef GRUCC_FAST_H
#define GRUCC_FAST_H

#include <stdint.h>
#include <string.h>

/* ---- bit casts (strict-aliasing safe) ---------------------------------- */
static inline uint32_t fastact_f2u(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
static inline float fastact_u2f(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }
static inline uint64_t fastact_d2u(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double fastact_u2d(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

/* Clamps that keep NaN: "x > hi ? hi : x".  Written as a mask select because
 * gcc (default -ftrapping-math) keeps a plain float ?: as a branch, PRE then
 * sinks the following arithmetic into it and the loop no longer vectorises.
 * clang compiles them to one vminps/vmaxps (pd), gcc to vminps/vmaxps for
 * float and vcmppd + blend for double. */
static inline float fastact_minf(float x, float hi)
{
    uint32_t m = 0u - (uint32_t)(x > hi);
    return fastact_u2f((fastact_f2u(x) & ~m) | (fastact_f2u(hi) & m));
}
static inline float fastact_maxf(float x, float lo)
{
    uint32_t m = 0u - (uint32_t)(x < lo);
    return fastact_u2f((fastact_f2u(x) & ~m) | (fastact_f2u(lo) & m));
}
static inline double fastact_mind(double x, double hi)
{
    uint64_t m = 0u - (uint64_t)(x > hi);
    return fastact_u2d((fastact_d2u(x) & ~m) | (fastact_d2u(hi) & m));
}
static inline double fastact_maxd(double x, double lo)
{
    uint64_t m = 0u - (uint64_t)(x < lo);
    return fastact_u2d((fastact_d2u(x) & ~m) | (fastact_d2u(lo) & m));
}

/* ---- float ------------------------------------------------------------- */
#define FASTACT_LOG2E_F 1.44269502f
#define FASTACT_MAGIC_F 12582912.0f      /* 1.5 * 2^23: x + MAGIC rounds x to an integer */
#define FASTACT_LN2HI_F 0.693145751953125f /* 15 significant bits: n*LN2HI exact for |n| < 512 */
#define FASTACT_LN2LO_F 1.42860677e-06f

/* expm1(r) for |r| <= ln2/2: r + r^2 P(r), P minimax (fit.py); rel. err 1.7e-8 */
static inline float fastact_expm1_poly_f(float r)
{
    float r2 = r * r;
    float a = 0.49999997f + 0.166665435f * r;
    float b = 0.0416672006f + 0.00836651959f * r;
    float p = a + r2 * (b + r2 * 0.00138825213f);
    return r + r2 * p;
}

/* Reduce x: returns r with x = n*ln2 + r and stores the magic sum t whose low
 * mantissa bits hold n (two's complement). */
static inline float fastact_reduce_f(float x, float *t_out)
{
    float t = x * FASTACT_LOG2E_F + FASTACT_MAGIC_F;
    float n = t - FASTACT_MAGIC_F;
    float r = x - n * FASTACT_LN2HI_F;
    *t_out = t;
    return r - n * FASTACT_LN2LO_F;
}

/* e^x, x clamped to [-104, 88.8]; 2^n is applied as 2^n1 * 2^n2 (n1 = floor(n/2))
 * so that results near overflow and in the subnormal range round once. */
static inline float fast_expf(float x)
{
    float t, r, p;
    uint32_t k, k1;
    x = fastact_minf(x, 88.8f);
    x = fastact_maxf(x, -104.0f);
    r = fastact_reduce_f(x, &t);
    p = 1.0f + fastact_expm1_poly_f(r);
    k = fastact_f2u(t) - 0x4B3FFF00u;   /* n + 256, in [106, 384] */
    k1 = k >> 1;                      /* n1 + 128 */
    return (p * fastact_u2f((k1 - 1u) << 23)) * fastact_u2f((k - k1 - 1u) << 23);
}

/* 1/(1+e^-x).  e^-x uses a single scale 2^n, n in [-126, 128]; n = 128 gives
 * +inf and hence an exact 0. */
static inline float fast_sigmoidf(float x)
{
    float y = -x, t, r, e;
    y = fastact_minf(y, 88.8f);
    y = fastact_maxf(y, -87.0f);
    r = fastact_reduce_f(y, &t);
    e = (1.0f + fastact_expm1_poly_f(r)) * fastact_u2f((fastact_f2u(t) + 127u) << 23);
    return 1.0f / (1.0f + e);
}

/* tanh|x| = E/(E+2), E = expm1(2|x|) = 2^n q + (2^n - 1): no cancellation near
 * 0, so the relative error stays small; the sign of x is OR-ed back in. */
static inline float fast_tanhf(float x)
{
    uint32_t xb = fastact_f2u(x);
    float a = fastact_u2f(xb & 0x7FFFFFFFu), t, r, q, s, em1;
    a = fastact_minf(a, 9.1f);
    r = fastact_reduce_f(a + a, &t);
    q = fastact_expm1_poly_f(r);
    s = fastact_u2f((fastact_f2u(t) + 127u) << 23);  /* 2^n, n in [0, 27] */
    em1 = s * q + (s - 1.0f);
    return fastact_u2f(fastact_f2u(em1 / (em1 + 2.0f)) | (xb & 0x80000000u));
}

/* ---- double ------------------------------------------------------------ */
#define FASTACT_LOG2E_D 1.4426950408889634
#define FASTACT_MAGIC_D 6755399441055744.0   /* 1.5 * 2^52 */
#define FASTACT_LN2HI_D 0.69314718036912382  /* 32 significant bits */
#define FASTACT_LN2LO_D 1.9082149292705877e-10

/* expm1(r) for |r| <= ln2/2: r + r^2 P(r), P degree 9 minimax; rel. err 3.5e-17 */
static inline double fastact_expm1_poly_d(double r)
{
    double r2 = r * r, r4 = r2 * r2;
    double a = 0.50000000000000056 + 0.16666666666666588 * r;
    double b = 0.041666666666576826 + 0.0083333333333895036 * r;
    double c = 0.0013888888931539269 + 0.00019841269719086515 * r;
    double d = 2.4801505306628675e-05 + 2.7557407501566062e-06 * r;
    double e = 2.7626024126242271e-07 + 2.5053776532754159e-08 * r;
    double p = (a + r2 * b) + r4 * ((c + r2 * d) + r4 * e);
    return r + r2 * p;
}

static inline double fastact_reduce_d(double x, double *t_out)
{
    double t = x * FASTACT_LOG2E_D + FASTACT_MAGIC_D;
    double n = t - FASTACT_MAGIC_D;
    double r = x - n * FASTACT_LN2HI_D;
    *t_out = t;
    return r - n * FASTACT_LN2LO_D;
}

/* e^x, x clamped to [-746, 709.9]; scale split as in fast_expf. */
static inline double fast_exp(double x)
{
    double t, r, p;
    uint64_t k, k1;
    x = fastact_mind(x, 709.9);
    x = fastact_maxd(x, -746.0);
    r = fastact_reduce_d(x, &t);
    p = 1.0 + fastact_expm1_poly_d(r);
    k = fastact_d2u(t) - UINT64_C(0x4337FFFFFFFFF800);   /* n + 2048 */
    k1 = k >> 1;
    return (p * fastact_u2d((k1 - 1u) << 52)) * fastact_u2d((k - k1 - 1u) << 52);
}

static inline double fast_sigmoid(double x)
{
    double y = -x, t, r, e;
    y = fastact_mind(y, 709.9);
    y = fastact_maxd(y, -708.0);
    r = fastact_reduce_d(y, &t);
    e = (1.0 + fastact_expm1_poly_d(r)) * fastact_u2d((fastact_d2u(t) + 1023u) << 52);
    return 1.0 / (1.0 + e);
}

static inline double fast_tanh(double x)
{
    uint64_t xb = fastact_d2u(x);
    double a = fastact_u2d(xb & UINT64_C(0x7FFFFFFFFFFFFFFF)), t, r, q, s, em1;
    a = fastact_mind(a, 19.5);
    r = fastact_reduce_d(a + a, &t);
    q = fastact_expm1_poly_d(r);
    s = fastact_u2d((fastact_d2u(t) + 1023u) << 52);  /* 2^n, n in [0, 56] */
    em1 = s * q + (s - 1.0);
    return fastact_u2d(fastact_d2u(em1 / (em1 + 2.0)) | (xb & UINT64_C(0x8000000000000000)));
}

#endif /* GRUCC_FAST_H */
