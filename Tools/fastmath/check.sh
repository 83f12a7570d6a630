#!/bin/sh
# Compile checks for fast.h: warnings under -std=c99 -Wall -Wextra -Wpedantic,
# C++11, and whether every loop in vec.c (the GRU update loops) vectorises.
cd "$(dirname "$0")"
W="-Wall -Wextra -Wpedantic"
for m in "-march=native" "-march=znver3" "-march=x86-64"; do
  for c in "clang -std=c99" "clang++ -x c++ -std=c++11"; do
    out=$($c -O3 $m $W -c vec.c -o /dev/null -Rpass=loop-vectorize -Rpass-missed=loop-vectorize 2>&1)
    printf '%-28s %-15s warnings=%s vectorised=%s/6 missed=%s\n' "$c" "$m" \
      "$(echo "$out" | grep -c 'warning:')" "$(echo "$out" | grep -c 'remark: vectorized loop')" \
      "$(echo "$out" | grep -c 'remark: loop not vectorized')"
  done
  for c in "gcc -std=c99" "g++ -x c++ -std=c++11"; do
    out=$($c -O3 $m $W -c vec.c -o /dev/null -fopt-info-vec-optimized -fopt-info-vec-missed 2>&1)
    printf '%-28s %-15s warnings=%s vectorised=%s/6 missed=%s\n' "$c" "$m" \
      "$(echo "$out" | grep -c 'warning:')" \
      "$(echo "$out" | grep -E '^vec.c:[0-9]+:[0-9]+: optimized: loop vectorized' | cut -d: -f2 | sort -u | wc -l)" \
      "$(echo "$out" | grep -E "^vec.c:[0-9]+:[0-9]+: missed: couldn't vectorize loop" | cut -d: -f2 | sort -u | wc -l)"
  done
done
# no libm references and no calls in the vector code
clang -O3 -march=znver3 -S vec.c -o - | grep -E 'call|jmp\s+[a-z]' | grep -v '^\s*#' || echo "clang znver3: no calls in vec.c"
gcc -O3 -march=znver3 -S vec.c -o - | grep -E 'call' || echo "gcc znver3: no calls in vec.c"
