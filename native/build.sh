#!/usr/bin/env bash
# Builds the native parts of netslim into OUT_DIR (Maven passes target/classes/native, so they land on the
# classpath as resources):
#   OUT_DIR/<family>.fatbin  one per native/*.cu, by nvcc, SASS for sm_80 and sm_90 plus compute_90 PTX (so newer
#                            GPUs JIT it); nvcc warnings are errors. Skipped, with a note, when there is no nvcc:
#                            the CUDA backend then reports itself unavailable.
#   OUT_DIR/shim/<soname>    the CUDA 12 → 13 forwarding shims (shim/forward.c), by gcc; skipped without gcc.
# Incremental: an output newer than its inputs is kept. nvcc is $NVCC, else /usr/local/bin/nvcc, else nvcc on the
# PATH, else /usr/local/cuda/bin/nvcc. NETSLIM_NO_NVCC=1 pretends there is none (to check that path of the build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: build.sh OUT_DIR}"
mkdir -p "$out"

find_nvcc() {
  [[ "${NETSLIM_NO_NVCC:-}" == 1 ]] && return 1
  for c in "${NVCC:-}" /usr/local/bin/nvcc "$(command -v nvcc 2>/dev/null || true)" /usr/local/cuda/bin/nvcc; do
    [[ -n "$c" && -x "$c" ]] && { echo "$c"; return 0; }
  done
  return 1
}

# newer OUT INPUT...: true when OUT is missing or older than any input.
stale() {
  local o="$1"; shift
  [[ ! -f "$o" ]] && return 0
  for i in "$@"; do [[ "$i" -nt "$o" ]] && return 0; done
  return 1
}

if nvcc="$(find_nvcc)"; then
  # sm_80 (A100) and sm_90 (H100/H200) SASS, compute_90 PTX for later GPUs; no Hopper-only instructions yet, so no
  # sm_90a. Uncompressed, so the kernel names stay greppable (NativeBuildTest checks them).
  arch=(-gencode arch=compute_80,code=sm_80 -gencode "arch=compute_90,code=[sm_90,compute_90]")
  for cu in "$here"/*.cu; do
    name="$(basename "$cu" .cu)"
    if stale "$out/$name.fatbin" "$cu" "$here/common.cuh" "$here/build.sh"; then
      echo "netslim: nvcc $name.cu"
      "$nvcc" -fatbin -O3 -std=c++17 -Werror all-warnings --compress-mode=none "${arch[@]}" -I "$here" \
        -o "$out/$name.fatbin.tmp" "$cu"
      mv "$out/$name.fatbin.tmp" "$out/$name.fatbin"
    fi
  done
else
  echo "netslim: no nvcc found: CUDA kernels not built (the CUDA backend will report itself unavailable)"
fi

if command -v gcc >/dev/null 2>&1; then
  # soname, target (CUDA 13 name), environment override, the library's NOT_SUPPORTED status, symbol list.
  while read -r soname target env status list; do
    if stale "$out/shim/$soname" "$here/shim/$list" "$here/shim/forward.c" "$here/shim/make-shim.sh"; then
      echo "netslim: shim $soname -> $target"
      "$here/shim/make-shim.sh" "$here/shim/$list" "$soname" "$target" "$env" "$status" "$out/shim"
    fi
  done <<'SHIMS'
libcublas.so.12 libcublas.so.13 NETSLIM_LIBCUBLAS 15 cublas.symbols
libcusolver.so.11 libcusolver.so.12 NETSLIM_LIBCUSOLVER 9 cusolver.symbols
libcusolverMg.so.11 libcusolverMg.so.12 NETSLIM_LIBCUSOLVERMG 9 cusolverMg.symbols
SHIMS
else
  echo "netslim: no gcc found: CUDA 12 -> 13 shims not built"
fi
