/* add A B: adds two numbers below 2^20 with seed 001's GRU adder, one bit per step. Prints the
 * sum, then the model's output at every step (%.17g), which the tests compare with grucc run. */
#include <stdio.h>
#include <stdlib.h>
#include "adder.h"

#define BITS 21

int main(int argc, char **argv) {
    double x[BITS * ADDER_INPUT_SIZE], y[BITS * ADDER_OUTPUT_Y_SIZE];
    static double scratch[ADDER_SCRATCH_SIZE(1, BITS)];
    unsigned long a, b, sum = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: add A B\n");
        return 2;
    }
    a = strtoul(argv[1], NULL, 10);
    b = strtoul(argv[2], NULL, 10);
    for (int t = 0; t < BITS; t++) {
        x[2 * t] = (double)((a >> t) & 1);
        x[2 * t + 1] = (double)((b >> t) & 1);
    }
    if (adder_run(x, BITS, y, scratch) != ADDER_OK) return 1;
    for (int t = 0; t < BITS; t++) if (y[t] > 0.5) sum |= 1ul << t;
    printf("%lu + %lu = %lu\n", a, b, sum);
    for (int t = 0; t < BITS; t++) printf("%.17g\n", y[t]);
    return 0;
}
