#!/usr/bin/env bash
# GoogLeNet-224 (torchvision's ONNX export) in netslim and ONNX Runtime 1.29 in ONE JVM, passes interleaved
# (OrtSideBySide): on a machine whose speed drifts between runs this ratio is the one to record; the separate-process
# googlenet-vs-ort.sh is kept for the per-process view. Usage: bench/ort-side-by-side.sh [batch ...] (default 1 8).
# Knobs: THREADS=2 GEMM=auto ROUNDS=30 WARMUP=8 (seconds of interleaved warm-up: the JIT needs seconds on 2
# cores), SPIN=false (ORT's threads spinning between runs would take the cores from netslim's next pass; with it on,
# netslim's batch-1 passes measured 29.7 ms instead of 20.4, ORT's 11.7 instead of 12.5, session 7), BLOCK=1 (passes
# of each engine per turn; with N > 1 only the last N - 1 of each block count: each follows its own engine's pass).
# Needs what googlenet-vs-ort.sh needs, plus Maven to build bench/target/benchmarks.jar (which bundles ONNX Runtime).
set -euo pipefail
batches=("$@")
[[ $# -eq 0 ]] && batches=(1 8)
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/../shared/peers}"
work="${TMPDIR:-/tmp}/netslim-bench"
mkdir -p "$work"
[[ -f "$work/googlenet.onnx" ]] || /usr/bin/python3 "$peers/export_torchvision.py" googlenet "$work" --batch 1 >&2
source "$root/bench/side-by-side-common.sh"
exec java "${jvm[@]}" \
  -Dthreads="${THREADS:-2}" -Dgemm="${GEMM:-auto}" -Drounds="${ROUNDS:-30}" -Dwarmup="${WARMUP:-8}" \
  -Dspin="${SPIN:-false}" -Dblock="${BLOCK:-1}" -cp "$root/bench/target/benchmarks.jar" netslim.bench.OrtSideBySide "$work/googlenet.onnx" "${batches[@]}" 2>&1 \
  | grep -v '^WARNING: Using incubator modules'
