#!/usr/bin/env bash
# Benchmarks/firmware-sizes.sh: what each Spec's generated C costs on a Cortex-M4, as the
# README's table in "In firmware" gives it. Builds Generated/*.c (the Specs' C with grucc's
# default flags; Tools/generate.sh keeps it fresh) with arm-none-eabi-gcc -Os and prints a
# Markdown table: flash (.text + .rodata) and RAM in bytes (the state struct, the scratch of
# run_batch for one sequence, and the declared stack bound, <P>_STACK_BYTES on a 32-bit
# target). Streaming (`_step`) needs the state and the stack; a sequence (`run`) the scratch and
# the stack. T is the model's fixed number of steps, or 1000. Sizes that are macros are read back from the object file's symbol table, so they
# are what the ARM compiler computes, not a recomputation.
#
#   Benchmarks/firmware-sizes.sh            needs arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${ARM_CC:-arm-none-eabi-gcc}
command -v "$cc" >/dev/null || { echo "firmware-sizes.sh: $cc not found" >&2; exit 1; }
flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -std=c99 -ffunction-sections -fdata-sections)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| Spec | precision | .text | .rodata | flash | state | stack bound | RAM, streaming | T | scratch (B = 1) | RAM, one sequence |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for c in "$root"/Generated/*.c; do
  name=$(basename "$c" .c)
  header="$root/Generated/$name.h"
  # The prefix of the header's macros: FOO_STACK_BYTES.
  macro=$(sed -n 's/^#define \([A-Z0-9_]*\)_STACK_BYTES .*/\1/p' "$header" | head -1)
  precision=$(grep -q 'double' "$header" && echo f64 || echo f32)
  "$cc" "${flags[@]}" -c "$c" -I "$root/Generated" -o "$work/$name.o"
  # Arrays whose sizes are the macros: their symbol sizes are the macros' values on this target.
  {
    echo "#include \"$name.h\""
    # A model that cannot stream has no state struct: its state lives in the scratch.
    if grep -q "${macro}_STATE_BYTES" "$header"; then echo "unsigned char grucc_state[$macro""_STATE_BYTES];"; fi
    if grep -q "${macro}_SCRATCH_BYTES" "$header"; then
      echo "unsigned char grucc_scratch[$macro""_SCRATCH_BYTES(1, ${macro}_SCRATCH_T)];"
    fi
    echo "unsigned char grucc_stack[$macro""_STACK_BYTES];"
  } > "$work/sizes.c"
  steps=$(sed -n "s/^#define ${macro}_STEPS \([0-9]*\).*/\1/p" "$header")
  "$cc" "${flags[@]}" -D"${macro}_SCRATCH_T=${steps:-1000}" -I "$root/Generated" -c "$work/sizes.c" -o "$work/sizes.o"
  size_of() { local hex; hex=$(arm-none-eabi-nm -S "$work/sizes.o" | awk -v s="$1" '$4 == s { print $2 }'); [ -n "$hex" ] && echo $((16#$hex)) || true; }
  state=$(size_of grucc_state); state=${state:-0}
  scratch=$(size_of grucc_scratch); scratch=${scratch:-0}
  stack=$(size_of grucc_stack)
  read -r text rodata < <(arm-none-eabi-size -A "$work/$name.o" | awk '
    $1 ~ /^\.text/ { t += $2 } $1 ~ /^\.rodata/ { r += $2 } END { print t + 0, r + 0 }')
  if [ "$state" -gt 0 ]; then streaming="$state | $stack | $((state + stack))"; else streaming="— | $stack | —"; fi
  echo "| $name | $precision | $text | $rodata | $((text + rodata)) | $streaming | ${steps:-1000} | $scratch | $((scratch + stack)) |"
done
