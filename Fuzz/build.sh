#!/usr/bin/env bash
# Fuzz/build.sh: builds the libFuzzer targets in Fuzz/.build/OPT/, one binary per target in
# Fuzz/Targets/ (npy, npz, safetensors, onnx, csv, json, gru).
#
# GruccCore's sources are compiled once, with coverage instrumentation and AddressSanitizer
# (swiftc -sanitize=fuzzer,address), into a static library with testing enabled, so each target
# reaches the internal readers with `@testable import GruccCore`. The toolchain's clang runtime
# has libFuzzer. FUZZ_OPT is the optimisation level: -O (the default) makes about three times as
# many executions a second, -Onone builds three times faster (CI's short runs use it); both keep
# Swift's overflow and bounds checks.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
opt=${FUZZ_OPT:--O}
out=$here/.build/${opt#-}
mkdir -p "$out"
flags=(-sanitize=fuzzer,address "$opt" -g -swift-version 6)

library=$out/libGruccCore.a
newest_source=$(find "$root/Sources/GruccCore" -name '*.swift' -newer "$library" 2>/dev/null | head -1)
if [ ! -f "$library" ] || [ -n "$newest_source" ]; then
  echo "fuzz: compiling GruccCore with -sanitize=fuzzer,address (a few minutes)" >&2
  find "$root/Sources/GruccCore" -name '*.swift' | sort >"$out/sources.txt"
  xargs swiftc "${flags[@]}" -j "$(nproc 2>/dev/null || echo 2)" -parse-as-library -enable-testing -module-name GruccCore \
    -emit-library -static -emit-module -emit-module-path "$out/GruccCore.swiftmodule" \
    -o "$library" <"$out/sources.txt"
fi

for target in "$here"/Targets/*.swift; do
  name=$(basename "$target" .swift | tr '[:upper:]' '[:lower:]')
  binary=$out/fuzz-$name
  if [ ! -x "$binary" ] || [ "$target" -nt "$binary" ] || [ "$library" -nt "$binary" ] ||
    [ "$here/Targets/Support/FuzzInput.swift" -nt "$binary" ]; then
    echo "fuzz: linking $name" >&2
    swiftc "${flags[@]}" -parse-as-library -module-name "Fuzz_$name" -I "$out" \
      "$target" "$here/Targets/Support/FuzzInput.swift" "$library" -lm -o "$binary"
  fi
done
