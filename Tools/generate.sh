#!/bin/sh
# Regenerates Generated/ from Specs/: one <spec>.c and <spec>.h per Specs/<spec>.gru.
# Run from the repository root after changing the emitter; GeneratedIsFreshTests checks it.
set -eu
swift build --product grucc
for spec in Specs/*.gru; do
  name=$(basename "$spec" .gru)
  .build/debug/grucc "$spec" -o "Generated/$name.c"
done
echo "regenerated $(ls Specs/*.gru | wc -l) models into Generated/"
