#!/usr/bin/env bash
# Benchmarks/run.sh: how fast is the C that grucc generates, next to what this machine can do
# and next to ONNX Runtime and PyTorch? Prints a short machine section and one table.
# See Benchmarks/README.md for what is measured and how the bounds are computed.
#
#   Benchmarks/run.sh                 the full run (one to two minutes)
#   Benchmarks/run.sh --quick         shorter timing budgets, for a smoke test
#   Benchmarks/run.sh --sizes "16 64" only these hidden sizes (the 2-thread batch needs 256)
#   Benchmarks/run.sh --no-peers      grucc only: no PyTorch or ONNX Runtime even if a venv exists
#   Benchmarks/run.sh --cc gcc        the C compiler (default $CC, else clang); a list such as
#                                     --cc "clang gcc" times them side by side, interleaved;
#                                     gcc:-ffp-contract=fast adds flags (':' between them)
#   Benchmarks/run.sh --o2            also builds with -O2 -march=native and with plain -O2
#   Benchmarks/run.sh --rounds 5      repeats every measurement 5 times, interleaved; reports the
#                                     median of the rounds' medians
#   Benchmarks/run.sh --storage bf16  the weights-storage types timed next to f32 (default
#                                     "f16 bf16 int8"; --storage "" for none)
#   Benchmarks/run.sh --setup-venv    creates Benchmarks/.venv with the peers' packages, then exits
#
# Environment: GRUCC (a grucc binary; else this script builds one with `swift build -c release`),
# GRUCC_SCRATCH (--scratch-path for that build), GRUCC_BENCH_VENV (the Python venv of the peers),
# CC (the default of --cc).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

# The benchmark's shapes. Every model is a PyTorch-convention GRU with I = H, named `bench`.
sizes="16 64 128 256"
steps=1000                        # T of the sequence and streaming modes
batch=64 batch_steps=100          # B and T of the batched mode (every size) ...
batch_hidden=256                  # ... and of its 2-thread run, on the H=256 model only
budget=1                          # seconds of timing per measurement (after a warm-up)
max_error=1e-5                    # largest |grucc - reference| accepted on the outputs
compilers=${CC:-clang}
optimised="-O3 -march=native"     # the main build; --o2 adds "-O2 -march=native" and "-O2"
common="-std=c99 -D_POSIX_C_SOURCE=199309L"
rounds=1
storages="f16 bf16 int8"          # weights-storage types timed next to f32 (fast activations)

die() { echo "run.sh: $*" >&2; exit 1; }

setup_venv=0 peers=1 o2=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) budget=0.2 ;;
    --sizes) [ $# -ge 2 ] || die "--sizes needs a list, e.g. --sizes \"16 64\""; sizes=$2; shift ;;
    --no-peers) peers=0 ;;
    --cc) [ $# -ge 2 ] || die "--cc needs a compiler, e.g. --cc gcc"; compilers=$2; shift ;;
    --o2) o2=1 ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a count"; rounds=$2; shift ;;
    --setup-venv) setup_venv=1 ;;
    --storage) [ $# -ge 2 ] || die "--storage needs a list, e.g. --storage \"f16 bf16\""; storages=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
sizes=$(echo $sizes)              # one space between sizes, none around
[ -n "$sizes" ] || die "--sizes needs at least one size"
for h in $sizes; do
  case $h in ''|*[!0-9]*|0*) die "--sizes takes positive integers, not '$h'" ;; esac
done
case $rounds in ''|*[!0-9]*|0*) die "--rounds takes a positive integer, not '$rounds'" ;; esac
compilers=$(echo $compilers)
[ -n "$compilers" ] || die "--cc needs at least one compiler"
for c in $compilers; do command -v "${c%%:*}" >/dev/null || die "no C compiler '${c%%:*}' in PATH"; done

# The builds compared: every compiler with the main flags and, with --o2, at -O2 with the same
# -march and at plain -O2 (the compiler's baseline target). Build k is c<k> in the results.
configs=()
for c in $compilers; do
  configs+=("$c|$optimised")
  if [ $o2 = 1 ]; then configs+=("$c|-O2 -march=native" "$c|-O2"); fi
done
nconfigs=${#configs[@]}
config_cc() { local c=${configs[$1]%%|*}; echo "${c//:/ }"; }   # gcc:-ffp-contract=fast → gcc -ffp-contract=fast
config_flags() { echo "${configs[$1]#*|}"; }

if [ $setup_venv = 1 ]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install torch onnxruntime onnx numpy
  echo "created $here/.venv; now run $0"
  exit 0
fi

# ---- tools --------------------------------------------------------------------------------

if [ -n "${GRUCC:-}" ]; then
  grucc=$GRUCC
else
  build=(swift build -c release --product grucc ${GRUCC_SCRATCH:+--scratch-path "$GRUCC_SCRATCH"})
  (cd "$root" && "${build[@]}" >&2)
  grucc="$(cd "$root" && "${build[@]}" --show-bin-path)/grucc"
fi
[ -x "$grucc" ] || die "no grucc binary at $grucc"

# The peers need torch, onnxruntime, onnx and numpy. A venv named by GRUCC_BENCH_VENV must have
# them; the default places are used only when they do.
has_peers() { "$1/bin/python" -c 'import torch, onnxruntime, onnx, numpy' 2>/dev/null; }
python=
if [ $peers = 0 ]; then
  :
elif [ -n "${GRUCC_BENCH_VENV:-}" ]; then
  has_peers "$GRUCC_BENCH_VENV" || die "GRUCC_BENCH_VENV=$GRUCC_BENCH_VENV: no bin/python with torch, onnxruntime, onnx and numpy"
  python=$GRUCC_BENCH_VENV/bin/python
else
  for venv in "$here/.venv" /work/venv; do
    if has_peers "$venv"; then python=$venv/bin/python; break; fi
  done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results    # one line per measurement: MODE H WHO MEDIAN P10 P90, or check H WHO ERRORS

# ---- the machine --------------------------------------------------------------------------

# Bytes of the data (or unified) cache of LEVEL on cpu0, 0 when there is none.
cache_bytes() {
  for d in /sys/devices/system/cpu/cpu0/cache/index*; do
    [ "$(cat "$d/level")" = "$1" ] && [ "$(cat "$d/type")" != Instruction ] || continue
    local size
    size=$(cat "$d/size")
    case $size in
      *K) echo $((${size%K} * 1024)) ;;
      *M) echo $((${size%M} * 1048576)) ;;
      *) echo "$size" ;;
    esac
    return
  done
  echo 0
}

pretty_bytes() { if [ $(($1 % 1048576)) = 0 ]; then echo "$(($1 / 1048576)) MiB"; else echo "$(($1 / 1024)) KiB"; fi; }

[ -d /sys/devices/system/cpu/cpu0/cache ] || die "cannot read the cache sizes from /sys (Linux only)"
l1=$(cache_bytes 1) l2=$(cache_bytes 2) l3=$(cache_bytes 3)
[ "$l1" -gt 0 ] && [ "$l2" -gt 0 ] || die "no L1d or L2 size in /sys/devices/system/cpu/cpu0/cache"

# Each level is measured with a buffer that fits in it with room to spare: half of L1d, half
# of L2, and for L3 four times L2 (past L2, yet well inside an L3 shared with other cores).
buf_l1=$((l1 / 2)) buf_l2=$((l2 / 2)) buf_l3=$((4 * l2)) buf_dram=$((512 << 20))
[ "$l3" -eq 0 ] || [ $buf_l3 -le $((l3 / 2)) ] || buf_l3=$((l3 / 2))

# The figures move between runs and within one (the L1 bandwidth read 187 and 227 GB/s in two
# runs), so they are measured before the timings and again at the start of every round, and the
# bounds use the median of the measurements; the machine section shows their range.
$(config_cc 0) $optimised $common -Wall -Wextra "$here/machine.c" -o "$tmp/machine"
machine_figures=$tmp/machine-figures
: >"$machine_figures"
measure_machine() {
  echo "peak $("$tmp/machine" peak 2>/dev/null)" >>"$machine_figures"
  echo "l1 $("$tmp/machine" read $buf_l1 2>/dev/null)" >>"$machine_figures"
  echo "l2 $("$tmp/machine" read $buf_l2 2>/dev/null)" >>"$machine_figures"
  echo "l3 $("$tmp/machine" read $buf_l3 2>/dev/null)" >>"$machine_figures"
}
# figure NAME [range]: the median of NAME's measurements, or "min-max (n)"
figure() {
  sort -k2,2g "$machine_figures" | awk -v name=$1 -v range=${2:-} '$1 == name { v[++n] = $2 }
    END {
      if (range != "") { printf "%s-%s, %d measurements", v[1], v[n], n; exit }
      print n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'
}
measure_machine
bw_dram=$("$tmp/machine" read $buf_dram 2>/dev/null)

# ---- models -------------------------------------------------------------------------------

# The peers make the weights (PyTorch's own nn.GRU), the input and the reference output, and
# are timed here, before grucc's C, in the same run.
# The CRNN row (issue 15): the Keras model of Tests/Fixtures/import/keras_crnn_edge, Conv1D(16,
# 20, causal), BatchNormalization, ZeroPadding1D + AveragePooling1D(3, 1), GRU(32), Dense(2),
# UnitNormalization, with its trained weights. ONNX Runtime runs it from an ONNX graph of the
# same weights (peers.py --crnn), whole sequences only: it cannot carry a convolution's window
# from one call to the next.
crnn_fixture=$root/Tests/Fixtures/import/keras_crnn_edge
[ -f "$crnn_fixture/model.gru" ] || crnn_fixture=
if [ -n "$python" ]; then
  OMP_NUM_THREADS=1 "$python" "$here/peers.py" "$tmp" --sizes "$sizes" --steps $steps \
    --batch $batch $batch_steps --batch-hidden $batch_hidden --seconds $budget \
    ${crnn_fixture:+--crnn "$crnn_fixture"} >>"$results"
  weights='weights "w.npz", format pytorch'
else
  weights='init seed 1'
fi

for h in $sizes; do
  mkdir -p "$tmp/h$h"
  cat >"$tmp/h$h/bench.gru" <<EOF
model bench
precision f32
input x[$h]
gru h = x -> hidden $h, reset after, update keeps-state, bias separate
output y = h
$weights
EOF
done

# The other variants, at H = variant_hidden, without peers: grucc's own libm build is their
# reference. KEY|LABEL|GATES|DIRECTIONS|LAYERS|LAYER OPTIONS (the bounds scale with the gates,
# directions and layers).
variant_hidden=128
variants="before|reset before, bias single|3|1|1|reset before, update keeps-state, bias single
none|reset none, takes-candidate|2|1|1|reset none, update takes-candidate, bias none
bidir|bidirectional, merge sum|3|2|1|reset after, update keeps-state, bias separate, direction bidirectional, merge sum
stacked|2 layers stacked|3|1|2|reset after, update keeps-state, bias separate"
case " $sizes " in *" $variant_hidden "*) ;; *) variants= ;; esac
while IFS='|' read -r key label gates dirs layers options; do
  [ -n "$key" ] || continue
  mkdir -p "$tmp/v$key"
  {
    echo "model bench"
    echo "precision f32"
    echo "input x[$variant_hidden]"
    echo "gru h = x -> hidden $variant_hidden, $options"
    if [ "$layers" = 2 ]; then echo "gru h2 = h -> hidden $variant_hidden, $options"; echo "output y = h2"; else echo "output y = h"; fi
    echo "init seed 1"
  } >"$tmp/v$key/bench.gru"
done <<EOF
$variants
EOF

# Both activation modes: libm (the C library's expf and tanhf) and fast (the default). A grucc
# from before fast became the default has no 'libm': its default is libm.
builds="libm fast"
first=${sizes%% *}
libm_flags="--activations libm"
if ! "$grucc" "$tmp/h$first/bench.gru" --activations libm -o "$tmp/probe.c" 2>/dev/null; then libm_flags=; fi
fast_note="libm build: ${libm_flags:-the default of an older grucc}"

# Compiles model (grucc) and harness (C) for every size, build and compiler configuration:
# h<H>/<build>/model.c (v<key>/<build>/ for the variants) and harness-c<k> for configuration k.
compile_model() {   # MODEL.GRU DIR BUILD
  local flags= k
  mkdir -p "$2"
  if [ "$3" = fast ]; then flags="--activations fast"; else flags=$libm_flags; fi
  "$grucc" "$1" $flags -o "$2/model.c"
  for ((k = 0; k < nconfigs; k++)); do
    $(config_cc $k) $(config_flags $k) $common -Wall -Wextra -I"$2" "$here/harness.c" "$2/model.c" -lm -lpthread \
      -o "$2/harness-c$k"
  done
}
for h in $sizes; do
  for b in $builds; do compile_model "$tmp/h$h/bench.gru" "$tmp/h$h/$b" $b; done
  # The same model and weights with its matrices stored narrow (fast activations).
  for s in $storages; do
    sed "s/^precision f32\$/precision f32\nweights-storage $s/" "$tmp/h$h/bench.gru" >"$tmp/h$h/$s.gru"
    compile_model "$tmp/h$h/$s.gru" "$tmp/h$h/$s" fast
  done
done
while IFS='|' read -r key label gates dirs layers options; do
  [ -n "$key" ] || continue
  for b in $builds; do compile_model "$tmp/v$key/bench.gru" "$tmp/v$key/$b" $b; done
done <<EOF
$variants
EOF

# The CRNN for grucc: the fixture's model.gru renamed `bench`, its head on every step (the
# model's output is the head on the last state; a streaming caller reads it at every step, and
# harness.c times a sequence output). A grucc without conv1d, batchnorm, pad, pool or l2norm
# refuses it: the row is then skipped, with grucc's reason.
crnn=0 crnn_note=
if [ -z "$crnn_fixture" ]; then
  crnn_note="no Tests/Fixtures/import/keras_crnn_edge (made by Tools/make-crnn-fixtures.py)"
else
  mkdir -p "$tmp/crnn"
  cp "$crnn_fixture/weights.npz" "$tmp/crnn/"
  sed -e 's/^model .*/model bench/' \
      -e 's/^output y = l2norm(dense(state(h), 2))$/output y = l2norm(dense(h, 2))/' \
      "$crnn_fixture/model.gru" >"$tmp/crnn/bench.gru"
  grep -q '^output y = l2norm(dense(h, 2))$' "$tmp/crnn/bench.gru" ||
    die "$crnn_fixture/model.gru lacks the head 'output y = l2norm(dense(state(h), 2))' run.sh rewrites"
  if refusal=$("$grucc" "$tmp/crnn/bench.gru" -o "$tmp/crnn/probe.c" 2>&1); then
    # The harness may not build against a C API that streams differently: that skips the row
    # too, after the compiler's errors, instead of stopping the benchmark.
    crnn=1
    for b in $builds; do
      compile_model "$tmp/crnn/bench.gru" "$tmp/crnn/$b" $b || true
      for ((k = 0; k < nconfigs; k++)); do
        [ -x "$tmp/crnn/$b/harness-c$k" ] || { crnn=0; crnn_note="Benchmarks/harness.c does not build with grucc's C for it (errors above)"; }
      done
    done
  else
    crnn_note="grucc refuses the model: $(printf '%s\n' "$refusal" | grep -m 1 . | cut -c 1-200)"
  fi
fi
[ -z "$crnn_note" ] || echo "run.sh: CRNN row skipped: $crnn_note" >&2

# ---- correctness, then time ---------------------------------------------------------------

# The reference is PyTorch's output when the peers ran; else the libm build checks the fast
# one (the first configuration's libm build writes x.f32 and y.f32 itself). Every
# configuration is checked: results lines "check H BUILD@c<k> ERRORS".
for h in $sizes; do
  if [ -n "$python" ]; then
    checked=$builds
  else
    "$tmp/h$h/libm/harness-c0" dump $steps "$tmp/h$h/x.f32" "$tmp/h$h/y.f32"
    checked=${builds#libm}
  fi
  for b in $checked; do
    for ((k = 0; k < nconfigs; k++)); do
      echo "check $h $b@c$k $("$tmp/h$h/$b/harness-c$k" check $steps "$tmp/h$h/x.f32" "$tmp/h$h/y.f32")" >>"$results"
    done
  done
  # The storages' errors are their own (the weights are rounded): reported, not held to max_error.
  for s in $storages; do
    for ((k = 0; k < nconfigs; k++)); do
      echo "scheck $h $s@c$k $("$tmp/h$h/$s/harness-c$k" check $steps "$tmp/h$h/x.f32" "$tmp/h$h/y.f32")" >>"$results"
    done
  done
done
while IFS='|' read -r key label gates dirs layers options; do
  [ -n "$key" ] || continue
  "$tmp/v$key/libm/harness-c0" dump $steps "$tmp/v$key/x.f32" "$tmp/v$key/y.f32"
  for b in ${builds#libm}; do
    for ((k = 0; k < nconfigs; k++)); do
      echo "check v$key $b@c$k $("$tmp/v$key/$b/harness-c$k" check $steps "$tmp/v$key/x.f32" "$tmp/v$key/y.f32")" >>"$results"
    done
  done
  echo "variant v$key $gates $dirs $layers $label" >>"$results"
done <<EOF
$variants
EOF
# The CRNN against ONNX Runtime's output (the head on every step) when the peers ran, else the
# fast build against the libm one: "crnncheck crnn BUILD@c<k> ERRORS".
if [ $crnn = 1 ]; then
  if [ -n "$python" ]; then
    checked=$builds
  else
    "$tmp/crnn/libm/harness-c0" dump $steps "$tmp/crnn/x.f32" "$tmp/crnn/y.f32" || crnn=0
    checked=${builds#libm}
  fi
  for b in $checked; do
    for ((k = 0; k < nconfigs; k++)); do
      if [ $crnn = 1 ] && errors=$("$tmp/crnn/$b/harness-c$k" check $steps "$tmp/crnn/x.f32" "$tmp/crnn/y.f32"); then
        echo "crnncheck crnn $b@c$k $errors" >>"$results"
      else
        crnn=0
      fi
    done
  done
  [ $crnn = 1 ] || crnn_note="grucc's C for it returned an error in harness.c (message above)"
fi

# timed MODE DIR BUILD ARGS...: one measurement of every configuration, back to back, so that
# they share whatever load the machine has; appends "MODE KEY BUILD@c<k> MEDIAN P10 P90" (KEY:
# the size, or v<key> for a variant) to the timings.
timings=$tmp/timings
timed() {
  local mode=$1 dir=$2 b=$3 k
  shift 3
  for ((k = 0; k < nconfigs; k++)); do
    echo "$mode ${dir#h} $b@c$k $("$tmp/$dir/$b/harness-c$k" "$@")" >>"$timings"
  done
}
: >"$timings"
for ((round = 1; round <= rounds; round++)); do
  measure_machine
  for h in $sizes; do
    for b in $builds; do
      timed sequence h$h $b sequence $steps $budget
      timed streaming h$h $b streaming $steps $budget
      timed batch h$h $b batch $batch $batch_steps 1 $budget
      if [ "$h" = $batch_hidden ]; then timed batch2 h$h $b batch $batch $batch_steps 2 $budget; fi
    done
    for s in $storages; do
      timed sequence h$h $s sequence $steps $budget
      timed streaming h$h $s streaming $steps $budget
    done
  done
  while IFS='|' read -r key label gates dirs layers options; do
    [ -n "$key" ] || continue
    for b in $builds; do
      timed sequence v$key $b sequence $steps $budget
      if [ "$dirs" = 1 ]; then timed streaming v$key $b streaming $steps $budget; fi
    done
  done <<EOF
$variants
EOF
  if [ $crnn = 1 ]; then
    for b in $builds; do
      timed crnn-sequence crnn $b sequence $steps $budget
      timed crnn-streaming crnn $b streaming $steps $budget
    done
  fi
done
# Over the rounds: the median of each field (the median, p10 and p90 of every round).
sort -k1,3 "$timings" | awk '
  function middle(f,    i, j, t) {
    for (i = 1; i <= n; i++) v[i] = val[i, f]
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  function flush() { if (key != "") print key, middle(4), middle(5), middle(6) }
  { k = $1 " " $2 " " $3; if (k != key) { flush(); key = k; n = 0 }; n++; for (f = 4; f <= 6; f++) val[n, f] = $f }
  END { flush() }' >>"$results"

# ---- report -------------------------------------------------------------------------------

peak=$(figure peak) bw_l1=$(figure l1) bw_l2=$(figure l2) bw_l3=$(figure l3)

# Other processes on the machine slow the timings down and shrink the 2-thread scaling: the
# load average says whether this run had the machine to itself.
load=$(cut -d ' ' -f 1-3 /proc/loadavg)

echo
echo "## Machine"
echo
echo "cpu:            $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores; load average $load"
echo "FMA peak:       $peak GFLOP/s (1 core; median of $(figure peak range))"
echo "read bandwidth: L1d $bw_l1 GB/s ($(pretty_bytes $l1) cache, $(pretty_bytes $buf_l1) buffer; median of $(figure l1 range))"
echo "                L2  $bw_l2 GB/s ($(pretty_bytes $l2) cache, $(pretty_bytes $buf_l2) buffer; median of $(figure l2 range))"
echo "                L3  $bw_l3 GB/s ($(pretty_bytes $l3) cache, $(pretty_bytes $buf_l3) buffer; median of $(figure l3 range))"
echo "                DRAM $bw_dram GB/s ($(pretty_bytes $buf_dram) buffer)"
for c in $(printf '%s\n' $compilers | sed 's/:.*//' | awk '!seen[$0]++'); do
  echo "C:              $c: $($c --version | head -n 1)"
done
echo "C flags:        $optimised $common$([ $o2 = 1 ] && echo '; also -O2 -march=native and -O2')"
echo "grucc:          $grucc; $fast_note"
if [ -n "$python" ]; then
  echo "peers:          $("$python" -c 'import torch, onnxruntime as o; print(f"PyTorch {torch.__version__}, ONNX Runtime {o.__version__}")'), 1 thread ($python)"
elif [ $peers = 0 ]; then
  echo "peers:          skipped (--no-peers)"
else
  echo "peers:          none (no venv with torch and onnxruntime; Benchmarks/run.sh --setup-venv makes one)"
fi

# compare: every configuration side by side for the sizes' three modes, with the ratios the
# compilers are judged by: each compiler's main build over the first compiler's, and each -O2
# build over the same compiler's main build.
case " $builds " in *" fast "*) derived_label=fast ;; *) derived_label=libm ;; esac
compare() {
  local list= k
  for ((k = 0; k < nconfigs; k++)); do list="$list${list:+;}${configs[$k]}"; done
  awk -v sizes="$sizes" -v build=$derived_label -v configs="$list" -v optimised="$optimised" \
      -v batch_label="batch ${batch}x$batch_steps" '
    $3 ~ /@c/ { split($3, who, "@"); if (who[1] == build) t[$1, $2, who[2]] = $4 }
    function ns(v) { return v == "" ? "-" : sprintf(v < 100 ? "%.1f" : "%.0f", v) }
    function ratio(a, b) { return a == "" || b == "" ? "-" : sprintf("%.2f", a / b) }
    END {
      nc = split(configs, cfg, ";")
      for (k = 1; k <= nc; k++) {
        split(cfg[k], part, "|"); cc[k] = part[1]; flags[k] = part[2]; gsub(/:/, " ", cc[k])
        if (flags[k] == optimised) main[cc[k]] = k
      }
      first = cc[1]
      # columns: each configuration, then its ratio where it has one
      ncol = 2; head[1] = "H"; head[2] = "mode"
      for (k = 1; k <= nc; k++) {
        head[++ncol] = cc[k] " " flags[k]; col[ncol] = k; base[ncol] = 0
        if (flags[k] == optimised && cc[k] != first) { head[++ncol] = cc[k] " / " first; col[ncol] = k; base[ncol] = main[first] }
        else if (flags[k] != optimised) { head[++ncol] = "/ " substr(optimised, 1, index(optimised " ", " ") - 1); col[ncol] = k; base[ncol] = main[cc[k]] }
      }
      n = split(sizes, hs, " ")
      split("sequence|streaming|batch", modes, "|")
      split("sequence (_run)|streaming (_step)|" batch_label " (run_batch)", labels, "|")
      for (i = 1; i <= n; i++) for (m = 1; m <= 3; m++) {
        rows++; cell[rows, 1] = hs[i]; cell[rows, 2] = labels[m]
        for (c = 3; c <= ncol; c++) {
          v = t[modes[m], hs[i], "c" (col[c] - 1)]
          cell[rows, c] = base[c] ? ratio(v, t[modes[m], hs[i], "c" (base[c] - 1)]) : ns(v)
        }
      }
      for (c = 1; c <= ncol; c++) {
        width[c] = length(head[c])
        for (r = 1; r <= rows; r++) if (length(cell[r, c]) > width[c]) width[c] = length(cell[r, c])
      }
      line = "|"; rule = "|"
      for (c = 1; c <= ncol; c++) {
        line = line sprintf(" %" (c == 2 ? "-" : "") width[c] "s |", head[c])
        rule = rule sprintf(" %s%s |", substr("------------------------------------------------------------", 1, width[c] - 1), c == 2 ? "-" : ":")
      }
      print line; print rule
      for (r = 1; r <= rows; r++) {
        line = "|"
        for (c = 1; c <= ncol; c++) line = line sprintf(" %" (c == 2 ? "-" : "") width[c] "s |", cell[r, c])
        print line
      }
      print ""
      print "Ratios are time over time, above 1 slower: \"B / A\" compiler B'"'"'s main build over compiler A'"'"'s, \"/ -O3\" an -O2 build over the same compiler'"'"'s main build."
    }' "$results"
}

# table K: the table of configuration K, from the results of that configuration and the peers'.
table() {
awk -v k="c$1" '
  $1 == "variant" || $3 !~ /@/ { print; next }
  { n = split($3, who, "@"); if (who[2] == k) { $3 = who[1]; print } }' "$results" |
awk -v sizes="$sizes" -v batch_hidden=$batch_hidden -v variant_hidden=$variant_hidden -v batch_label="batch ${batch}x$batch_steps" \
    -v builds="$builds" -v peers="$python" -v max_error=$max_error -v peak="$peak" \
    -v l1="$l1" -v l2="$l2" -v l3="$l3" \
    -v bw_l1="$bw_l1" -v bw_l2="$bw_l2" -v bw_l3="$bw_l3" -v bw_dram="$bw_dram" '
  # results: MODE H WHO MEDIAN P10 P90, or check H BUILD E_SEQUENCE E_STREAMING E_BATCH
  $1 == "check" {
    for (i = 4; i <= 6; i++) if (!(($2, i) in err) || $i + 0 > err[$2, i]) err[$2, i] = $i + 0
    next
  }
  $1 == "variant" {
    nv++; vkey[nv] = $2; vgates[nv] = $3; vdirs[nv] = $4; vlayers[nv] = $5
    vlabel[nv] = $6; for (i = 7; i <= NF; i++) vlabel[nv] = vlabel[nv] " " $i
    next
  }
  { median[$1, $2, $3] = $4; p10[$1, $2, $3] = $5; p90[$1, $2, $3] = $6 }

  # GB/s is bytes per ns: the bandwidth of the smallest level that holds `bytes`
  function bandwidth(bytes) {
    if (bytes <= l1) return bw_l1
    if (bytes <= l2) return bw_l2
    if (l3 == 0 || bytes <= l3) return bw_l3
    return bw_dram
  }
  function ns(v) { return v == "" ? "-" : sprintf(v < 100 ? "%.1f" : "%.0f", v) }
  function ratio(peer, mine) { return peer == "" || mine == "" ? "-" : sprintf("%.2f", peer / mine) }
  function error_cell(h, field,    e) {
    if (!((h, field) in err)) return "-"
    e = err[h, field]
    if (e >= max_error) failed = 1
    return sprintf("%.1e%s", e, e >= max_error ? " FAIL" : "")
  }
  # One row: FLOPs per step, the bound in ns per step, and which field of the check lines holds
  # the error of this mode (0: not checked). The derived columns use the build named by derived.
  function add_row(h, mode, label, flops, bound, field,    ex, fa, d, i) {
    ex = median[mode, h, "libm"]; fa = median[mode, h, "fast"]
    d = derived == "fast" ? fa : ex
    rows++
    cell[rows, 1] = shown_h != "" ? shown_h : h; cell[rows, 2] = label; cell[rows, 3] = ns(ex)
    cell[rows, 4] = fast ? ns(fa) : "n/a"
    cell[rows, 5] = sprintf("-%.0f%%/+%.0f%%", 100 * (1 - p10[mode, h, derived] / d), 100 * (p90[mode, h, derived] / d - 1))
    cell[rows, 6] = sprintf("%.2f", flops / d)
    cell[rows, 7] = ns(bound)
    cell[rows, 8] = sprintf("%.1f%%", 100 * bound / d)
    if (mode == "batch2") {   # the peers run on one thread: no 2-thread comparison
      for (i = 9; i <= 12; i++) cell[rows, i] = "-"
    } else {
      cell[rows, 9] = ns(median[mode, h, "ort"]); cell[rows, 10] = ns(median[mode, h, "torch"])
      cell[rows, 11] = ratio(median[mode, h, "ort"], d); cell[rows, 12] = ratio(median[mode, h, "torch"], d)
    }
    cell[rows, 13] = field ? error_cell(h, field) : "-"
  }
  END {
    fast = builds ~ /fast/
    derived = fast ? "fast" : "libm"
    split("H|mode|libm ns/step|fast ns/step|p10/p90 (" derived ")|GFLOP/s (" derived ")|bound ns/step|% of bound|ORT ns/step|PyTorch ns/step|x ORT|x PyTorch|max err", head, "|")
    ncols = 13
    n = split(sizes, hs, " ")
    for (k = 1; k <= n; k++) {
      h = hs[k]; i = h                      # the benchmark models have I = H
      flops = 2 * 3 * h * (i + h)
      weight_bytes = 4 * 3 * h * (i + h)
      recurrent_bytes = 4 * 3 * h * h
      add_row(h, "sequence", "sequence", flops, 2 * 3 * h * i / peak + recurrent_bytes / bandwidth(recurrent_bytes), 4)
      add_row(h, "streaming", "streaming", flops, weight_bytes / bandwidth(weight_bytes), 5)
      add_row(h, "batch", batch_label, flops, flops / peak, 6)
      if (h == batch_hidden) {
        add_row(h, "batch2", batch_label ", 2 threads", flops, flops / (2 * peak), 0)
        scaling = sprintf("%.2f", median["batch", h, derived] / median["batch2", h, derived])
      }
    }
    # The variants: per direction and layer the cost of one layer with `gates` gates; directions
    # and layers run one after the other, so their bounds add up.
    for (v = 1; v <= nv; v++) {
      key = vkey[v]; h = variant_hidden; i = h; shown_h = h
      recurrent_bytes = 4 * vgates[v] * h * h
      weight_bytes = 4 * vgates[v] * h * (i + h)
      flops = 2 * vgates[v] * vdirs[v] * vlayers[v] * h * (i + h)
      add_row(key, "sequence", "sequence, " vlabel[v], flops,
        vdirs[v] * vlayers[v] * (2 * vgates[v] * h * i / peak + recurrent_bytes / bandwidth(vdirs[v] * recurrent_bytes)), 4)
      if (("streaming", key, derived) in median)
        add_row(key, "streaming", "streaming, " vlabel[v], flops, vlayers[v] * weight_bytes / bandwidth(vlayers[v] * weight_bytes), 5)
      shown_h = ""
    }
    for (c = 1; c <= ncols; c++) {
      width[c] = length(head[c])
      for (r = 1; r <= rows; r++) if (length(cell[r, c]) > width[c]) width[c] = length(cell[r, c])
    }
    line = "|"; rule = "|"
    for (c = 1; c <= ncols; c++) {
      line = line sprintf(" %" (c == 2 ? "-" : "") width[c] "s |", head[c])
      rule = rule sprintf(" %s%s |", substr("------------------------------------------------------------", 1, width[c] - 1), c == 2 ? "-" : ":")
    }
    print line; print rule
    for (r = 1; r <= rows; r++) {
      line = "|"
      for (c = 1; c <= ncols; c++) line = line sprintf(" %" (c == 2 ? "-" : "") width[c] "s |", cell[r, c])
      print line
    }
    print ""
    if (scaling != "") print "2 threads: " scaling "x the throughput of 1 thread (" derived " build)."
    print "x ORT, x PyTorch: the peer'"'"'s time over grucc'"'"'s (" derived " build); above 1, grucc is faster."
    if (peers != "") print "max err: largest |grucc - PyTorch| over the outputs of the " (fast ? "libm and fast builds" : "libm build") "; must be below " max_error "."
    else if (fast) print "max err: largest |fast build - libm build| (no PyTorch to compare with); must be below " max_error "."
    else print "max err: - (no PyTorch and no fast build to compare with)."
    exit failed
  }'
}

# storage_table K: for configuration K, each storage's ns per step next to f32's (the fast build),
# the speed-up (f32 time over the storage's) and the storage's max error against the reference.
storage_table() {
  awk -v k="c$1" -v sizes="$sizes" -v storages="$storages" '
    function ns(v) { return v == "" ? "-" : sprintf(v < 100 ? "%.1f" : "%.0f", v) }
    $3 ~ /@/ {
      split($3, who, "@"); if (who[2] != k) next
      if ($1 == "scheck") { e = $4; for (i = 5; i <= 6; i++) if ($i + 0 > e) e = $i + 0; err[$2, who[1]] = e; next }
      if ($1 == "check") next
      median[$1, $2, who[1]] = $4
    }
    END {
      ns_ = split(storages, st, " ")
      line = "| H | mode | f32 ns/step"
      for (j = 1; j <= ns_; j++) line = line " | " st[j] " ns/step | " st[j] " speed-up"
      for (j = 1; j <= ns_; j++) line = line " | " st[j] " max err"
      print line " |"
      line = "|--:|---|--:"
      for (j = 1; j <= 3 * ns_; j++) line = line "|--:"
      print line "|"
      n = split(sizes, hs, " ")
      for (q = 1; q <= n; q++) {
        h = hs[q]
        for (m = 1; m <= 2; m++) {
          mode = m == 1 ? "sequence" : "streaming"
          f = median[mode, h, "fast"]
          line = "| " h " | " mode " | " ns(f)
          for (j = 1; j <= ns_; j++) {
            s = median[mode, h, st[j]]
            line = line " | " ns(s) " | " (s == "" || f == "" ? "-" : sprintf("%.2fx", f / s))
          }
          for (j = 1; j <= ns_; j++) line = line " | " ((h, st[j]) in err ? sprintf("%.1e", err[h, st[j]]) : "-")
          print line " |"
        }
      }
      print ""
      print "speed-up: f32 storage time over the storage'"'"'s (above 1, the storage is faster); max err: largest |storage build - reference| (the reference as in the table above), the rounding of the weights."
    }' "$results"
}

what="median ns per time step, $budget s per measurement"
[ $rounds = 1 ] || what="median ns per time step over $rounds interleaved rounds (each the median of $budget s)"
failed=0
for ((k = 0; k < nconfigs; k++)); do
  echo
  echo "## grucc, T=$steps (batched: B=$batch, T=$batch_steps), $(config_cc $k) $(config_flags $k): $what"
  echo
  table $k || failed=1
  if [ -n "$storages" ]; then
    echo
    echo "### weights-storage next to f32 ($(config_cc $k) $(config_flags $k), fast activations)"
    echo
    storage_table $k
  fi
done
if [ $nconfigs -gt 1 ]; then
  echo
  echo "## Side by side: $derived_label build, ns per time step"
  echo
  compare
fi

# crnn_table K: the CRNN rows of configuration K: grucc's sequence (_run) and streaming (_step)
# times next to ONNX Runtime's whole-sequence time, all per step. Exits 1 on a FAIL.
crnn_table() {
  awk -v k="c$1" -v builds="$builds" -v max_error=$max_error -v has_crnn=$crnn '
    function ns(v) { return v == "" ? "-" : sprintf(v < 100 ? "%.1f" : "%.0f", v) }
    $1 == "crnncheck" {
      split($3, who, "@"); if (who[2] != k) next
      for (i = 4; i <= 6; i++) if ($i + 0 > err) err = $i + 0
      checked = 1; next
    }
    $2 == "crnn" && ($1 == "crnn-sequence" || $1 == "crnn-streaming") {
      n = split($3, who, "@"); if (n == 2 && who[2] != k) next
      t[$1, who[1]] = $4
    }
    END {
      fast = builds ~ /fast/; d = fast ? "fast" : "libm"
      ort = t["crnn-sequence", "ort"]
      e = !checked ? "-" : sprintf("%.1e%s", err, err >= max_error ? " FAIL" : "")
      print "| mode | libm ns/step | fast ns/step | ORT ns/step (whole sequence) | x ORT | max err |"
      print "|---|--:|--:|--:|--:|--:|"
      for (m = 1; m <= 2; m++) {
        mode = m == 1 ? "crnn-sequence" : "crnn-streaming"
        label = m == 1 ? "sequence (_run)" : "streaming (_step)"
        mine = t[mode, d]
        printf "| %s | %s | %s | %s | %s | %s |\n", label, has_crnn ? ns(t[mode, "libm"]) : "skipped",
          has_crnn && fast ? ns(t[mode, "fast"]) : "-", ns(ort),
          mine == "" || ort == "" ? "-" : sprintf("%.2f", ort / mine), e
      }
      exit checked && err >= max_error
    }' "$results"
}
echo
echo "## CRNN (issue 15): Conv1D(16, 20, causal), BatchNorm, AveragePool(3, 1), GRU(32), Dense(2), L2 norm; 2 inputs, T=$steps"
echo
if [ $crnn = 1 ]; then
  for ((k = 0; k < nconfigs; k++)); do
    [ $nconfigs = 1 ] || { echo "$(config_cc $k) $(config_flags $k):"; echo; }
    crnn_table $k || failed=1
    echo
  done
else
  crnn_table 0
  echo
  echo "grucc: skipped ($crnn_note)."
fi
if [ -n "$python" ]; then crnn_ref="max err: against ONNX Runtime's head on every step"; else crnn_ref="max err: fast build against the libm build"; fi
echo "Weights: Tests/Fixtures/import/keras_crnn_edge (trained by Keras). grucc computes the head on every step, as a streaming caller reads it; ONNX Runtime runs the model's own graph (head on the final state) on [1, T, 2], 1 thread, and cannot stream it. x ORT: ORT's time over grucc's ($derived_label build); above 1, grucc is faster. $crnn_ref."
[ $failed = 0 ] || die "an output differs from its reference by $max_error or more (FAIL above)"

echo
echo "total time: $SECONDS s"
