#!/usr/bin/env bash
# Benchmarks/build-time.sh: how long a big model takes to build, and how grucc's own time and
# memory grow with the parameter count. Each model is a stack of PyTorch-convention GRU layers
# (I = H) with seeded weights; grucc writes C with --weights external (the weights in a blob,
# not as literals), and clang -O3 compiles it. Prints one row per model.
#
#   Benchmarks/build-time.sh                   the default models, up to about 50 M parameters
#   Benchmarks/build-time.sh --models "2x1024" only these LAYERSxHIDDEN models
#
# Environment: GRUCC (a grucc binary; else this script builds one with `swift build -c release`),
# CC (default clang).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
models="1x256 2x512 2x1024 4x1024 4x1448"
cc=${CC:-clang}
while [ $# -gt 0 ]; do
  case $1 in
    --models) models=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-time.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "${GRUCC:-}" ]; then grucc=$GRUCC; else
  (cd "$root" && swift build -c release --product grucc >&2)
  grucc="$(cd "$root" && swift build -c release --product grucc --show-bin-path)/grucc"
fi
[ -x /usr/bin/time ] || { echo "build-time.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '| model | parameters | grucc s | grucc MB | .c KB | blob MB | %s -O3 s | total s |\n' "$cc"
printf '|---|--:|--:|--:|--:|--:|--:|--:|\n'
for m in $models; do
  layers=${m%x*} h=${m#*x}
  d=$tmp/$m
  mkdir -p "$d"
  {
    echo "model big"
    echo "precision f32"
    echo "input x[$h]"
    src=x
    for l in $(seq 1 "$layers"); do
      echo "gru h$l = $src -> hidden $h, reset after, update keeps-state, bias separate"
      src=h$l
    done
    echo "output y = $src"
    echo "init seed 1"
  } >"$d/big.gru"
  params=$((layers * (6 * h * h + 6 * h)))
  /usr/bin/time -f "%e %M" -o "$d/grucc.time" "$grucc" "$d/big.gru" -o "$d/big.c" --weights external
  /usr/bin/time -f "%e %M" -o "$d/cc.time" $cc -O3 -march=native -std=c99 -c "$d/big.c" -o "$d/big.o"
  read -r gs gk <"$d/grucc.time"
  read -r cs _ <"$d/cc.time"
  printf '| %s | %d | %.2f | %d | %d | %.1f | %.2f | %.2f |\n' "$m" "$params" "$gs" $((gk / 1024)) \
    $(($(stat -c %s "$d/big.c") / 1024)) "$(echo "$(stat -c %s "$d/big.weights") / 1048576" | bc -l)" "$cs" \
    "$(echo "$gs + $cs" | bc -l)"
done
