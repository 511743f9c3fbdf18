#!/usr/bin/env bash
# GoogLeNet-224 inference latency: netslim (both CPU GEMMs) beside ONNX Runtime, in one run on this machine.
# Usage: bench/googlenet-vs-ort.sh [batch ...]   (default: 1 8)
# Needs ../shared/peers (ort_bench.sh, export_torchvision.py) and Debian's python3-torch/torchvision/onnx for the
# ONNX file. Prints one line per measurement and a ratio table; record the output in bench/RESULTS.md.
# netslim gets 10 warm-up passes (its Java kernels need the JIT's second tier; with 3, batch 1 measured 40-46 ms
# against ~36 ms in steady state), ORT its own 3 (native code).
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
    ms=$("$root/netslim" bench --model googlenet --batch "$b" --device cpu --gemm "$gemm" --iters 20 --warmup 10 --json \
         | sed -n 's/.*"median_ms": *\([0-9.]*\).*/\1/p')
    ratio=$(awk -v a="$ms" -v b="${ortms[$b]}" 'BEGIN { printf "%.2f", a / b }')
    echo "netslim gemm=$gemm batch=$b median $ms ms; ORT ${ortms[$b]} ms; netslim/ORT = $ratio"
  done
done
