# Benchmarks/train_models.sh: the two training benchmarks' models and data, sourced by train.sh
# and train_side.sh so both time the same things.
#
#   train_models DIR PYTHON    writes DIR/adder.gru, DIR/adder.npz, DIR/h128.gru, DIR/h128.npz
#
# The adder as seed 001 trains it, from its init rules, on its own data; H = 128 from PyTorch's
# default init, on 64 sequences of uniform random data.
train_models() {
  local dir=$1 python=$2 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  grep -v '^weights' "$root/Specs/seed001-adder.gru" >"$dir/adder.gru"
  cat >"$dir/h128.gru" <<GRU
model h128
precision f32
input x[128]
gru h = x -> hidden 128, reset after, update keeps-state, bias separate
output y = h
init seed 1
GRU
  "$python" - "$dir" "$root/Specs/seed001-adder.train.npz" <<'PY'
import sys, numpy as np
out, adder = sys.argv[1], np.load(sys.argv[2])
np.savez(f"{out}/adder.npz", x=adder["x"], y=adder["y"])
rng = np.random.default_rng(0)
np.savez(f"{out}/h128.npz", x=rng.uniform(-1, 1, (64, 100, 128)).astype(np.float32),
         y=rng.uniform(-1, 1, (64, 100, 128)).astype(np.float32))
PY
}
