#!/usr/bin/env bash
# Fuzzes the file readers with Jazzer (README "Reliability").
#   src/test/fuzz.sh [MINUTES] [TEST ...]     default: 5 minutes for each of the eight fuzz tests in turn
#   src/test/fuzz.sh 10 NsmFuzzTest           one reader for 10 minutes
# Each run is `JAZZER_FUZZ=1 mvn test -Dtest=<TEST>` with libFuzzer's -max_total_time (Jazzer's JUnit integration
# takes libFuzzer flags from the jazzer.internal.arg.N properties; arg.0 is a program name), in the pom's
# fuzz-regression execution with its 1 GiB heap, so an input that makes a reader allocate far beyond its size
# fails as OutOfMemoryError. New coverage goes to
# .cifuzz-corpus/ (ignored by git); a crashing input is written to the test's Inputs/ resource directory, where it
# becomes a regression seed that every `mvn test` replays. The last line per test counts the inputs run.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-5}
shift || true
tests=("$@")
[[ ${#tests[@]} -gt 0 ]] || tests=(NpyFuzzTest NsmFuzzTest GraphJsonFuzzTest TrainStateFuzzTest OnnxFuzzTest
                                   IdxFuzzTest Cifar10FuzzTest ImageFolderFuzzTest)
mkdir -p target
for t in "${tests[@]}"; do
  log=target/fuzz-$t.log
  JAZZER_FUZZ=1 mvn -B -o test -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time=$((minutes * 60)) >"$log" 2>&1 \
    && status=ok || status="FAILED (finding or error; see $log)"
  runs=$(grep -aoE '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  echo "$t: $status; ${runs:-no libFuzzer summary} (log $log)"
done
