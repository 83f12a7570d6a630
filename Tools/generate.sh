#!/bin/sh
# Regenerates Generated/ from Specs/: one <spec>.c and <spec>.h per Specs/<spec>.gru.
# Run from the repository root after changing the emitter; GeneratedIsFreshTests checks it.
# Environment: GRUCC (a grucc binary, e.g. .build/release/grucc; else the debug build, built here).
set -eu
if [ -n "${GRUCC:-}" ]; then
  grucc=$GRUCC
else
  swift build --product grucc
  grucc=.build/debug/grucc
fi
for spec in Specs/*.gru; do
  name=$(basename "$spec" .gru)
  "$grucc" "$spec" -o "Generated/$name.c"
done
echo "regenerated $(ls Specs/*.gru | wc -l) models into Generated/"
