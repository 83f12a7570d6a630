/* harness.c: times one grucc model named `bench` through its C API.
 *
 * run.sh compiles it once per generated model, in that model's directory:
 *   clang -O3 -march=native -std=c99 -D_POSIX_C_SOURCE=199309L -I<dir> harness.c <dir>/model.c -lm -lpthread
 * The model must be `model bench` with one input x[I] and one sequence output `y`, so the API
 * is bench_run, bench_run_batch, bench_step, bench_reset and the BENCH_* size macros.
 *
 * Timing modes print "median p10 p90" in nanoseconds per time step (per sequence-step for a
 * batch: the time of one call divided by B*T; p10 and p90 are the 10th and 90th percentiles).
 * Each mode warms up, then repeats whole calls until SECONDS have passed and at least
 * MIN_REPS calls were timed.
 *   harness sequence T SECONDS          bench_run on one sequence of T steps
 *   harness streaming T SECONDS         T calls of bench_step after bench_reset
 *   harness batch B T THREADS SECONDS   bench_run_batch on B sequences of T steps, the batch
 *                                       split evenly over THREADS threads (each its own scratch)
 * Checking modes (files are raw little-endian float32, x [T, I] and y [T, H]):
 *   harness dump T X Y                  writes a random input to X and bench_run's output to Y
 *   harness check T X Y                 prints the max |y - Y| of bench_run, of T bench_step
 *                                       calls and of bench_run_batch on two copies of X
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define I BENCH_INPUT_SIZE
#define H BENCH_OUTPUT_Y_SIZE
#define MIN_REPS 3
#define MAX_REPS 20000
#define MAX_THREADS 16

/* ---- utilities ------------------------------------------------------------ */

static void die(const char *message) {
    fprintf(stderr, "harness: %s\n", message);
    exit(1);
}

static void *alloc(size_t bytes) {
    void *p = malloc(bytes);
    if (p == NULL) die("out of memory");
    return p;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* uniform in [-1, 1) from a fixed-seed xorshift, so every run times the same input */
static void random_fill(float *v, size_t n) {
    uint32_t s = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        v[i] = (float)(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
}

static void check_ok(int status) {
    if (status != BENCH_OK) die("the model returned an error");
}

/* ---- repetition and statistics --------------------------------------------- */

/* One timed unit of work: a whole call (or a whole stream), with the steps it covers. */
typedef struct {
    void (*fn)(void *ctx);
    void *ctx;
    double steps;
} work;

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Warms up for a tenth of the budget (at least one call: caches, page faults, clock boost),
 * then times calls until the budget is spent; prints median, p10 and p90 ns per step (the
 * percentiles rather than min and max: one interrupt must not widen the spread). */
static void measure(work w, double seconds) {
    double budget_ns = seconds * 1e9;
    double start = now_ns();
    do { w.fn(w.ctx); } while (now_ns() - start < 0.1 * budget_ns);

    static double samples[MAX_REPS];
    int n = 0;
    start = now_ns();
    while (n < MAX_REPS && (n < MIN_REPS || now_ns() - start < budget_ns)) {
        double t0 = now_ns();
        w.fn(w.ctx);
        samples[n++] = (now_ns() - t0) / w.steps;
    }
    qsort(samples, (size_t)n, sizeof samples[0], compare_doubles);
    printf("%.1f %.1f %.1f\n", samples[n / 2], samples[n / 10], samples[n * 9 / 10]);
}

/* ---- the three ways of calling the model ----------------------------------- */

typedef struct {
    const float *x;
    int B, T;
    float *y, *scratch;
} batch_job;

static void run_sequence(void *ctx) {
    batch_job *j = ctx;
    check_ok(bench_run(j->x, j->T, j->y, j->scratch));
}

/* A model with a reverse pass cannot stream: its header turns bench_step into an error, and
 * defines no BENCH_STATE_BYTES. Streaming then fails at run time instead. */
#ifdef BENCH_STATE_BYTES
static void run_stream(void *ctx) {
    batch_job *j = ctx;
    bench_state s;
    bench_reset(&s);
    for (int t = 0; t < j->T; t++) check_ok(bench_step(&s, j->x + (size_t)t * I, j->y + (size_t)t * H));
}
#else
static void run_stream(void *ctx) {
    (void)ctx;
    die("this model has a reverse pass: it cannot stream");
}
#endif

static void *run_batch_job(void *ctx) {
    batch_job *j = ctx;
    check_ok(bench_run_batch(j->x, j->B, j->T, j->y, j->scratch));
    return NULL;
}

/* A batch split into equal slices, one per thread. The generated code keeps no mutable
 * globals, so concurrent calls need only their own outputs and scratch. */
typedef struct {
    batch_job slice[MAX_THREADS];
    int threads;
} split_batch;

static void run_split_batch(void *ctx) {
    split_batch *b = ctx;
    if (b->threads == 1) {
        run_batch_job(&b->slice[0]);
        return;
    }
    pthread_t tid[MAX_THREADS];
    for (int k = 0; k < b->threads; k++) {
        if (pthread_create(&tid[k], NULL, run_batch_job, &b->slice[k]) != 0) die("pthread_create failed");
    }
    for (int k = 0; k < b->threads; k++) pthread_join(tid[k], NULL);
}

/* ---- file input and output ------------------------------------------------- */

static void read_floats(const char *path, float *v, size_t n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL || fread(v, sizeof(float), n, f) != n) die("cannot read a float32 file (missing or too short)");
    fclose(f);
}

static void write_floats(const char *path, const float *v, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(v, sizeof(float), n, f) != n) die("cannot write a float32 file");
    fclose(f);
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        if (d < 0) d = -d;
        if (d > m) m = d;
    }
    return m;
}

/* ---- main ------------------------------------------------------------------ */

static int arg_int(const char *s) {
    int v = atoi(s);
    if (v < 1) die("counts must be positive integers");
    return v;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";

    if ((strcmp(mode, "sequence") == 0 || strcmp(mode, "streaming") == 0) && argc == 4) {
        int T = arg_int(argv[2]);
        float *x = alloc((size_t)T * I * sizeof(float));
        random_fill(x, (size_t)T * I);
        batch_job j = {x, 1, T, alloc((size_t)T * H * sizeof(float)), alloc(BENCH_SCRATCH_BYTES(1, T))};
        work w = {strcmp(mode, "sequence") == 0 ? run_sequence : run_stream, &j, T};
        measure(w, atof(argv[3]));
        return 0;
    }

    if (strcmp(mode, "batch") == 0 && argc == 6) {
        int B = arg_int(argv[2]), T = arg_int(argv[3]), threads = arg_int(argv[4]);
        if (threads > MAX_THREADS || B % threads != 0) die("THREADS must divide B (and be at most 16)");
        float *x = alloc((size_t)B * T * I * sizeof(float));
        float *y = alloc((size_t)B * T * H * sizeof(float));
        random_fill(x, (size_t)B * T * I);
        split_batch b = {.threads = threads};
        int per = B / threads;
        for (int k = 0; k < threads; k++) {
            b.slice[k] = (batch_job){x + (size_t)k * per * T * I, per, T,
                                     y + (size_t)k * per * T * H, alloc(BENCH_SCRATCH_BYTES(per, T))};
        }
        work w = {run_split_batch, &b, (double)B * T};
        measure(w, atof(argv[5]));
        return 0;
    }

    if ((strcmp(mode, "dump") == 0 || strcmp(mode, "check") == 0) && argc == 5) {
        int T = arg_int(argv[2]);
        size_t nx = (size_t)T * I, ny = (size_t)T * H;
        float *x = alloc(2 * nx * sizeof(float)), *y = alloc(2 * ny * sizeof(float));
        float *ref = alloc(ny * sizeof(float)), *scratch = alloc(BENCH_SCRATCH_BYTES(2, T));
        if (strcmp(mode, "dump") == 0) {
            random_fill(x, nx);
            check_ok(bench_run(x, T, y, scratch));
            write_floats(argv[3], x, nx);
            write_floats(argv[4], y, ny);
            return 0;
        }
        read_floats(argv[3], x, nx);
        read_floats(argv[4], ref, ny);
        check_ok(bench_run(x, T, y, scratch));
        double e_sequence = max_abs_diff(y, ref, ny);
#ifdef BENCH_STATE_BYTES
        batch_job j = {x, 1, T, y, scratch};
        run_stream(&j);
        double e_streaming = max_abs_diff(y, ref, ny);
#else
        double e_streaming = 0; /* no streaming for a model with a reverse pass */
#endif
        memcpy(x + nx, x, nx * sizeof(float));
        check_ok(bench_run_batch(x, 2, T, y, scratch));
        double e_batch = max_abs_diff(y, ref, ny);
        double e_second = max_abs_diff(y + ny, ref, ny);
        printf("%.3g %.3g %.3g\n", e_sequence, e_streaming, e_batch > e_second ? e_batch : e_second);
        return 0;
    }

    fprintf(stderr,
            "usage: harness sequence|streaming T SECONDS\n"
            "       harness batch B T THREADS SECONDS\n"
            "       harness dump|check T X.f32 Y.f32\n");
    return 2;
}
