#!/usr/bin/env bash
# Regenerates the *.symbols files the shims are built from: the versioned imports of JCuda's JNI libraries.
#   native/shim/list-imports.sh [~/.m2/repository]
# Each output line is one function name the JNI library imports with the given symbol version, e.g.
# "cublasSgemm_v2" from "U cublasSgemm_v2@libcublas.so.12". Run it when the JCuda version in pom.xml changes and
# commit the result (the build reads the committed lists; it needs neither the natives jars nor the network).
set -euo pipefail
repo="${1:-$HOME/.m2/repository}/org/jcuda"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# imports JAR LIBRARY-GLOB VERSION OUT: the names LIBRARY imports at symbol version VERSION, sorted.
imports() {
  unzip -q -o "$1" -d "$tmp/$(basename "$1")"
  local lib
  lib="$(find "$tmp/$(basename "$1")" -name "$2" | head -1)"
  [[ -n "$lib" ]] || { echo "no $2 in $1" >&2; exit 1; }
  nm -D --undefined-only "$lib" | awk -v v="@$3" '$1 == "U" && index($2, v) { sub(/@.*/, "", $2); print $2 }' \
    | sort -u > "$4"
  echo "$4: $(wc -l < "$4") symbols from $(basename "$lib")"
}

imports "$repo/jcublas-natives/12.6.0/jcublas-natives-12.6.0-linux-x86_64.jar" 'libJCublas2-*.so' \
  libcublas.so.12 "$here/cublas.symbols"
imports "$repo/jcusolver-natives/12.6.0/jcusolver-natives-12.6.0-linux-x86_64.jar" 'libJCusolver-*.so' \
  libcusolver.so.11 "$here/cusolver.symbols"
imports "$repo/jcusolver-natives/12.6.0/jcusolver-natives-12.6.0-linux-x86_64.jar" 'libJCusolver-*.so' \
  libcusolverMg.so.11 "$here/cusolverMg.symbols"
