#!/usr/bin/env bash
# Builds one forwarding shim (see forward.c) with gcc; needs no CUDA headers or libraries.
#   make-shim.sh SYMBOLS SONAME TARGET ENV NOT_SUPPORTED OUT_DIR
# e.g. make-shim.sh cublas.symbols libcublas.so.12 libcublas.so.13 NETSLIM_LIBCUBLAS 15 target/classes/native/shim
# writes OUT_DIR/SONAME, a library with that SONAME whose functions (one per line of SYMBOLS) carry symbol version
# SONAME and jump to the same names in TARGET (or $ENV, a full path, when set).
set -euo pipefail
[[ $# -eq 6 ]] || { echo "usage: $0 SYMBOLS SONAME TARGET ENV NOT_SUPPORTED OUT_DIR" >&2; exit 2; }
symbols="$1" soname="$2" target="$3" env="$4" status="$5" out="$6"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
mkdir -p "$out"

# The name table and one trampoline per name; x86-64 only (the GPU machines and CI are x86-64).
awk -v soname="$soname" '
  NF == 0 || $1 ~ /^#/ { next }
  { names[n++] = $1 }
  END {
    printf "#define SHIM_COUNT %d\nstatic const char *const shim_names[SHIM_COUNT] = {\n", n
    for (i = 0; i < n; i++) printf "    \"%s\",\n", names[i]
    printf "};\n__asm__(\".text\\n\"\n"
    for (i = 0; i < n; i++) {
      s = names[i]
      printf "        \".p2align 4\\n.globl %s\\n.type %s,@function\\n%s:\\n\\tjmp *shim_targets+%d(%%rip)\\n.size %s,.-%s\\n\"\n", s, s, s, 8 * i, s, s
    }
    printf "        \".previous\\n\");\n"
  }' "$symbols" > "$gen/table.h"

{
  echo "$soname {"
  echo "  global:"
  grep -v -e '^#' -e '^$' "$symbols" | sed 's/.*/    &;/'
  echo "    netslim_shim_missing;"
  echo "    netslim_shim_target;"
  echo "  local: *;"
  echo "};"
} > "$gen/version.map"

gcc -O2 -fPIC -shared -Wall -Wextra -Werror -std=c11 \
  -DSHIM_TABLE="\"$gen/table.h\"" -DSHIM_SONAME="\"$soname\"" -DSHIM_TARGET="\"$target\"" \
  -DSHIM_ENV="\"$env\"" -DSHIM_NOT_SUPPORTED="$status" \
  -Wl,-soname,"$soname" -Wl,--version-script="$gen/version.map" -Wl,-z,noexecstack \
  -o "$out/$soname" "$here/forward.c" -ldl
