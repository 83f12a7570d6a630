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

# The adder as seed 001 trains it, from its init rules; H=128 from PyTorch's default init.
grep -v '^weights' "$root/Specs/seed001-adder.gru" >"$tmp/adder.gru"
cat >"$tmp/h128.gru" <<GRU
model h128
precision f32
input x[128]
gru h = x -> hidden 128, reset after, update keeps-state, bias separate
output y = h
init seed 1
GRU
"$python" - "$tmp" "$root/Specs/seed001-adder.train.npz" <<'PY'
import sys, numpy as np
out, adder = sys.argv[1], np.load(sys.argv[2])
np.savez(f"{out}/adder.npz", x=adder["x"], y=adder["y"])
rng = np.random.default_rng(0)
np.savez(f"{out}/h128.npz", x=rng.uniform(-1, 1, (64, 100, 128)).astype(np.float32),
         y=rng.uniform(-1, 1, (64, 100, 128)).astype(np.float32))
PY

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
rate() {  # MODEL DATA LOSS BATCH SHORT LONG
  local short long
  short=$(seconds $1 $2 $3 $4 $5)
  long=$(seconds $1 $2 $3 $4 $6)
  awk "BEGIN { print ($6 - $5) / ($long - $short) }"
}
backend=interpreter
adder=$(rate adder adder quadratic 100 20 220)
h128=$(rate h128 h128 mse 32 1 4)
backend=compiled
adder_c=$(rate adder adder quadratic 100 20 620)
h128_c=$(rate h128 h128 mse 32 1 7)
peers=$(OMP_NUM_THREADS=1 "$python" "$here/train_peer.py" "$tmp")
torch_adder=$(echo "$peers" | sed -n 's/^adder //p')
torch_h128=$(echo "$peers" | sed -n 's/^h128 //p')

echo
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "grucc: $grucc (one thread); PyTorch $("$python" -c 'import torch; print(torch.__version__)'), 1 thread"
echo
echo "| model | batch | grucc compiled steps/s | grucc interpreter steps/s | PyTorch steps/s | compiled / PyTorch |"
echo "|---|---|---:|---:|---:|---:|"
printf "| seed 001 adder: H=16, T=5, f64 | 100 | %.1f | %.1f | %.1f | %.2f |\n" "$adder_c" "$adder" "$torch_adder" "$(awk "BEGIN { print $adder_c / $torch_adder }")"
printf "| PyTorch-style GRU: H=I=128, T=100, f32 | 32 | %.2f | %.2f | %.1f | %.3f |\n" "$h128_c" "$h128" "$torch_h128" "$(awk "BEGIN { print $h128_c / $torch_h128 }")"
