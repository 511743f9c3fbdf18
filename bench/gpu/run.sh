#!/usr/bin/env bash
# One call on a lent GPU machine, from the repo root, with gpu-carry/ carried (made by bench/gpu/prepare.sh):
#   run: command "bash bench/gpu/run.sh", carry ["gpu-carry"], timeout_s 600
# Steps, most valuable first (each with its own timeout; a failure does not stop the later ones):
#   1 environment  2 Java (carried runtime if none)  3 smoke (CudaSmoke), GPU test suite (op parity, poisoned and
#   per-image-dW parity, model parity incl. a Tucker model and the CUDA-graph serving plan, event timing, training
#   step)  4 netslim bench googlenet 224 b1/32/256 FP32 (graph, plus eager rows), PyTorch eager, TF32, per-layer
#   CUDA-event profiles at b1 and b256  5 training-step throughput beside PyTorch  6 Tucker-decomposed googlenet
#   b1/32/256  7 one CLI training epoch on the carried subset  8 torch.compile (skipped with TORCH_COMPILE=0)
#   9 side-by-side table (incl. compressed vs dense: latency ratio beside MACs ratio)
# Writes to $OUT (at most 8 files): run.log (everything), env.txt, tests.txt, junit.xml, netslim.jsonl,
# torch.jsonl, train.jsonl, table.md. Measured on an H100 (2026-11-26): 155 s in all with torch.compile (70 s).
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
OUT="${OUT:-/tmp/netslim-gpu-out}"
mkdir -p "$OUT"
carry="$root/gpu-carry"
work="/tmp/netslim-gpu"
mkdir -p "$work"
exec > >(tee -a "$OUT/run.log") 2>&1

step() { # step NAME SECONDS CMD...: CMD (a program or an exported function) under a timeout; never aborts the script
  local name="$1" limit="$2"; shift 2
  echo; echo "=== $name (limit ${limit}s) $(date +%T)"
  local t0=$SECONDS
  timeout -k 5 "$limit" bash -c '"$@"' bash "$@"
  local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - t0))s"
  return 0
}

environment() {
  {
    echo "## host"; uname -a; nproc; free -g | head -2
    echo "## java"; command -v java && java -version 2>&1
    echo "## nvidia-smi"; nvidia-smi || echo "no nvidia-smi"
    echo "## ldconfig"; ldconfig -p | grep -E 'libcuda|cublas|cusolver' || echo "(none in ldconfig)"
    echo "## find"; find / -xdev \( -name 'libcublas.so*' -o -name 'libcublasLt.so*' -o -name 'libcusolver*.so*' \) \
      2>/dev/null | grep -v '^/proc' | head -20
    echo "## python"; python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)' 2>&1
    echo "## carry"; ls -la "$carry" 2>&1
  } > "$OUT/env.txt" 2>&1
  cat "$OUT/env.txt"
}
export OUT carry work
export -f environment
step environment 60 environment

# ---- Java: the machine's if it is 17+, else the carried jlink runtime ---------------------------------------
java_bin=""
if command -v java >/dev/null && java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then
  java_bin="$(command -v java)"
elif [[ -f "$carry/jre.tar.gz" ]]; then
  tar -C "$work" -xzf "$carry/jre.tar.gz" && java_bin="$work/jre/bin/java"
fi
echo "java: ${java_bin:-none}"
[[ -n "$java_bin" ]] && "$java_bin" -version 2>&1

# cuBLAS 13 for the shim: a full path (NETSLIM_LIBCUBLAS) and its folder on the library path (for libcublasLt).
cublas="$(ldconfig -p | awk '/libcublas\.so\.13/ {print $NF; exit}')"
if [[ -z "$cublas" ]]; then # the pip wheel nvidia-cublas (PyTorch's), then anywhere
  pipdir="$(timeout 30 python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null)"
  [[ -n "$pipdir" && -f "$pipdir/libcublas.so.13" ]] && cublas="$pipdir/libcublas.so.13"
fi
[[ -z "$cublas" ]] && cublas="$(timeout 60 find / -xdev -name 'libcublas.so.13' 2>/dev/null | grep -v '^/proc' | head -1)"
if [[ -n "$cublas" ]]; then
  export NETSLIM_LIBCUBLAS="$cublas"
  export LD_LIBRARY_PATH="$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
echo "libcublas.so.13: ${cublas:-not found}"

jar="$carry/netslim.jar"
[[ -f "$jar" ]] || jar="$root/target/netslim.jar"
tar -C "$work" -xzf "$carry/tests.tar.gz" 2>/dev/null
jflags="--add-modules jdk.incubator.vector -XX:+UseParallelGC -Xss8m -Xmx24g --add-opens java.base/java.nio=ALL-UNNAMED"
netslim() { "$java_bin" $jflags -jar "$jar" "$@"; }
export java_bin jar jflags
export -f netslim

# ---- smoke: the basics, one line each, in seconds ---------------------------------------------------------------
[[ -n "$java_bin" ]] && step smoke 60 "$java_bin" $jflags -Dnetslim.cuda.sync=true -cp "$jar:$work/test-classes" \
  netslim.backend.cuda.CudaSmoke

# ---- GPU test suite -----------------------------------------------------------------------------------------
if [[ -n "$java_bin" && -f "$carry/junit.jar" ]]; then
  # netslim.cuda.sync: a kernel fault is reported against its kernel (slower; the benches below run without it).
  step gpu-tests 200 "$java_bin" $jflags -Dnetslim.cuda.sync=true -jar "$carry/junit.jar" execute \
    --class-path "$jar:$work/test-classes" --include-tag gpu \
    --select-class netslim.backend.BackendParityTest --select-class netslim.backend.cuda.CudaModelParityTest \
    --details=tree --details-theme=ascii --disable-banner --disable-ansi-colors --reports-dir "$work/junit" > "$OUT/tests.txt" 2>&1
  tail -60 "$OUT/tests.txt"
  cp "$work/junit/TEST-junit-jupiter.xml" "$OUT/junit.xml" 2>/dev/null
else
  echo "no java or no junit.jar: GPU tests skipped"
fi

# ---- netslim bench, then PyTorch on the same GPU (most valuable first: the run may be cut at its limit) -------
: > "$OUT/netslim.jsonl"
: > "$OUT/torch.jsonl"
: > "$OUT/train.jsonl"
bench() { # bench MODEL BATCH PRECISION VARIANT [JAVA-FLAGS...]: one JSON object into netslim.jsonl
  set -o pipefail
  local flag=""; [[ "$3" == tf32 ]] && flag=--tf32
  local iters=20; [[ "$2" -ge 256 ]] && iters=8
  "$java_bin" $jflags "${@:5}" -jar "$jar" bench --model "$1" --batch "$2" --device cuda $flag --warmup 3 --warmup-seconds 2 \
    --iters "$iters" --json | sed "s/}\$/,\"precision\":\"$3\",\"variant\":\"$4\"}/" | tee -a "$OUT/netslim.jsonl"
}
export -f bench
# The serving plan replays a CUDA graph by default; the eager rows (-Dnetslim.cuda.graphs=false) show what it buys.
for b in 1 32 256; do step "netslim bench googlenet b$b fp32" 60 bench googlenet "$b" fp32 dense; done
step "netslim bench googlenet b1 fp32 eager" 60 bench googlenet 1 fp32 dense -Dnetslim.cuda.graphs=false
step "netslim bench googlenet b256 fp32 eager" 60 bench googlenet 256 fp32 dense -Dnetslim.cuda.graphs=false
step "torch eager inference" 90 bash -o pipefail -c "python3 bench/gpu/torch_bench.py infer | tee -a '$OUT/torch.jsonl'"
for b in 1 32 256; do step "netslim bench googlenet b$b tf32" 60 bench googlenet "$b" tf32 dense; done
# Where the time goes: CUDA events between the ops of the serving plan (op by op, no graph), 25 slowest layers.
for b in 1 256; do
  step "netslim bench --layers googlenet b$b fp32" 90 netslim bench --model googlenet --batch "$b" --device cuda \
    --warmup 2 --iters 5 --layers 25
done

# ---- training throughput ------------------------------------------------------------------------------------
step "netslim train steps googlenet-cifar b128 fp32" 90 bash -o pipefail -c "'$java_bin' $jflags -cp '$jar:$work/test-classes' \
  netslim.backend.cuda.TrainStepBench googlenet-cifar 128 20 cuda | tee -a '$OUT/train.jsonl'"
step "torch train steps" 60 bash -o pipefail -c "python3 bench/gpu/torch_bench.py train --batch 128 --steps 20 | tee -a '$OUT/train.jsonl'"
# The per-image weight-gradient path (the default is the batched one since the first GPU run).
step "netslim train steps googlenet-cifar b128 fp32 per-image-dw" 90 bash -o pipefail -c "'$java_bin' $jflags \
  -Dnetslim.cuda.batchedWeightGrad=false -cp '$jar:$work/test-classes' \
  netslim.backend.cuda.TrainStepBench googlenet-cifar 128 20 cuda | sed 's/}\$/,\"variant\":\"per-image-dw\"}/' \
  | tee -a '$OUT/train.jsonl'"

# ---- compressed model ------------------------------------------------------------------------------------------
has_command() { # the "Commands:" list of netslim --help names $1
  [[ -n "$java_bin" ]] && netslim --help 2>/dev/null | awk '/^Commands:/ {f = 1; next} f {print $1}' | grep -qx "$1"
}
if has_command decompose; then
  step "decompose googlenet" 90 netslim decompose --model googlenet --rank evbmf --out "$work/googlenet-tucker.nsm"
  for b in 1 32 256; do step "netslim bench googlenet-tucker b$b fp32" 60 bench "$work/googlenet-tucker.nsm" "$b" fp32 tucker; done
else
  echo "NOTE: this build has no 'decompose' command: compressed-model benchmarks skipped"
fi

# ---- fine-tuning epoch, torch.compile (slowest, last) -----------------------------------------------------------
# One training epoch through the CLI (data loading, augmentation, upload, evaluation included) on the carried
# subset: 10,000 training and 2,000 test images.
step "netslim train epoch googlenet-cifar (10k images)" 120 netslim train --model googlenet-cifar \
  --data "idx:$carry/fashion-mnist" --epochs 1 --device cuda --out "$work/ft.nsm" --json
[[ "${TORCH_COMPILE:-1}" == 0 ]] && echo "NOTE: TORCH_COMPILE=0: torch.compile skipped" || \
step "torch.compile inference" 120 bash -o pipefail -c "python3 bench/gpu/torch_bench.py infer --compile --precisions fp32 --batches 1,256 --iters 10 \
  | tee -a '$OUT/torch.jsonl'"

# ---- table ------------------------------------------------------------------------------------------------------
python3 bench/gpu/table.py "$OUT/netslim.jsonl" "$OUT/torch.jsonl" "$OUT/train.jsonl" > "$OUT/table.md"
cat "$OUT/table.md"
nvidia-smi --query-gpu=name,temperature.gpu,clocks.sm,power.draw --format=csv 2>/dev/null
echo "run.sh done at $(date +%T), ${SECONDS}s"
