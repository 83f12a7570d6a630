#!/bin/sh
# Tools/random-models.sh: the random differential test (Tests/GruccTests/EndToEnd/RandomModelTests.swift)
# on many models: each is drawn from its seed, compiled by grucc to C (exact and fast activations),
# run with B = 1 and B = 7 (and step by step when it streams), interpreted, and compared with the
# independent reference. Prints the count and the worst error per precision; a failing seed is
# printed with the command that replays it.
#
#   Tools/random-models.sh                     5000 models from seed 100000
#   Tools/random-models.sh 20000 7             20000 models from seed 7
#   GRUCC_RANDOM_CFLAGS="-O2 -fsanitize=address,undefined" Tools/random-models.sh 1000
set -eu
cd "$(dirname "$0")/.."
count=${1:-5000}
seed=${2:-100000}
GRUCC_RANDOM_MODELS=$count GRUCC_RANDOM_SEED=$seed \
  swift test --filter 'RandomModelTests/randomModelsAgreeWithTheReferenceOnEveryPath' 2>&1 |
  grep -E '^random models:|seed [0-9]+:|replay:|✘|passed after|failed after|error:' || true
