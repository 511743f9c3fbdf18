#!/usr/bin/env bash
# Embedding API soak: T threads on one shared NetslimModel for N seconds; results checked bit for bit against
# single-threaded ones; throughput, heap after GC and RSS every 10 s (see EmbeddingSoak's Javadoc).
# Usage: bench/soak.sh [SECONDS=600] [THREADS=16] [MODEL=googlenet-cifar] [BATCH=1]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
(cd "$here/.." && mvn -q -DskipTests install)
(cd "$here" && mvn -q package)
exec java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xss8m -Xmx2g \
  -cp "$here/target/benchmarks.jar" netslim.bench.EmbeddingSoak "$@"
