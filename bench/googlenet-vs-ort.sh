#!/usr/bin/env bash
# GoogLeNet-224 inference latency: netslim (both CPU GEMMs) beside ONNX Runtime, in one run on this machine.
# Usage: bench/googlenet-vs-ort.sh [batch ...]   (default: 1 8)
# Needs ../shared/peers (ort_bench.sh, export_torchvision.py) and Debian's python3-torch/torchvision/onnx for the
# ONNX file. Prints one line per measurement and a ratio table; record the output in bench/RESULTS.md.
# netslim gets 480 / batch warm-up passes (at least 10): its Java kernels need the JIT's second tier, which on 2
# cores takes seconds. Session 6 (AMD EPYC) used 60 / batch, but on the AVX-512 Xeon of session 7 batch 1 measured
# 25.2 / 24.9 ms after 60 passes against 19.5 / 20.9 ms after 500 (the JIT was still compiling); ORT its own 3.
# On a machine whose speed drifts between runs prefer bench/ort-side-by-side.sh (one JVM, passes interleaved).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/../shared/peers}"
batches=("${@:-1 8}")
[[ $# -eq 0 ]] && batches=(1 8)
work="${TMPDIR:-/tmp}/netslim-bench"
mkdir -p "$work"
[[ -f "$work/googlenet.onnx" ]] || /usr/bin/python3 "$peers/export_torchvision.py" googlenet "$work" --batch 1 >&2

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
ort=$("$peers/ort_bench.sh" "$work/googlenet.onnx" "${batches[@]}")
echo "$ort"
declare -A ortms
while read -r _ _ b _ ms _; do ortms[${b#batch=}]=$ms; done <<< "$ort"

"$root/netslim" stats --model googlenet >/dev/null   # builds the jar once, outside the timings
for gemm in openblas java; do
  for b in "${batches[@]}"; do
    warm=$(( 480 / b > 10 ? 480 / b : 10 ))
    ms=$("$root/netslim" bench --model googlenet --batch "$b" --device cpu --gemm "$gemm" --iters 20 --warmup "$warm" --json \
         | sed -n 's/.*"median_ms": *\([0-9.]*\).*/\1/p')
    ratio=$(awk -v a="$ms" -v b="${ortms[$b]}" 'BEGIN { printf "%.2f", a / b }')
    echo "netslim gemm=$gemm batch=$b median $ms ms; ORT ${ortms[$b]} ms; netslim/ORT = $ratio"
  done
done
