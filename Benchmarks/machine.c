/* machine.c: the two machine limits the benchmark's bounds are built from.
 *
 *   machine peak          prints the single-core float FMA peak in GFLOP/s
 *   machine read BYTES    prints the read bandwidth in GB/s of a buffer of BYTES bytes
 *
 * Both print the best of several timed runs: a bound is what the core can do at its best,
 * so the noise of a shared machine must not lower it.
 *
 * Build: clang -O3 -march=native -std=c99 -D_POSIX_C_SOURCE=199309L machine.c -o machine
 * The 8-float vectors are GCC/clang vector extensions (one AVX register each); clang
 * fuses `a * b + c` on them into one FMA instruction (-ffp-contract=on is its default).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v8f __attribute__((vector_size(32)));

#define RUNS 7            /* timed runs; the best one is reported */
#define PEAK_CHAINS 16    /* independent FMA chains: FMA latency (4-5 cycles) x 2 FMA units, with room */
#define PEAK_ITERS 2000000
#define READ_CHAINS 8     /* independent add chains in the read loop */
#define READ_BYTES_PER_RUN ((size_t)256 << 20)  /* bytes read per timed run (many passes over a small buffer) */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float sum_lanes(v8f v) {
    float s = 0.0f;
    for (int i = 0; i < 8; i++) s += v[i];
    return s;
}

/* acc = acc * m + a on PEAK_CHAINS independent registers: 2 FLOPs per lane per FMA.
 * With m < 1 every chain converges to a / (1 - m), so nothing overflows or goes subnormal. */
static float fma_chains(float m, float a, long iters) {
    v8f acc[PEAK_CHAINS];
    v8f vm = {m, m, m, m, m, m, m, m};
    v8f va = {a, a, a, a, a, a, a, a};
    for (int c = 0; c < PEAK_CHAINS; c++) acc[c] = va * (float)c;
    for (long i = 0; i < iters; i++) {
        for (int c = 0; c < PEAK_CHAINS; c++) acc[c] = acc[c] * vm + va;
    }
    v8f total = acc[0];
    for (int c = 1; c < PEAK_CHAINS; c++) total += acc[c];
    return sum_lanes(total);
}

static void peak(void) {
    /* m and a come through volatiles so the compiler cannot precompute the chains */
    volatile float m = 0.999f, a = 0.001f;
    double best = 0.0;
    float sink = 0.0f;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now_seconds();
        sink += fma_chains(m, a, PEAK_ITERS);
        double seconds = now_seconds() - t0;
        double gflops = 2.0 * 8 * PEAK_CHAINS * (double)PEAK_ITERS / seconds * 1e-9;
        if (gflops > best) best = gflops;
    }
    printf("%.1f\n", best);
    fprintf(stderr, "checksum %g\n", (double)sink);  /* keeps the result live */
}

/* Sums n floats (n a multiple of 8 * READ_CHAINS) with READ_CHAINS independent vector adds:
 * one 32-byte load per add, so the loop is limited by loads, not by add latency. */
static float read_pass(const v8f *p, size_t n_vectors) {
    v8f acc[READ_CHAINS];
    memset(acc, 0, sizeof acc);
    for (size_t i = 0; i < n_vectors; i += READ_CHAINS) {
        for (int c = 0; c < READ_CHAINS; c++) acc[c] += p[i + c];
    }
    v8f total = acc[0];
    for (int c = 1; c < READ_CHAINS; c++) total += acc[c];
    return sum_lanes(total);
}

static void bandwidth(size_t bytes) {
    size_t n_vectors = bytes / sizeof(v8f) / READ_CHAINS * READ_CHAINS;
    if (n_vectors == 0) n_vectors = READ_CHAINS;
    size_t used = n_vectors * sizeof(v8f);
    /* malloc's 16-byte alignment is not enough for v8f: over-allocate and round up to 64 */
    char *raw = malloc(used + 64);
    if (raw == NULL) { fprintf(stderr, "machine: cannot allocate %zu bytes\n", used); exit(1); }
    v8f *p = (v8f *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    float *f = (float *)p;
    for (size_t i = 0; i < used / sizeof(float); i++) f[i] = (float)(i & 255) * (1.0f / 256.0f);

    size_t passes = READ_BYTES_PER_RUN / used;
    if (passes < 1) passes = 1;
    float sink = read_pass(p, n_vectors);  /* warm-up: brings the buffer into the cache */
    double best = 0.0;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now_seconds();
        for (size_t k = 0; k < passes; k++) sink += read_pass(p, n_vectors);
        double seconds = now_seconds() - t0;
        double gbs = (double)used * (double)passes / seconds * 1e-9;
        if (gbs > best) best = gbs;
    }
    printf("%.1f\n", best);
    fprintf(stderr, "checksum %g\n", (double)sink);
    free(raw);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "peak") == 0) {
        peak();
    } else if (argc == 3 && strcmp(argv[1], "read") == 0) {
        bandwidth((size_t)strtoull(argv[2], NULL, 10));
    } else {
        fprintf(stderr, "usage: machine peak | machine read BYTES\n");
        return 2;
    }
    return 0;
}
