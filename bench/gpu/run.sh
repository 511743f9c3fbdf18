#!/usr/bin/env bash
# One call on a lent GPU machine, from the repo root, with gpu-carry/ carried (made by bench/gpu/prepare.sh):
#   run: command "bash bench/gpu/run.sh", carry ["gpu-carry"], timeout_s 600
# Steps (each with its own timeout; a failure does not stop the later ones):
#   1 environment  2 Java (carried runtime if none)  3 smoke (CudaSmoke), GPU test suite (parity, poisoned parity, model parity,
#   training step)  4 netslim bench googlenet 224 b1/32/256 FP32+TF32  5 decomposed model (if the build can)
#   6 training-step throughput  7 PyTorch eager + torch.compile + training  8 side-by-side table
# Writes to $OUT (at most 8 files): run.log (everything), env.txt, tests.txt, junit.xml, netslim.jsonl,
# torch.jsonl, train.jsonl, table.md. Budget: about 6 minutes in all.
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
[[ -n "$java_bin" ]] && step smoke 90 "$java_bin" $jflags -Dnetslim.cuda.sync=true -cp "$jar:$work/test-classes" \
  netslim.backend.cuda.CudaSmoke

# ---- GPU test suite -----------------------------------------------------------------------------------------
if [[ -n "$java_bin" && -f "$carry/junit.jar" ]]; then
  # netslim.cuda.sync: a kernel fault is reported against its kernel (slower; the benches below run without it).
  step gpu-tests 240 "$java_bin" $jflags -Dnetslim.cuda.sync=true -jar "$carry/junit.jar" execute \
    --class-path "$jar:$work/test-classes" --include-tag gpu \
    --select-class netslim.backend.BackendParityTest --select-class netslim.backend.cuda.CudaModelParityTest \
    --details=tree --details-theme=ascii --disable-banner --disable-ansi-colors --reports-dir "$work/junit" > "$OUT/tests.txt" 2>&1
  tail -60 "$OUT/tests.txt"
  cp "$work/junit/TEST-junit-jupiter.xml" "$OUT/junit.xml" 2>/dev/null
else
  echo "no java or no junit.jar: GPU tests skipped"
fi

# ---- netslim bench --------------------------------------------------------------------------------------------
: > "$OUT/netslim.jsonl"
bench() { # bench MODEL BATCH PRECISION VARIANT: one JSON line into netslim.jsonl
  set -o pipefail
  local flag=""; [[ "$3" == tf32 ]] && flag=--tf32
  local iters=20; [[ "$2" -ge 256 ]] && iters=8
  netslim bench --model "$1" --batch "$2" --device cuda $flag --warmup 3 --iters "$iters" --json \
    | sed "s/}\$/,\"precision\":\"$3\",\"variant\":\"$4\"}/" | tee -a "$OUT/netslim.jsonl"
}
export -f bench
for prec in fp32 tf32; do
  for b in 1 32 256; do step "netslim bench googlenet b$b $prec" 120 bench googlenet "$b" "$prec" dense; done
done

has_command() { # the "Commands:" list of netslim --help names $1
  [[ -n "$java_bin" ]] && netslim --help 2>/dev/null | awk '/^Commands:/ {f = 1; next} f {print $1}' | grep -qx "$1"
}
if has_command decompose; then
  step "decompose googlenet" 120 netslim decompose --model googlenet --rank evbmf --out "$work/googlenet-tucker.nsm"
  for b in 1 32 256; do step "netslim bench googlenet-tucker b$b fp32" 120 bench "$work/googlenet-tucker.nsm" "$b" fp32 tucker; done
else
  echo "NOTE: this build has no 'decompose' command: compressed-model benchmarks skipped"
fi

# ---- training throughput ------------------------------------------------------------------------------------
: > "$OUT/train.jsonl"
if has_command finetune; then
  echo "NOTE: 'finetune' exists: time one epoch on the carried Fashion-MNIST subset"
  step "netslim finetune epoch" 180 netslim finetune --model googlenet-cifar --data "idx:$carry/fashion-mnist" \
    --epochs 1 --device cuda --out "$work/ft.nsm"
else
  echo "NOTE: this build has no 'finetune' command: timing training steps with TrainStepBench instead"
fi
step "netslim train steps googlenet-cifar b128 fp32" 150 bash -o pipefail -c "'$java_bin' $jflags -cp '$jar:$work/test-classes' \
  netslim.backend.cuda.TrainStepBench googlenet-cifar 128 20 cuda | tee -a '$OUT/train.jsonl'"
# The batched weight-gradient path (unverified until the parity suite above passes for cuda/fp32/batched-dw).
step "netslim train steps googlenet-cifar b128 fp32 batched-dw" 150 bash -o pipefail -c "'$java_bin' $jflags \
  -Dnetslim.cuda.batchedWeightGrad=true -cp '$jar:$work/test-classes' \
  netslim.backend.cuda.TrainStepBench googlenet-cifar 128 20 cuda | sed 's/}\$/,\"variant\":\"batched-dw\"}/' \
  | tee -a '$OUT/train.jsonl'"

# ---- PyTorch on the same GPU ---------------------------------------------------------------------------------
: > "$OUT/torch.jsonl"
step "torch eager inference" 120 bash -o pipefail -c "python3 bench/gpu/torch_bench.py infer | tee -a '$OUT/torch.jsonl'"
step "torch train steps" 90 bash -o pipefail -c "python3 bench/gpu/torch_bench.py train --batch 128 --steps 20 | tee -a '$OUT/train.jsonl'"
step "torch.compile inference" 150 bash -o pipefail -c "python3 bench/gpu/torch_bench.py infer --compile --precisions fp32 --batches 1,256 --iters 10 \
  | tee -a '$OUT/torch.jsonl'"

# ---- table ------------------------------------------------------------------------------------------------------
python3 bench/gpu/table.py "$OUT/netslim.jsonl" "$OUT/torch.jsonl" "$OUT/train.jsonl" > "$OUT/table.md"
cat "$OUT/table.md"
nvidia-smi --query-gpu=name,temperature.gpu,clocks.sm,power.draw --format=csv 2>/dev/null
echo "run.sh done at $(date +%T), ${SECONDS}s"
