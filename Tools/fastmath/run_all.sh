#!/bin/sh
# Build measure.c in every configuration and run the error tests (and the
# benchmark for the -march=native / znver3 clang builds).  Logs go to results/.
set -e
cd "$(dirname "$0")"
mkdir -p results
run() {  # name, compiler + flags
    name=$1; shift
    "$@" -Wall -Wextra measure.c -o results/m_$name -lm -lpthread
    echo "### $name: $*" > results/$name.txt
    ./results/m_$name f32 f64 >> results/$name.txt
    cat results/$name.txt
}
run clang_native        clang -O3 -march=native
run clang_znver3        clang -O3 -march=znver3
run clang_znver3_nofma  clang -O3 -march=znver3 -ffp-contract=off
run clang_znver3_fast   clang -O3 -march=znver3 -ffp-contract=fast
run clang_x86-64        clang -O3
run gcc_znver3          gcc -O3 -march=znver3
run gcc_znver3_nofma    gcc -O3 -march=znver3 -ffp-contract=off
run gcc_x86-64          gcc -O3
