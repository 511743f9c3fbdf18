#!/usr/bin/env bash
# netslim beside its CPU peers — ONNX Runtime 1.29 (Java, CPU EP) and PyTorch 1.13 (CPU) — in one run on one
# machine, as a Markdown report with the ratios issue 8 sets targets for:
#   1. torchvision GoogLeNet-224 inference, batch 1 and 8: netslim (each GEMM of GEMMS), ORT, PyTorch;
#   2. one training step at batch 8 (forward, cross-entropy, backward, SGD momentum): netslim `bench --train` vs
#      torch_bench.py --train, for googlenet and googlenet-cifar (PyTorch's column says why when it cannot run);
#   3. googlenet-cifar (zoo default input) inference, batch 1 and 32: netslim vs ORT on netslim's own ONNX export;
#   4. optional (COMPRESSED=DIR): a compress report's variants against their baseline at batch 1 and 32 — MAC
#      reduction, measured speedup and speedup / MAC reduction.
# Usage: bench/cpu-vs-peers.sh [OUT.md]        (the report goes to stdout, and to OUT.md when given)
# Knobs (environment):
#   ITERS=10 WARMUP=3  timed / untimed iterations of every netslim measurement; ITERS also for ORT and PyTorch,
#                      whose scripts warm up 3 runs (fixed there)
#   WARMUP_SECONDS=5   netslim's warm-up also lasts at least this long (its JIT; ORT and PyTorch are native code)
#   THREADS=2          threads for netslim, ORT and PyTorch alike
#   GEMMS="auto java"  netslim's --gemm values, one column each (auto = the default, OpenBLAS when it loads; the
#                      report says what auto ran as); GEMMS="auto openblas java" for all
#   NO_TORCH=1         skip the PyTorch columns (the report says they were skipped on purpose)
#   COMPRESSED=DIR     a `compress --report DIR` directory (report.json + <variant>.nsm)
#   BASELINE=F.nsm     the baseline of COMPRESSED (default: the baseline file report.json names)
#   ROUNDS=2 GEMM=auto for COMPRESSED: baseline/variant pairs per batch (order alternating), and the GEMM used
#   PEERS=DIR          the peer scripts (default ../shared/peers beside the main checkout)
#   PYTHON=/usr/bin/python3  the Python that has PyTorch
# Needs: Java 17, Maven, Debian's python3-torch python3-torchvision python3-onnx (for PyTorch and for the
# torchvision ONNX file, cached under ${TMPDIR:-/tmp}/netslim-bench like googlenet-vs-ort.sh), and python3 for
# COMPRESSED. Timings drift 10-20 % on shared machines: compare only within one run, on a quiet machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out_md="${1:-}"
GEMMS="${GEMMS:-auto java}"
ITERS="${ITERS:-10}" WARMUP="${WARMUP:-3}" WARMUP_SECONDS="${WARMUP_SECONDS:-5}" THREADS="${THREADS:-2}" ROUNDS="${ROUNDS:-2}" GEMM="${GEMM:-auto}"
NO_TORCH="${NO_TORCH:-}"
py="${PYTHON:-/usr/bin/python3}"   # the Python with python3-torch (Debian's)
work="${TMPDIR:-/tmp}/netslim-bench"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

die() { echo "cpu-vs-peers: $*" >&2; exit 2; }
say() { echo "cpu-vs-peers: $*" >&2; }

# attempt WHAT CMD... — CMD's stdout; on failure one line naming WHAT and CMD's last line of stderr.
attempt() {
  local what=$1; shift
  if ! "$@" >"$tmp/out" 2>"$tmp/err"; then
    die "$what failed: $(grep -v '^WARNING: Using incubator\|^Picked up JAVA_TOOL_OPTIONS' "$tmp/err" | tail -n 1)"
  fi
  cat "$tmp/out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- peers and inputs, all checked before any timing ---------------------------------------------------------------
peers="${PEERS:-}"
if [[ -z $peers ]]; then
  main_checkout="$(dirname "$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$root/.git")")"
  for d in "$root/../shared/peers" "$main_checkout/../shared/peers"; do [[ -d $d ]] && { peers="$(cd "$d" && pwd)"; break; }; done
fi
[[ -n $peers && -x $peers/ort_bench.sh && -f $peers/torch_bench.py && -f $peers/export_torchvision.py ]] \
  || die "the peer scripts (ort_bench.sh, torch_bench.py, export_torchvision.py) are not in '${peers:-../shared/peers}'; set PEERS=DIR"
[[ $ITERS =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ && $THREADS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] \
  || die "ITERS, THREADS and ROUNDS must be positive integers and WARMUP a non-negative one"
torch_ok() { "$py" -c 'import torch, torchvision, onnx' 2>/dev/null; }
install_torch="apt-get install -y python3-torch python3-torchvision python3-onnx"
if [[ -z $NO_TORCH ]]; then
  torch_ok || die "PyTorch is missing ($py cannot import torch, torchvision, onnx): $install_torch (or NO_TORCH=1 to skip its columns)"
fi
mkdir -p "$work"
if [[ ! -f $work/googlenet.onnx ]]; then
  torch_ok || die "no $work/googlenet.onnx and no PyTorch to export it: $install_torch"
  say "exporting torchvision googlenet to $work/googlenet.onnx"
  attempt "export_torchvision.py googlenet" "$py" "$peers/export_torchvision.py" googlenet "$work" --batch 1 >&2
fi
if [[ -n ${COMPRESSED:-} ]]; then
  [[ -f $COMPRESSED/report.json ]] || die "COMPRESSED=$COMPRESSED has no report.json (give a compress --report directory)"
  command -v python3 >/dev/null || die "COMPRESSED needs python3 to read report.json"
  # one line per model: NAME<TAB>FILE, the baseline first
  python3 - "$COMPRESSED" > "$tmp/variants" <<'EOF' || die "COMPRESSED=$COMPRESSED: report.json has no readable variants"
import json, os, sys
d = sys.argv[1]
for v in json.load(open(os.path.join(d, "report.json")))["variants"]:
    f = os.path.join(d, v["name"] + ".nsm")
    print(v["name"] + "\t" + (f if os.path.isfile(f) else (v.get("file") or f)))
EOF
  baseline="${BASELINE:-$(awk -F'\t' '$1 == "baseline" { print $2 }' "$tmp/variants")}"
  [[ -f $baseline ]] || die "no baseline model '${baseline}' for COMPRESSED (set BASELINE=F.nsm)"
  while IFS=$'\t' read -r name file; do
    [[ $name == baseline || -f $file ]] || die "COMPRESSED: variant $name has no model file ($file)"
  done < "$tmp/variants"
fi
ns="$root/netslim"
attempt "building netslim (./netslim stats)" "$ns" stats --model googlenet-cifar >/dev/null
say "exporting netslim's googlenet-cifar to $work/netslim-googlenet-cifar.onnx"
attempt "netslim export googlenet-cifar" "$ns" export --model googlenet-cifar --onnx "$work/netslim-googlenet-cifar.onnx" >/dev/null

# ---- measurements ------------------------------------------------------------------------------------------------
# ns_bench MODEL BATCH GEMM [--train] — netslim's median ms; the JSON stays in $tmp/last.json
ns_bench() {
  local model=$1 b=$2 gemm=$3; shift 3
  say "netslim bench $model batch $b gemm $gemm $*"
  attempt "netslim bench --model $model --batch $b --gemm $gemm $*" "$ns" bench --model "$model" --batch "$b" \
    --device cpu --threads "$THREADS" --gemm "$gemm" --iters "$ITERS" --warmup "$WARMUP" --warmup-seconds "$WARMUP_SECONDS" --json "$@" > "$tmp/last.json"
  sed -n 's/.*"median_ms": *\([0-9.eE+-]*\).*/\1/p' "$tmp/last.json"
}
last_backend() { sed -n 's/.*"backend": *"\([^"]*\)".*/\1/p' "$tmp/last.json"; }
# ort MODEL.onnx BATCH... — lines "BATCH MS"; the ORT version in $tmp/ort_version
ort_ms() {
  say "ONNX Runtime $*"
  attempt "ort_bench.sh $*" env JAVA_TOOL_OPTIONS="-Diters=$ITERS -Dthreads=$THREADS" "$peers/ort_bench.sh" "$@" \
    | awk -v vf="$tmp/ort_version" '$1 == "ort" { print $2 > vf; sub("batch=", "", $3); print $3, $5 }'
}
# torch MODEL BATCH [--train] — PyTorch's median ms, "skipped" with NO_TORCH; the version in $tmp/torch_version
torch_ms() {
  [[ -n $NO_TORCH ]] && { echo skipped; return; }
  say "PyTorch $*"
  attempt "torch_bench.py $*" "$py" "$peers/torch_bench.py" "$1" --batch "$2" --threads "$THREADS" --iters "$ITERS" "${@:3}" \
    | awk -v vf="$tmp/torch_version" '$1 == "torch" { print $2 > vf; for (i = 1; i < NF; i++) if ($i == "median") print $(i + 1) }'
}
# ns_row MODEL BATCH [--train] — netslim once per GEMM of GEMMS: medians in nsms_raw[], "X ms" cells in nsms[];
# the first time, what auto ran as goes to the report's head
declare -a nsms_raw nsms
ns_row() {
  local gm m
  nsms_raw=() nsms=()
  for gm in $GEMMS; do
    m=$(ns_bench "$1" "$2" "$gm" "${@:3}")
    nsms_raw+=("$m"); nsms+=("$(ms "$m") ms")
    if [[ $gm == auto && ! -f $tmp/auto_said ]]; then echo "- netslim auto ran as: $(last_backend)" >> "$tmp/head.md"; touch "$tmp/auto_said"; fi
  done
}
# ratios PEER_MS — one "netslim/peer" cell per GEMM of the last ns_row, joined by " | "
ratios() { local m out=(); for m in "${nsms_raw[@]}"; do out+=("$(cell "$m" "$1")"); done; join "${out[@]}"; }
join() { local c out="$1"; shift; for c in "$@"; do out+=" | $c"; done; echo "$out"; }
# header COL... — a table header; a column containing %s repeats once per GEMM of GEMMS
header() {
  local c g cols=()
  for c in "$@"; do
    if [[ $c == *%s* ]]; then for g in $GEMMS; do cols+=("${c//%s/$g}"); done; else cols+=("$c"); fi
  done
  echo "| $(join "${cols[@]}") |"
  echo "|$(printf -- '---|%.0s' "${cols[@]}")"
}
# row CELL... — a table row; an argument may already hold several cells joined by " | "
row() { echo "| $(join "$@") |"; }
# cell A B — "A/B" ratio, or a dash when B was skipped
cell() { [[ $2 == skipped ]] && echo "–" || ratio "$1" "$2"; }
tcell() { [[ $1 == skipped ]] && echo "skipped (NO_TORCH=1)" || echo "$(ms "$1") ms"; }

load0="$(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "## netslim vs CPU peers — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; load average at start: $load0"
  echo "- netslim $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'), $(java -version 2>&1 | head -n 1)"
  echo "- command: \`ITERS=$ITERS WARMUP=$WARMUP WARMUP_SECONDS=$WARMUP_SECONDS THREADS=$THREADS GEMMS=\"$GEMMS\"${NO_TORCH:+ NO_TORCH=1}${COMPRESSED:+ COMPRESSED=$COMPRESSED ROUNDS=$ROUNDS GEMM=$GEMM} bench/cpu-vs-peers.sh${*:+ $*}\`"
  echo "- medians of $ITERS timed runs; netslim warms up $WARMUP and ≥ ${WARMUP_SECONDS} s, ORT and PyTorch 3 (fixed in their scripts); all on $THREADS threads"
} > "$tmp/head.md"

# 1. torchvision GoogLeNet-224 inference
ort_ms "$work/googlenet.onnx" 1 8 > "$tmp/ort_g"
declare -A ortg; while read -r b m; do ortg[$b]=$m; done < "$tmp/ort_g"
{
  echo
  echo "### torchvision GoogLeNet-224 inference (1000 classes, seeded random weights; target netslim/ORT ≤ 1.25)"
  echo
  header "batch" "netslim %s" "ONNX Runtime" "PyTorch" "%s/ORT" "%s/PyTorch"
} > "$tmp/s1.md"
for b in 1 8; do
  ns_row googlenet "$b"
  t=$(torch_ms googlenet "$b")
  row "$b" "$(join "${nsms[@]}")" "$(ms "${ortg[$b]}") ms" "$(tcell "$t")" "$(ratios "${ortg[$b]}")" "$(ratios "$t")" >> "$tmp/s1.md"
done

# 2. training step, batch 8
{
  echo
  echo "### Training step, batch 8 (forward, cross-entropy, backward, SGD lr 0.01 momentum 0.9; target netslim/PyTorch ≤ 0.5)"
  echo
  header "model" "netslim %s" "PyTorch" "%s/PyTorch"
} > "$tmp/s2.md"
for model in googlenet googlenet-cifar; do
  ns_row "$model" 8 --train
  if [[ $model == googlenet ]]; then
    t=$(torch_ms googlenet 8 --train); tc=$(tcell "$t")
  elif [[ -n $NO_TORCH ]]; then
    t=skipped; tc=$(tcell "$t")
  elif "$py" "$peers/torch_bench.py" "$model" --batch 8 --train --iters "$ITERS" --threads "$THREADS" >"$tmp/out" 2>"$tmp/err"; then
    t=$(awk '{ for (i = 1; i < NF; i++) if ($i == "median") print $(i + 1) }' "$tmp/out"); tc=$(tcell "$t")
  else
    t=skipped; tc="n/a: torch_bench.py cannot build it ($(tail -n 1 "$tmp/err" | tr '|' '/'))"
  fi
  row "$model" "$(join "${nsms[@]}")" "$tc" "$(ratios "$t")" >> "$tmp/s2.md"
done

# 3. googlenet-cifar inference, netslim vs ORT on netslim's own export
ort_ms "$work/netslim-googlenet-cifar.onnx" 1 32 > "$tmp/ort_c"
declare -A ortc; while read -r b m; do ortc[$b]=$m; done < "$tmp/ort_c"
{
  echo
  echo "### googlenet-cifar inference (zoo defaults: $("$ns" stats --model googlenet-cifar 2>/dev/null | sed -n 's/^model googlenet-cifar, input \([0-9x]*\).*/input \1/p'); ORT runs \`netslim export\`'s ONNX)"
  echo
  header "batch" "netslim %s" "ONNX Runtime" "%s/ORT"
} > "$tmp/s3.md"
for b in 1 32; do
  ns_row googlenet-cifar "$b"
  row "$b" "$(join "${nsms[@]}")" "$(ms "${ortc[$b]}") ms" "$(ratios "${ortc[$b]}")" >> "$tmp/s3.md"
done

# 4. compressed variants against their baseline (pairs alternate their order from round to round)
: > "$tmp/s4.md"
if [[ -n ${COMPRESSED:-} ]]; then
  macs() { attempt "netslim stats --model $1" "$ns" stats --model "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["macs"])'; }
  base_macs=$(macs "$baseline")
  {
    echo
    echo "### Compressed variants of $baseline ($COMPRESSED; gemm $GEMM; $ROUNDS baseline/variant pairs; target speedup / MAC reduction ≥ 0.8)"
    echo
    echo "| variant | batch | MACs | MAC reduction | baseline | variant | speedup | speedup / MAC reduction |"
    echo "|---|---|---|---|---|---|---|---|"
  } >> "$tmp/s4.md"
  while IFS=$'\t' read -r name file; do
    [[ $name == baseline ]] && continue
    v_macs=$(macs "$file"); red=$(ratio "$base_macs" "$v_macs")
    for b in 1 32; do
      bs=() vs=() sp=()
      for ((r = 0; r < ROUNDS; r++)); do
        if ((r % 2 == 0)); then x=$(ns_bench "$baseline" "$b" "$GEMM"); y=$(ns_bench "$file" "$b" "$GEMM")
        else y=$(ns_bench "$file" "$b" "$GEMM"); x=$(ns_bench "$baseline" "$b" "$GEMM"); fi
        bs+=("$x"); vs+=("$y"); sp+=("$(awk -v a="$x" -v b="$y" 'BEGIN { print a / b }')")
      done
      s=$(median "${sp[@]}")
      echo "| $name | $b | $v_macs | $red | $(ms "$(median "${bs[@]}")") ms | $(ms "$(median "${vs[@]}")") ms | $(awk -v s="$s" 'BEGIN { printf "%.2f", s }') | $(ratio "$s" "$red") |" >> "$tmp/s4.md"
    done
  done < "$tmp/variants"
  echo >> "$tmp/s4.md"
  echo "Speedup: median over the rounds of baseline ms / variant ms, each pair timed back to back; MACs from \`netslim stats --json\` (baseline: $base_macs)." >> "$tmp/s4.md"
fi

{
  echo "- versions: ONNX Runtime $(head -n 1 "$tmp/ort_version"), PyTorch $(head -n 1 "$tmp/torch_version" 2>/dev/null || echo "skipped on purpose (NO_TORCH=1)")"
  echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >> "$tmp/head.md"
cat "$tmp/head.md" "$tmp/s1.md" "$tmp/s2.md" "$tmp/s3.md" "$tmp/s4.md" > "$tmp/report.md"
if [[ -n $out_md ]]; then cp "$tmp/report.md" "$out_md"; fi
cat "$tmp/report.md"
