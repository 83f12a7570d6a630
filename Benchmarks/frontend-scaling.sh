#!/usr/bin/env bash
# Benchmarks/frontend-scaling.sh: is `grucc check` linear in the size of the model?
#
#   Benchmarks/frontend-scaling.sh                 stacked layers 250..2000, chained lets 2500..20000
#   Benchmarks/frontend-scaling.sh --layers "1000 2000" --lets "20000"
#
# Each model is generated here (N stacked 2-unit GRU layers; or one layer and N `let` bindings,
# each the tanh of the one before) and checked once; the table gives wall seconds and peak
# resident memory (GNU time), and the seconds per thousand layers or lets, which stays flat
# when the work is linear. Environment: GRUCC (a grucc binary; else `swift build -c release`).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
layer_sizes="250 500 1000 2000"
let_sizes="2500 5000 10000 20000"
while [ $# -gt 0 ]; do
  case "$1" in
    --layers) layer_sizes=$2; shift 2 ;;
    --lets) let_sizes=$2; shift 2 ;;
    *) echo "usage: $0 [--layers \"N ...\"] [--lets \"N ...\"]" >&2; exit 2 ;;
  esac
done

if [ -n "${GRUCC:-}" ]; then
  grucc=$GRUCC
else
  (cd "$root" && swift build -c release --product grucc >&2)
  grucc="$(cd "$root" && swift build -c release --product grucc --show-bin-path)/grucc"
fi
[ -x /usr/bin/time ] || { echo "frontend-scaling.sh: needs GNU time at /usr/bin/time" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

layers_model() {
  awk -v n="$1" 'BEGIN {
    print "model m"; print "input x[2]"
    print "gru h0 = x -> hidden 2, reset after, update keeps-state, bias separate"
    for (i = 1; i < n; i++) printf "gru h%d = h%d -> hidden 2, reset after, update keeps-state, bias separate\n", i, i - 1
    printf "output y = dense(h%d, 1)\n", n - 1; print "init seed 1" }'
}

lets_model() {
  awk -v n="$1" 'BEGIN {
    print "model m"; print "input x[2]"
    print "gru h = x -> hidden 2, reset after, update keeps-state, bias separate"
    print "let a0 = tanh(h)"
    for (i = 1; i < n; i++) printf "let a%d = tanh(a%d)\n", i, i - 1
    printf "output y = a%d\n", n - 1; print "init seed 1" }'
}

printf '%-8s %7s %9s %8s %14s\n' kind N seconds "peak MB" "s per 1000"
measure() {
  local kind=$1 n=$2
  "${kind}_model" "$n" >"$tmp/m.gru"
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$grucc" check "$tmp/m.gru" >/dev/null 2>"$tmp/err" ||
    { echo "frontend-scaling.sh: grucc check failed on $kind $n:" >&2; cat "$tmp/err" >&2; exit 1; }
  read -r seconds kb <"$tmp/time"
  awk -v k="$kind" -v n="$n" -v s="$seconds" -v kb="$kb" \
    'BEGIN { printf "%-8s %7d %9.2f %8.0f %14.3f\n", k, n, s, kb / 1024, s * 1000 / n }'
}
for n in $layer_sizes; do measure layers "$n"; done
for n in $let_sizes; do measure lets "$n"; done
