/* measure.c -- error and speed of fast.h.
 *
 *   f32: exhaustive over all 2^32 bit patterns (NaN inputs only checked for
 *        NaN out, +-inf reported separately) against libm in double.
 *   f64: ~1e8 inputs per function (random uniform, log-uniform, random bit
 *        patterns, and dense sweeps around 0, the 2^n boundaries of the range
 *        reduction and the saturation / overflow / underflow points) against
 *        x87 long double libm (expl, tanhl).
 *   bench: ns per element, 4096-element arrays, fast vs libm.
 *
 * Build: cc -O3 -march=native measure.c -o measure -lm -lpthread
 * Run:   ./measure [f32] [f64] [bench]     (default: all three)
 * The fast functions are evaluated inside vectorised loops (as user code
 * would call them); the reference and the bookkeeping are scalar.
 */
#include "fast.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define CHUNK 4096

/* ---------------- vectorised evaluation loops ---------------- */
NOINLINE static void v_expf(int n, float *restrict y, const float *restrict x)
{ for (int i = 0; i < n; i++) y[i] = fast_expf(x[i]); }
NOINLINE static void v_sigmoidf(int n, float *restrict y, const float *restrict x)
{ for (int i = 0; i < n; i++) y[i] = fast_sigmoidf(x[i]); }
NOINLINE static void v_tanhf(int n, float *restrict y, const float *restrict x)
{ for (int i = 0; i < n; i++) y[i] = fast_tanhf(x[i]); }
NOINLINE static void v_exp(int n, double *restrict y, const double *restrict x)
{ for (int i = 0; i < n; i++) y[i] = fast_exp(x[i]); }
NOINLINE static void v_sigmoid(int n, double *restrict y, const double *restrict x)
{ for (int i = 0; i < n; i++) y[i] = fast_sigmoid(x[i]); }
NOINLINE static void v_tanh(int n, double *restrict y, const double *restrict x)
{ for (int i = 0; i < n; i++) y[i] = fast_tanh(x[i]); }

/* libm loops for the benchmark */
NOINLINE static void l_expf(int n, float *restrict y, const float *restrict x)
{ for (int i = 0; i < n; i++) y[i] = expf(x[i]); }
NOINLINE static void l_sigmoidf(int n, float *restrict y, const float *restrict x)
{ for (int i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); }
NOINLINE static void l_tanhf(int n, float *restrict y, const float *restrict x)
{ for (int i = 0; i < n; i++) y[i] = tanhf(x[i]); }
NOINLINE static void l_exp(int n, double *restrict y, const double *restrict x)
{ for (int i = 0; i < n; i++) y[i] = exp(x[i]); }
NOINLINE static void l_sigmoid(int n, double *restrict y, const double *restrict x)
{ for (int i = 0; i < n; i++) y[i] = 1.0 / (1.0 + exp(-x[i])); }
NOINLINE static void l_tanh(int n, double *restrict y, const double *restrict x)
{ for (int i = 0; i < n; i++) y[i] = tanh(x[i]); }

/* ---------------- error statistics ---------------- */
typedef struct {
    double maxabs, maxrel, maxulp;
    double at_abs, at_rel, at_ulp;   /* argmax inputs */
    long long n, nan_bad, ovf_bad;   /* count, NaN-in not NaN-out, overflow mismatches */
} stat_t;

static void stat_init(stat_t *s) { memset(s, 0, sizeof *s); }
static void stat_merge(stat_t *a, const stat_t *b)
{
    if (b->maxabs > a->maxabs) { a->maxabs = b->maxabs; a->at_abs = b->at_abs; }
    if (b->maxrel > a->maxrel) { a->maxrel = b->maxrel; a->at_rel = b->at_rel; }
    if (b->maxulp > a->maxulp) { a->maxulp = b->maxulp; a->at_ulp = b->at_ulp; }
    a->n += b->n; a->nan_bad += b->nan_bad; a->ovf_bad += b->ovf_bad;
}

/* ulp of the reference value in a format with `mant` fraction bits and minimum
 * normal exponent emin (ulp of subnormals is constant) */
static long double ulp_of(long double ref, int mant, int emin)
{
    int e;
    if (ref == 0) return ldexpl(1.0L, emin - mant);
    frexpl(fabsl(ref), &e);              /* |ref| in [2^(e-1), 2^e) */
    if (e - 1 < emin) e = emin + 1;
    return ldexpl(1.0L, e - 1 - mant);
}

/* one comparison; fmax is the largest finite value of the format, tiny the
 * smallest normal (relative error is only taken where |ref| >= tiny) */
static void stat_add(stat_t *s, double x, long double got, long double ref, int mant, int emin,
                     long double fmax, long double tiny)
{
    long double err, ulp;
    s->n++;
    if (fabsl(ref) > fmax * (1.0L + ldexpl(1.0L, -mant - 2))) { /* true result overflows */
        if (!isinf((double)got)) s->ovf_bad++;
        return;
    }
    if (isinf((double)got)) { s->ovf_bad++; return; }
    err = fabsl(got - ref);
    if (err > s->maxabs) { s->maxabs = (double)err; s->at_abs = x; }
    if (fabsl(ref) >= tiny && err / fabsl(ref) > s->maxrel) { s->maxrel = (double)(err / fabsl(ref)); s->at_rel = x; }
    if (fabsl(ref) < tiny) return;
    ulp = ulp_of(ref, mant, emin);
    if (err / ulp > s->maxulp) { s->maxulp = (double)(err / ulp); s->at_ulp = x; }
}

/* f32 version in double arithmetic (the exhaustive run does 1.3e10 of these):
 * ulp of the float format from the exponent of the double reference. */
static void stat_add32(stat_t *s, double x, double got, double ref)
{
    double err, ulp, aref = fabs(ref);
    uint64_t u;
    int e;
    s->n++;
    if (aref > (double)FLT_MAX * (1.0 + 0x1p-25)) { if (!isinf(got)) s->ovf_bad++; return; }
    if (isinf(got)) { s->ovf_bad++; return; }
    err = fabs(got - ref);
    if (err > s->maxabs) { s->maxabs = err; s->at_abs = x; }
    if (aref < FLT_MIN) return;                 /* rel and ulp only for normal results */
    if (err > s->maxrel * aref) { s->maxrel = err / aref; s->at_rel = x; }
    memcpy(&u, &aref, 8);
    e = (int)(u >> 52) - 1023;                  /* aref in [2^e, 2^(e+1)) */
    u = (uint64_t)(e - 23 + 1023) << 52;
    memcpy(&ulp, &u, 8);
    if (err > s->maxulp * ulp) { s->maxulp = err / ulp; s->at_ulp = x; }
}

static void stat_print(const char *name, const stat_t *s, int f32)
{
    printf("%-10s n=%-11lld maxabs=%.3e @ %-15.9g maxrel=%.3e @ %-15.9g maxulp=%.2f @ %-15.9g nan_bad=%lld ovf_bad=%lld\n",
           name, s->n, s->maxabs, s->at_abs, s->maxrel, s->at_rel, s->maxulp, s->at_ulp, s->nan_bad, s->ovf_bad);
    (void)f32;
}

/* ---------------- f32 exhaustive ---------------- */
static volatile unsigned long long f32_next;  /* next chunk start, atomically bumped */
typedef struct { stat_t s[3]; long long odd_bad; } f32_res_t;

static void *f32_worker(void *arg)
{
    f32_res_t *res = (f32_res_t *)arg;
    float x[CHUNK], ye[CHUNK], ys[CHUNK], yt[CHUNK], yn[CHUNK], xn[CHUNK];
    for (int k = 0; k < 3; k++) stat_init(&res->s[k]);
    res->odd_bad = 0;
    for (;;) {
        unsigned long long base = __atomic_fetch_add(&f32_next, CHUNK, __ATOMIC_RELAXED);
        if (base >= (1ull << 32)) break;
        for (int i = 0; i < CHUNK; i++) { uint32_t u = (uint32_t)(base + i); memcpy(&x[i], &u, 4); xn[i] = -x[i]; }
        v_expf(CHUNK, ye, x);
        v_sigmoidf(CHUNK, ys, x);
        v_tanhf(CHUNK, yt, x);
        v_tanhf(CHUNK, yn, xn);
        for (int i = 0; i < CHUNK; i++) {
            float xi = x[i];
            uint32_t a, b;
            memcpy(&a, &yt[i], 4); memcpy(&b, &yn[i], 4);
            if (isnan(xi)) {
                res->s[0].nan_bad += !isnan(ye[i]);
                res->s[1].nan_bad += !isnan(ys[i]);
                res->s[2].nan_bad += !isnan(yt[i]);
                continue;
            }
            if (a != (b ^ 0x80000000u)) res->odd_bad++;    /* tanh(-x) == -tanh(x) bitwise */
            if (isinf(xi)) continue;                        /* reported separately */
            double xd = xi, e = exp(xd);
            /* sigmoid = e/(1+e) = 1/(1+exp(-x)) (one exp; |x| < 2^128 so e/(1+e) is fine
               except when e overflows, where the double result is 1) */
            double sg = isinf(e) ? 1.0 : e / (1.0 + e);
            stat_add32(&res->s[0], xd, ye[i], e);
            stat_add32(&res->s[1], xd, ys[i], sg);
            stat_add32(&res->s[2], xd, yt[i], tanh(xd));
        }
    }
    return NULL;
}

static int nthreads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void run_f32(void)
{
    int nt = nthreads();
    pthread_t th[64];
    static f32_res_t res[64];
    stat_t tot[3];
    long long odd_bad = 0;
    const char *names[3] = {"expf", "sigmoidf", "tanhf"};
    float sp[5] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f}, ye[5], ys[5], yt[5];
    f32_next = 0;
    for (int t = 0; t < nt; t++) pthread_create(&th[t], NULL, f32_worker, &res[t]);
    for (int k = 0; k < 3; k++) stat_init(&tot[k]);
    for (int t = 0; t < nt; t++) {
        pthread_join(th[t], NULL);
        for (int k = 0; k < 3; k++) stat_merge(&tot[k], &res[t].s[k]);
        odd_bad += res[t].odd_bad;
    }
    printf("## f32 exhaustive (all 2^32 patterns; vs double libm; rel and ulp only where |ref| >= FLT_MIN)\n");
    for (int k = 0; k < 3; k++) stat_print(names[k], &tot[k], 1);
    printf("tanhf odd-symmetry violations (bitwise): %lld\n", odd_bad);
    v_expf(5, ye, sp); v_sigmoidf(5, ys, sp); v_tanhf(5, yt, sp);
    printf("special  x:      +inf  -inf  nan  +0  -0\n");
    printf("  expf     -> %g %g %g %g %g\n", ye[0], ye[1], ye[2], ye[3], ye[4]);
    printf("  sigmoidf -> %g %g %g %g %g\n", ys[0], ys[1], ys[2], ys[3], ys[4]);
    printf("  tanhf    -> %g %g %g %g %g\n", yt[0], yt[1], yt[2], yt[3], yt[4]);
}

/* ---------------- f64 sweep ---------------- */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double urand(uint64_t *s) { return (double)(splitmix(s) >> 11) * 0x1p-53; }

typedef struct {
    int fn;               /* 0 exp, 1 sigmoid, 2 tanh */
    int tid, nt;
    stat_t s;
} f64_job_t;

static long double ref64(int fn, double x)
{
    long double xl = x;
    if (fn == 0) return expl(xl);
    if (fn == 1) return 1.0L / (1.0L + expl(-xl));
    return tanhl(xl);
}

static void f64_batch(f64_job_t *j, const double *x, int n)
{
    double y[CHUNK];
    if (j->fn == 0) v_exp(n, y, x); else if (j->fn == 1) v_sigmoid(n, y, x); else v_tanh(n, y, x);
    for (int i = 0; i < n; i++) {
        if (isnan(x[i])) { j->s.nan_bad += !isnan(y[i]); continue; }
        stat_add(&j->s, x[i], y[i], ref64(j->fn, x[i]), 52, -1022, DBL_MAX, DBL_MIN);
    }
}

/* the inputs: generated per thread (thread tid takes every nt-th batch) */
static void *f64_worker(void *arg)
{
    f64_job_t *j = (f64_job_t *)arg;
    double x[CHUNK];
    uint64_t seed = 0x1234567ull + (uint64_t)j->tid * 7919 + (uint64_t)j->fn * 104729;
    /* function-specific interesting range */
    const double lo[3] = {-746.0, -746.0, -20.0}, hi[3] = {710.0, 40.0, 20.0};
    const double L = lo[j->fn], H = hi[j->fn];
    const long long NRAND = 40000000;   /* per set, split over threads */
    long long batch = 0;
    stat_init(&j->s);
#define EMIT(expr) do { x[m++] = (expr); if (m == CHUNK) { f64_batch(j, x, m); m = 0; } } while (0)
    int m = 0;
    /* 1. uniform in [L, H] */
    for (long long i = j->tid; i < NRAND; i += j->nt) EMIT(L + (H - L) * urand(&seed));
    /* 2. log-uniform magnitude 2^-1074 .. 2^10, random sign */
    for (long long i = j->tid; i < NRAND; i += j->nt) {
        double v = exp2(-1074.0 + 1084.0 * urand(&seed)) * (1.0 + urand(&seed));
        EMIT((splitmix(&seed) & 1) ? -v : v);
    }
    /* 3. random bit patterns (all finite doubles, incl. huge and subnormal) */
    for (long long i = j->tid; i < NRAND / 3; i += j->nt) {
        uint64_t u = splitmix(&seed); double v; memcpy(&v, &u, 8);
        EMIT(v);
    }
    /* 4. dense near 0: k * 2^-40, |k| < 2^21 */
    for (long long k = -(1 << 21) + j->tid; k < (1 << 21); k += j->nt) EMIT((double)k * 0x1p-40);
    /* 5. around each reduction boundary (n+1/2)ln2 (tanh: argument is 2|x|), +-200 ulps */
    {
        double sc = j->fn == 2 ? 0.5 : 1.0;
        for (int nn = -1080; nn <= 1030; nn++) {
            double c = (nn + 0.5) * 0.69314718055994530942 * sc;
            if (c < L || c > H) continue;
            if ((nn + 2048) % j->nt != j->tid) continue;
            for (int d = -200; d <= 200; d++) EMIT(c + d * (fabs(c) * 0x1p-52));
        }
    }
    /* 6. saturation / overflow / underflow edges, dense (2^20 points each) */
    {
        const double edges[3][4] = {{709.78, 708.39, -708.39, -745.13},   /* exp: overflow, normal, subnormal */
                                    {36.7, 36.0, -708.39, -709.78},       /* sigmoid */
                                    {19.06, 18.5, 9.0, -19.06}};           /* tanh */
        for (int e = 0; e < 4; e++)
            for (long long k = j->tid; k < (1 << 20); k += j->nt)
                EMIT(edges[j->fn][e] + ((double)k - (1 << 19)) * 0x1p-20);
    }
    /* 7. specials */
    if (j->tid == 0) { EMIT(0.0); EMIT(-0.0); EMIT(NAN); EMIT(DBL_MIN); EMIT(-DBL_MIN); EMIT(4.9e-324); }
    if (m) f64_batch(j, x, m);
    (void)batch;
    return NULL;
}

static void run_f64(void)
{
    int nt = nthreads();
    const char *names[3] = {"exp", "sigmoid", "tanh"};
    double sp[5] = {INFINITY, -INFINITY, NAN, 0.0, -0.0}, y[3][5];
    printf("## f64 sweep (vs x87 long double expl/tanhl; rel and ulp only where |ref| >= DBL_MIN)\n");
    for (int fn = 0; fn < 3; fn++) {
        pthread_t th[64];
        static f64_job_t jobs[64];
        stat_t tot;
        stat_init(&tot);
        for (int t = 0; t < nt; t++) { jobs[t].fn = fn; jobs[t].tid = t; jobs[t].nt = nt; pthread_create(&th[t], NULL, f64_worker, &jobs[t]); }
        for (int t = 0; t < nt; t++) { pthread_join(th[t], NULL); stat_merge(&tot, &jobs[t].s); }
        stat_print(names[fn], &tot, 0);
    }
    v_exp(5, y[0], sp); v_sigmoid(5, y[1], sp); v_tanh(5, y[2], sp);
    printf("special  x:      +inf  -inf  nan  +0  -0\n");
    for (int fn = 0; fn < 3; fn++)
        printf("  %-8s -> %g %g %g %g %g\n", names[fn], y[fn][0], y[fn][1], y[fn][2], y[fn][3], y[fn][4]);
}

/* ---------------- benchmark ---------------- */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double bench32(void (*f)(int, float *restrict, const float *restrict), const float *x, float *y)
{
    double best = 1e30;
    for (int trial = 0; trial < 7; trial++) {
        int reps = 0;
        double t0 = now(), t;
        do { f(CHUNK, y, x); reps++; t = now() - t0; } while (t < 0.05);
        if (t / ((double)reps * CHUNK) < best) best = t / ((double)reps * CHUNK);
    }
    return best * 1e9;
}
static double bench64(void (*f)(int, double *restrict, const double *restrict), const double *x, double *y)
{
    double best = 1e30;
    for (int trial = 0; trial < 7; trial++) {
        int reps = 0;
        double t0 = now(), t;
        do { f(CHUNK, y, x); reps++; t = now() - t0; } while (t < 0.05);
        if (t / ((double)reps * CHUNK) < best) best = t / ((double)reps * CHUNK);
    }
    return best * 1e9;
}

static void run_bench(void)
{
    static float xf[CHUNK], yf[CHUNK];
    static double xd[CHUNK], yd[CHUNK];
    uint64_t seed = 42;
    for (int i = 0; i < CHUNK; i++) { xd[i] = -10.0 + 20.0 * urand(&seed); xf[i] = (float)xd[i]; }
    printf("## throughput, ns/element, 4096-element arrays, x uniform in [-10,10] (best of 7)\n");
    printf("%-10s %8s %8s %8s\n", "function", "fast", "libm", "speedup");
#define ROW32(name, a, b) do { double ta = bench32(a, xf, yf), tb = bench32(b, xf, yf); printf("%-10s %8.3f %8.3f %7.1fx\n", name, ta, tb, tb / ta); } while (0)
#define ROW64(name, a, b) do { double ta = bench64(a, xd, yd), tb = bench64(b, xd, yd); printf("%-10s %8.3f %8.3f %7.1fx\n", name, ta, tb, tb / ta); } while (0)
    ROW32("expf", v_expf, l_expf);
    ROW32("sigmoidf", v_sigmoidf, l_sigmoidf);
    ROW32("tanhf", v_tanhf, l_tanhf);
    ROW64("exp", v_exp, l_exp);
    ROW64("sigmoid", v_sigmoid, l_sigmoid);
    ROW64("tanh", v_tanh, l_tanh);
}

int main(int argc, char **argv)
{
    int f32 = argc < 2, f64 = argc < 2, bench = argc < 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "f32")) f32 = 1;
        else if (!strcmp(argv[i], "f64")) f64 = 1;
        else if (!strcmp(argv[i], "bench")) bench = 1;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (f32) run_f32();
    if (f64) run_f64();
    if (bench) run_bench();
    return 0;
}
