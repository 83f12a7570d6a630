#!/usr/bin/env bash
# Benchmarks/train.sh: how fast `grucc train` trains, next to PyTorch on one thread.
#
#   Benchmarks/train.sh            seed 001's adder (H=16, T=5, B=100, f64) and a PyTorch-style
#                                  GRU with H=128, T=100, B=32 (f32); prints one table
#
# Environment: GRUCC (a grucc binary; else `swift build -c release`), GRUCC_BENCH_VENV (the
# Python venv with torch and numpy; else Benchmarks/.venv). Steps per second are measured as the
# difference between a short and a long run, so start-up and the final losses do not count.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
die() { echo "train.sh: $*" >&2; exit 1; }

if [ -n "${GRUCC:-}" ]; then
  grucc=$GRUCC
else
  (cd "$root" && swift build -c release --product grucc >&2)
  grucc="$(cd "$root" && swift build -c release --product grucc --show-bin-path)/grucc"
fi
python=${GRUCC_BENCH_VENV:-$here/.venv}/bin/python
"$python" -c 'import torch, numpy' 2>/dev/null || die "no venv with torch and numpy at $python (Benchmarks/run.sh --setup-venv makes one)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$here/train_models.sh"
train_models "$tmp" "$python"

# Seconds for `grucc train` of STEPS steps with BACKEND (compiled or interpreter). The rate below
# is the difference of two runs, so the compiled backend's compile time cancels out.
seconds() {
  local model=$1 data=$2 loss=$3 batch=$4 steps=$5 start end
  start=$(date +%s.%N)
  "$grucc" train "$tmp/$model.gru" --data "$tmp/$data.npz" --loss $loss --batch $batch --steps $steps \
    --every $steps --backend $backend -o "$tmp/$model.safetensors" >/dev/null
  end=$(date +%s.%N)
  awk "BEGIN { print $end - $start }"
}
# The median of three such pairs: the machine is shared, and one pair can land on a busy moment.
rate() {  # MODEL DATA LOSS BATCH SHORT LONG
  local short long k rates=""
  for k in 1 2 3; do
    short=$(seconds $1 $2 $3 $4 $5)
    long=$(seconds $1 $2 $3 $4 $6)
    rates="$rates $(awk "BEGIN { print ($6 - $5) / ($long - $short) }")"
  done
  echo $rates | tr ' ' '\n' | sort -g | sed -n 2p
}
backend=interpreter
adder=$(rate adder adder quadratic 100 20 220)
h128=$(rate h128 h128 mse 32 1 4)
backend=compiled
adder_c=$(rate adder adder quadratic 100 20 3020)
h128_c=$(rate h128 h128 mse 32 1 121)
peers=$(OMP_NUM_THREADS=1 "$python" "$here/train_peer.py" "$tmp")

# The single-core FMA peak (Benchmarks/machine.c: float, GFLOP/s; double has half the lanes),
# and the FLOPs of one training step, counted from the shapes: only the products (2 FLOPs per
# multiply-add; the gates' elementwise work is O(B·T·H) against their O(B·T·H·(I+H))). Per GRU
# layer over N = B·T rows: forward 2·N·3H·(I+H); the weight gradients as many again; the
# gradient carried back through h 2·N·3H·H; none into x, which needs no gradient. A dense head
# H -> O adds 2·N·H·O three times (forward, weights, into h). What each backend actually
# executes may be more (grucc recomputes the forward inside its gradient): the fraction below
# is the useful work per second, the same count for all three.
peak_cc=$(command -v clang || command -v cc)
"$peak_cc" -O3 -march=native -ffp-contract=fast -std=c99 -D_POSIX_C_SOURCE=199309L "$here/machine.c" -o "$tmp/machine"
peak32=$("$tmp/machine" peak)
gru_flops() {  # N I H
  awk "BEGIN { print 2 * 2 * $1 * 3 * $3 * ($2 + $3) + 2 * $1 * 3 * $3 * $3 }"
}
adder_flops=$(awk "BEGIN { print $(gru_flops 500 2 16) + 3 * 2 * 500 * 16 * 1 }")
h128_flops=$(gru_flops 3200 128 128)
fraction() {  # STEPS_PER_S FLOPS PEAK_GFLOPS
  awk "BEGIN { printf \"%.1f%%\", 100 * $1 * $2 / ($3 * 1e9) }"
}
torch_adder=$(echo "$peers" | sed -n 's/^adder //p')
torch_h128=$(echo "$peers" | sed -n 's/^h128 //p')

echo
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "grucc: $grucc (one thread); PyTorch $("$python" -c 'import torch; print(torch.__version__)'), 1 thread"
echo
echo "FMA peak (one core, Benchmarks/machine.c): $peak32 GFLOP/s in f32, half that in f64"
echo "FLOPs per step (products only, see train.sh): adder $adder_flops, H=128 $h128_flops"
echo
echo "| model | batch | grucc compiled steps/s | grucc interpreter steps/s | PyTorch steps/s | compiled / PyTorch | % of FMA peak: compiled, interpreter, PyTorch |"
echo "|---|---|---:|---:|---:|---:|---:|"
peak64=$(awk "BEGIN { print $peak32 / 2 }")
printf "| seed 001 adder: H=16, T=5, f64 | 100 | %.1f | %.1f | %.1f | %.2f | %s, %s, %s |\n" "$adder_c" "$adder" "$torch_adder" \
  "$(awk "BEGIN { print $adder_c / $torch_adder }")" "$(fraction $adder_c $adder_flops $peak64)" \
  "$(fraction $adder $adder_flops $peak64)" "$(fraction $torch_adder $adder_flops $peak64)"
printf "| PyTorch-style GRU: H=I=128, T=100, f32 | 32 | %.2f | %.2f | %.1f | %.3f | %s, %s, %s |\n" "$h128_c" "$h128" "$torch_h128" \
  "$(awk "BEGIN { print $h128_c / $torch_h128 }")" "$(fraction $h128_c $h128_flops $peak32)" \
  "$(fraction $h128 $h128_flops $peak32)" "$(fraction $torch_h128 $h128_flops $peak32)"
