#!/usr/bin/env bash
# Prepares gpu-carry/ (ignored by git) for bench/gpu/run.sh on a lent GPU machine. Run HERE, from the repo root:
#   bench/gpu/prepare.sh
# then, on the device: carry ["gpu-carry"], command "bash bench/gpu/run.sh" (see README "CUDA backend").
# gpu-carry/ holds (≈ 37 MB, well under the 64 MiB that may cross):
#   jre.tar.gz        jlink'ed JDK 17 runtime (java.base, java.logging, java.management, jdk.incubator.vector,
#                     jdk.unsupported, and java.xml for the JUnit console's XML report): the GPU machine may have
#                     no Java. java.desktop (ImageIO, only for PNG
#                     reports and ImageFolder data) is left out: +12 MB.
#   netslim.jar       the CLI jar (with the fatbins and shims of native/, the JCudaDriver + JCublas2 natives) minus
#                     OpenBLAS's 20 MB of natives: there the CPU side (parity references) uses the Java GEMM.
#   tests.tar.gz      compiled test classes, without the golden model files the GPU tests do not read.
#   junit.jar         junit-platform-console-standalone (mvn is probably absent there).
#   fashion-mnist/    IDX subset: the first 10000 training and 2000 test images.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out=gpu-carry
rm -rf "$out"
mkdir -p "$out"

echo "prepare: building the jar and test classes (nvcc compiles native/*.cu)"
mvn -q -B -DskipTests package test-compile

echo "prepare: netslim.jar without OpenBLAS natives"
cp target/netslim.jar "$out/netslim.jar"
zip -q -d "$out/netslim.jar" 'org/bytedeco/openblas/linux-x86_64/*' >/dev/null
unzip -l "$out/netslim.jar" native/conv.fatbin >/dev/null 2>&1 || { echo "prepare: no fatbins in the jar (nvcc?)" >&2; exit 1; }

echo "prepare: test classes"
tar -C target -czf "$out/tests.tar.gz" --exclude='test-classes/golden' test-classes

junit_version=1.14.4
junit="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar"
[[ -f "$junit" ]] || mvn -q -B dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version"
cp "$junit" "$out/junit.jar"

echo "prepare: jlink runtime"
jlink --add-modules java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$out/jre"
tar -C "$out" -czf "$out/jre.tar.gz" jre
rm -rf "$out/jre"

echo "prepare: Fashion-MNIST subset"
python3 - "$out/fashion-mnist" <<'PY'
import gzip, os, struct, sys
src, dst = "/usr/share/datasets/fashion-mnist", sys.argv[1]
os.makedirs(dst, exist_ok=True)
def subset(name, count):
    with gzip.open(os.path.join(src, name)) as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    header = 4 * (1 + dims)
    item = 1
    for d in struct.unpack(">" + "I" * (dims - 1), data[8:header]):
        item *= d
    count = min(count, n)
    body = data[header:header + count * item]
    with gzip.open(os.path.join(dst, name), "wb") as f:
        f.write(data[:4] + struct.pack(">I", count) + data[8:header] + body)
for name, count in [("train-images-idx3-ubyte.gz", 10000), ("train-labels-idx1-ubyte.gz", 10000),
                    ("t10k-images-idx3-ubyte.gz", 2000), ("t10k-labels-idx1-ubyte.gz", 2000)]:
    subset(name, count)
PY

du -sh "$out"/* "$out"
