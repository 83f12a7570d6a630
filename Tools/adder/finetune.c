/* finetune.c: trains seed 001's adder on the device, from C alone, with the step grucc writes:
 *
 *     grucc Specs/seed001-adder.gru --emit train --loss quadratic --init -o adder_train.c
 *     cc -std=c99 -O2 -ffp-contract=off -I. Tools/adder/finetune.c adder_train.c -lm -o finetune
 *     ./finetune
 *
 * --init starts from the model's init rules (small random weights: the model does not add).
 * Every step draws a batch of additions of two 7-bit numbers, 8 bits each, least significant
 * bit first (as Tools/make-adder-data.py writes them), and takes one Adam step. Then it adds
 * 20-bit numbers with the trained weights (adder_train_predict): 1024 + 16 and 200 random sums,
 * as Tools/adder/check.c does with the compiled inference C. No malloc: the state and the
 * scratch are static arrays. Exit status 0 only if every sum is right.
 */
#include <stdio.h>
#include "adder_train.h"

#define BATCH 100
#define BITS 8  /* training numbers: sums of two 7-bit numbers */
#define LONG 21 /* checking numbers: sums of two 20-bit numbers */
#ifndef STEPS
#define STEPS 1000
#endif

static adder_train_state state;
static double scratch[ADDER_TRAIN_SCRATCH_BYTES(BATCH, LONG) / sizeof(double)];
static double x[BATCH * BITS * 2], y[BATCH * BITS];

static unsigned long long lcg = 20261206;
static unsigned long next(unsigned long bits) { /* Knuth's MMIX LCG, the top bits */
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned long)(lcg >> 33) & ((1ul << bits) - 1);
}

/* a + b with the state's weights: one sequence of LONG steps, a bit of the sum per step. */
static unsigned long add(unsigned long a, unsigned long b) {
    double in[LONG * 2], out[LONG];
    unsigned long sum = 0;
    for (int t = 0; t < LONG; t++) {
        in[2 * t] = (double)((a >> t) & 1);
        in[2 * t + 1] = (double)((b >> t) & 1);
    }
    if (adder_train_predict(&state, 1, LONG, in, out, scratch) != ADDER_TRAIN_OK) return (unsigned long)-1;
    for (int t = 0; t < LONG; t++) if (out[t] > 0.5) sum |= 1ul << t;
    return sum;
}

int main(void) {
    unsigned long right = 0;
    adder_train_init(&state);
    printf("before: 1024 + 16 = %lu\n", add(1024, 16));
    for (int step = 1; step <= STEPS; step++) {
        double loss;
        for (int i = 0; i < BATCH; i++) {
            unsigned long a = next(7), b = next(7), s = a + b;
            for (int t = 0; t < BITS; t++) {
                x[(i * BITS + t) * 2] = (double)((a >> t) & 1);
                x[(i * BITS + t) * 2 + 1] = (double)((b >> t) & 1);
                y[i * BITS + t] = (double)((s >> t) & 1);
            }
        }
        if (adder_train_step(&state, BATCH, BITS, x, y, 0.01, scratch, &loss) != ADDER_TRAIN_OK) {
            fprintf(stderr, "step %d failed\n", step);
            return 1;
        }
        if (step % 500 == 0) printf("step %d: loss %.6f\n", step, loss);
    }
    printf("after: 1024 + 16 = %lu\n", add(1024, 16));
    for (int i = 0; i < 200; i++) {
        unsigned long a = next(20), b = next(20);
        if (add(a, b) == a + b) right++;
    }
    printf("%lu of 200 random 20-bit sums right\n", right);
    printf("state %lu bytes, scratch %lu bytes for B = %d, T = %d\n", (unsigned long)sizeof state,
           (unsigned long)ADDER_TRAIN_SCRATCH_BYTES(BATCH, BITS), BATCH, BITS);
    return add(1024, 16) == 1040 && right == 200 ? 0 : 1;
}
