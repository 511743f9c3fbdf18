#!/usr/bin/env bash
# Installs the main netslim jar, builds the JMH uber-jar and runs it.
# Usage: bench/run-jmh.sh [BenchRegex] [extra JMH args...]
#   e.g. bench/run-jmh.sh GemmBench -f 1 -wi 2 -i 3 -p impl=java -p shape=1024x1024x1024
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

(cd "$here/.." && mvn -q -DskipTests install)
(cd "$here" && mvn -q package)
regex="${1:-GemmBench}"
shift || true
exec java --add-modules jdk.incubator.vector -jar "$here/target/benchmarks.jar" "$regex" "$@"
