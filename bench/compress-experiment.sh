#!/usr/bin/env bash
# The paper's comparison (issue "Compression", the experiment): baseline vs prune vs tucker vs prune+tucker at
# matched accuracy, from the trained googlenet-cifar w0.25 Fashion-MNIST baseline, then each chosen variant
# evaluated on the FULL test set (the search itself decides on the first TEST_LIMIT test images).
# Usage: bench/compress-experiment.sh BASELINE.nsm [OUTDIR=experiment]
# Budget knobs (environment): FT_LIMIT (fine-tune images per point, default 10000), FT_EPOCHS (1),
# TEST_LIMIT (2000), STEPS (search points per variant, 4), MAX_DROP (0.5), BENCH_ITERS (20), THREADS (2),
# LR (fine-tuning learning rate; default: compress's own default).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${1:?usage: bench/compress-experiment.sh BASELINE.nsm [OUTDIR]}"
out="${2:-experiment}"
mkdir -p "$out"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
test_limit="${TEST_LIMIT:-2000}"
# With a test subset, the chosen variants are evaluated again on the full test set afterwards; with TEST_LIMIT=0
# the search already used every test image, so the report's top-1 figures are the full-test-set ones.
[[ "$test_limit" == 0 ]] || "$root/netslim" eval --model "$base" --data fashion-mnist --json > "$out/baseline-eval.json"
"$root/netslim" compress --model "$base" --data fashion-mnist --pipeline all --report "$out/report" \
  --max-drop "${MAX_DROP:-0.5}" --search-steps "${STEPS:-4}" --finetune-epochs "${FT_EPOCHS:-1}" \
  --train-limit "${FT_LIMIT:-10000}" --test-limit "$test_limit" --bench-iters "${BENCH_ITERS:-20}" \
  --threads "${THREADS:-2}" --device cpu ${LR:+--lr "$LR"}
if [[ "$test_limit" == 0 ]]; then
  echo "TEST_LIMIT=0: the top-1 figures above (and in $out/report/report.md) are on the full test set"
  exit 0
fi
for v in prune tucker prune+tucker; do
  f="$out/report/$v.nsm"
  [[ -f "$f" ]] || continue
  top1=$("$root/netslim" eval --model "$f" --data fashion-mnist --json | sed -n 's/.*"top1": *\([0-9.]*\).*/\1/p')
  echo "full test set: $v top-1 $top1"
done
echo "full test set: baseline top-1 $(sed -n 's/.*"top1": *\([0-9.]*\).*/\1/p' "$out/baseline-eval.json")"
