#!/bin/sh
# Seed 001's story from scratch: trains the adder with `grucc train` from the Spec's init rules
# (the command in Specs/seed001-adder.gru), compiles the trained model to C, and checks that the
# C adds 20-bit numbers (Tools/adder/check.c: 1024 + 16 = 1040 and 200 random sums). CI runs it;
# it needs a release build of grucc (about a minute) and trains in about 30 s.
# Environment: GRUCC (a grucc binary, e.g. .build/release/grucc; else this script builds one).
set -eu
case ${GRUCC:-} in '' | /*) ;; *) GRUCC=$(pwd)/$GRUCC ;; esac
cd "$(dirname "$0")/../.."
if [ -n "${GRUCC:-}" ]; then
  grucc=$GRUCC
else
  swift build -c release --product grucc
  grucc="$(swift build -c release --product grucc --show-bin-path)/grucc"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A copy of the Spec beside the weights it will write, so the committed weights stay as they are.
cp Specs/seed001-adder.gru "$tmp/"
start=$(date +%s)
"$grucc" train "$tmp/seed001-adder.gru" --init --data Specs/seed001-adder.train.npz \
  --valid Specs/seed001-adder.valid.npz --loss quadratic --steps 5000 --batch 100 --every 1000
echo "trained in $(($(date +%s) - start)) s"
if cmp -s "$tmp/seed001-adder.safetensors" Specs/seed001-adder.safetensors; then
  echo "the weights are the committed ones, bit for bit"
else
  echo "the weights differ from the committed ones (another libm?); the check below decides"
fi
"$grucc" "$tmp/seed001-adder.gru" -o "$tmp/seed001-adder.c"
cc -std=c99 -O2 -I"$tmp" Tools/adder/check.c "$tmp/seed001-adder.c" -lm -o "$tmp/check"
"$tmp/check"
