# Sourced (not run) by the one-JVM side-by-side scripts (ort-side-by-side.sh, compression-side-by-side.sh): builds
# and installs the engine, packages bench/target/benchmarks.jar, puts the JVM flags they all run with in the array
# `jvm` (transparent huge pages where the kernel offers them) and prints the run's header: date, CPU, cores.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(cd "$root" && mvn -q -B -DskipTests install >&2)
(cd "$root/bench" && mvn -q -B package >&2)
jvm=(--add-modules jdk.incubator.vector -XX:+UseParallelGC -Xss8m -Xlog:disable)
grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null \
  && jvm+=(-XX:+UseTransparentHugePages)
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
