#!/usr/bin/env bash
# Issue 8's "speedup >= 0.8 x MAC reduction" target in ONE JVM (CompressionSideBySide): a zoo model dense and as
# ModelBench's rewritten variants (compressed: l1 pruning 0.3 ranked globally + Tucker-2 EVBMF; pruned: l1 pruning 0.3
# within every layer, widths rounded to 8), serving plans, passes interleaved after an interleaved warm-up.
# Usage: bench/compression-side-by-side.sh [model] [batch ...] (default googlenet 1 32).
# Knobs: THREADS=2 GEMM=auto PASSES=40 WARMUP=15 VARIANTS=compressed,pruned.
set -euo pipefail
model="${1:-googlenet}"
shift || true
batches=("$@")
[[ ${#batches[@]} -eq 0 ]] && batches=(1 32)
source "$(cd "$(dirname "$0")" && pwd)/side-by-side-common.sh"
exec java "${jvm[@]}" \
  -Dthreads="${THREADS:-2}" -Dgemm="${GEMM:-auto}" -Dpasses="${PASSES:-40}" -Dwarmup="${WARMUP:-15}" \
  -Dvariants="${VARIANTS:-compressed,pruned}" -cp "$root/bench/target/benchmarks.jar" \
  netslim.bench.CompressionSideBySide "$model" "${batches[@]}" 2>&1 | grep -v '^WARNING: Using incubator modules'
