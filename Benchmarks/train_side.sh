#!/usr/bin/env bash
# Side by side, one run: compiled-backend steps/s of several grucc binaries / compilers, interleaved.
#
#   GRUCC_BENCH_VENV=/work/venv Benchmarks/train_side.sh before=/tmp/old/grucc:gcc after=.build/release/grucc:clang
#
# Each argument is LABEL=GRUCC_BINARY:CC. Models and data are train.sh's (short/long pairs: adder
# 20/3020 steps, H = 128 1/61);
# the labels' runs are interleaved (load is noisy), REPS pairs each (default 3, median printed);
# ONLY=h128 skips the adder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python=${GRUCC_BENCH_VENV:-$here/.venv}/bin/python
. "$here/train_models.sh"
train_models "$tmp" "$python"
seconds() { # GRUCC CC model data loss batch steps
  local start end
  start=$(date +%s.%N)
  CC=$2 "$1" train "$tmp/$3.gru" --data "$tmp/$4.npz" --loss $5 --batch $6 --steps $7 --every $7 --backend compiled -o "$tmp/$3.safetensors" >/dev/null
  end=$(date +%s.%N)
  awk "BEGIN { print $end - $start }"
}
run() { # model data loss batch short long
  declare -A rates
  for k in $(seq ${REPS:-3}); do
    for spec in "${SPECS[@]}"; do
      label=${spec%%=*}; rest=${spec#*=}; g=${rest%%:*}; cc=${rest#*:}
      s=$(seconds $g $cc $1 $2 $3 $4 $5); l=$(seconds $g $cc $1 $2 $3 $4 $6)
      rates[$label]="${rates[$label]:-} $(awk "BEGIN { print ($6 - $5) / ($l - $s) }")"
    done
  done
  for spec in "${SPECS[@]}"; do
    label=${spec%%=*}
    echo "$1 $label: median $(echo ${rates[$label]} | tr ' ' '\n' | sort -g | sed -n "$(( (${REPS:-3} + 1) / 2 ))p") steps/s (runs:${rates[$label]})"
  done
}
SPECS=("$@")
echo "load before: $(cut -d ' ' -f 1-3 /proc/loadavg)"
[ "${ONLY:-}" = h128 ] || run adder adder quadratic 100 20 3020
run h128 h128 mse 32 1 61
echo "load after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
