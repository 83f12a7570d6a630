#!/usr/bin/env bash
# Fuzz/run.sh: runs the libFuzzer targets, each for a number of seconds, from a seed corpus made
# of the test fixtures, and prints how many inputs each executed.
#
#   Fuzz/run.sh                      every target for 20 s (.ci/run: --seconds 10 --jobs 1)
#   Fuzz/run.sh --seconds 600 npy    one target for 10 minutes
#   Fuzz/run.sh --jobs 2 --seconds 600
#                                    two targets at a time
#
# Targets: npy npz safetensors onnx csv json gru (Fuzz/Targets/). Fuzz/build.sh builds them
# first (FUZZ_OPT=-Onone for a quicker build). Each target keeps its corpus in
# Fuzz/.build/corpus/TARGET (it grows from run to run) and writes any crashing input to
# Fuzz/.build/crashes/TARGET/. A crash makes the script exit 1 after printing the input's path;
# reproduce it with Fuzz/.build/O/fuzz-TARGET FILE, then add the file to
# Tests/Fixtures/hostile/fuzz/TARGET/ (HostileInputTests reads every file there).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=20
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(npy npz safetensors onnx csv json gru)

"$here/build.sh" 2> >(grep -v 'ld.gold: warning: Cannot export local symbol' >&2)
out=$here/.build
opt=${FUZZ_OPT:--O}
binaries=$out/${opt#-}

# Seeds: the fixtures of each format (the JSON seeds are the safetensors headers and the
# import cases' JSON; the .gru seeds are the Specs and the golden models).
seed() {
  local target=$1 dir=$out/corpus/$1
  mkdir -p "$dir"
  case "$target" in
    npy) find "$root/Tests/Fixtures" -name '*.npy' -exec cp {} "$dir/" \; ;;
    npz) find "$root/Tests/Fixtures" "$root/Specs" -name '*.npz' -size -2M | while read -r f; do
           cp "$f" "$dir/$(echo "$f" | cksum | cut -d' ' -f1).npz"; done ;;
    safetensors) find "$root/Tests/Fixtures" "$root/Specs" -name '*.safetensors' -exec cp {} "$dir/" \; ;;
    onnx) find "$root/Tests/Fixtures" -name '*.onnx' | while read -r f; do
            cp "$f" "$dir/$(echo "$f" | cksum | cut -d' ' -f1).onnx"; done ;;
    csv) find "$root/Tests/Fixtures" -name '*.csv' -exec cp {} "$dir/" \; ;;
    json)
      find "$root/Tests/Fixtures" -name '*.json' | while read -r f; do
        cp "$f" "$dir/$(echo "$f" | cksum | cut -d' ' -f1).json"; done
      find "$root/Tests/Fixtures" "$root/Specs" -name '*.safetensors' | while read -r f; do
        length=$(od -An -t u8 -N 8 "$f" | tr -d ' ')
        tail -c +9 "$f" | head -c "$length" >"$dir/$(basename "$f").json"
      done ;;
    gru) find "$root/Specs" "$root/Tests/Golden" "$root/Tests/Fixtures" -name '*.gru' | while read -r f; do
           cp "$f" "$dir/$(echo "$f" | cksum | cut -d' ' -f1).gru"; done ;;
    *) echo "run.sh: unknown target '$target'" >&2; exit 2 ;;
  esac
}

run() {
  local target=$1 log=$out/logs/$1.log
  mkdir -p "$out/crashes/$target" "$out/logs"
  seed "$target"
  local dict=()
  [ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
  # Leak checks need ptrace, which containers often forbid; the readers allocate nothing unsafe.
  ASAN_OPTIONS=detect_leaks=0 "$binaries/fuzz-$target" "${dict[@]}" -max_total_time="$seconds" -timeout=60 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/$target/" \
    "$out/corpus/$target" >"$log" 2>&1 || true
  # libFuzzer's timeout is wall time: on a loaded machine a process can stall long enough for a
  # millisecond input to pass 10 s. Each timeout is run again alone; one that then finishes in
  # time is set aside (the table shows the run's real length, shorter than asked).
  for t in "$out/crashes/$target"/timeout-*; do
    [ -f "$t" ] || continue
    if ASAN_OPTIONS=detect_leaks=0 "$binaries/fuzz-$target" -timeout=10 "$t" >"$log.timeout" 2>&1; then
      mkdir -p "$out/crashes/$target/unreproduced"
      mv "$t" "$out/crashes/$target/unreproduced/"
      echo "run.sh: $target: the timeout $(basename "$t") does not reproduce alone (machine load)" >>"$log"
    fi
  done
}

pids=()
for target in "${targets[@]}"; do
  run "$target" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

status=0
printf '%-12s %8s %14s %10s %8s  %s\n' target seconds executions "per sec" corpus result
# The seconds a target really ran: libFuzzer stops at its first crash or timeout.
for target in "${targets[@]}"; do
  log=$out/logs/$target.log
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  ran=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o '[0-9]* second' | grep -o '[0-9]*' || echo "<$seconds")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  corpus=$(find "$out/corpus/$target" -type f | wc -l)
  crashes=$(find "$out/crashes/$target" -maxdepth 1 -type f | wc -l)
  if [ "$crashes" -gt 0 ]; then
    result="CRASH: $(find "$out/crashes/$target" -maxdepth 1 -type f | head -1) (log $log)"
    status=1
  elif [ "$runs" = 0 ]; then
    result="did not run (log $log)"
    status=1
  else
    result=ok
  fi
  printf '%-12s %8s %14s %10s %8s  %s\n' "$target" "$ran" "${runs:-0}" "${rate:-0}" "$corpus" "$result"
done
exit $status
