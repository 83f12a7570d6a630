/* check.c: does a compiled seed 001 adder add? Build it with the adder's C:
 *
 *     cc -std=c99 -O2 -IGenerated Tools/adder/check.c Generated/seed001-adder.c -lm -o check && ./check
 *
 * It feeds 20-bit numbers (the model was trained on 5-bit ones), one bit of each per step, least
 * significant first, over 21 steps (the sum may need 21 bits), and reads a bit of the sum per step
 * (1 when the output is above 0.5). It prints 1024 + 16 and how many of 200 random sums came out
 * right, and exits with 0 only if all of them did.
 */
#include <stdio.h>
#include "seed001-adder.h"

#define BITS 21

static unsigned long add(unsigned long a, unsigned long b) {
    double x[BITS * ADDER_INPUT_SIZE], y[BITS * ADDER_OUTPUT_Y_SIZE];
    static double scratch[ADDER_SCRATCH_SIZE(1, BITS)];
    unsigned long sum = 0;
    for (int t = 0; t < BITS; t++) {
        x[2 * t] = (double)((a >> t) & 1);
        x[2 * t + 1] = (double)((b >> t) & 1);
    }
    if (adder_run(x, BITS, y, scratch) != ADDER_OK) return (unsigned long)-1;
    for (int t = 0; t < BITS; t++) if (y[t] > 0.5) sum |= 1ul << t;
    return sum;
}

int main(void) {
    unsigned long long state = 20261123;
    unsigned long right = 0, shown = 0;
    unsigned long example = add(1024, 16);
    printf("1024 + 16 = %lu\n", example);
    for (int i = 0; i < 200; i++) {
        unsigned long a, b;
        state = state * 6364136223846793005ull + 1442695040888963407ull; /* Knuth's MMIX LCG */
        a = (unsigned long)(state >> 33) & 0xFFFFF;
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        b = (unsigned long)(state >> 33) & 0xFFFFF;
        if (add(a, b) == a + b) right++;
        else if (shown++ < 5) fprintf(stderr, "%lu + %lu gave %lu\n", a, b, add(a, b));
    }
    printf("%lu of 200 random 20-bit sums right\n", right);
    return example == 1040 && right == 200 ? 0 : 1;
}
