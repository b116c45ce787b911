#!/bin/bash
# The one GPU check: run on the GPU machine from the repository root, after scripts/gpu-pack.sh
# has prepared .jdk/ and .gpu-run/ and they were copied there with the repository. Needs only
# the NVIDIA driver on that machine.
#
#   1. unpacks the jlinked JDK 25 into a temporary folder;
#   2. runs the CUDA tests (the GPU-tagged ones and the probe/PTX tests) with the JUnit console
#      launcher, with -Dkiri.cuda.require=true so that a missing GPU fails rather than skips;
#   3. runs the decode micro-benchmark (CudaBench) for the Llama-3.2-1B shape in Q4_0 and Q8_0,
#      and its matrix products alone in Q4_K and Q6_K.
#
# Output: the console; with $OUT set, also JUnit XML and logs under $OUT.
# Exit status: that of the tests (non-zero on any failure), or of the benchmark if they pass.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
for f in .jdk/kiri-jdk25.tar.gz .gpu-run/junit-platform-console-standalone.jar .gpu-run/kiri-kernels-tests.jar; do
    [ -f "$f" ] || { echo "gpu-check: $f missing: run scripts/gpu-pack.sh on the build machine and copy .jdk and .gpu-run here" >&2; exit 2; }
done
JDK_DIR=$(mktemp -d)
tar -C "$JDK_DIR" -xzf .jdk/kiri-jdk25.tar.gz
JAVA=$JDK_DIR/kiri-jdk25/bin/java
LOG=${OUT:-$(mktemp -d)}
"$JAVA" -version 2>&1 | head -1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv
CP=.gpu-run/kiri-gguf-loader.jar:.gpu-run/kiri-kernels.jar:.gpu-run/kiri-gguf-loader-tests.jar:.gpu-run/kiri-kernels-tests.jar
FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Dkiri.cuda.require=true -Dkiri.fixtures=$ROOT/.gpu-fixtures"

echo "== CUDA tests"
TESTS=0
# shellcheck disable=SC2086
"$JAVA" $FLAGS -jar .gpu-run/junit-platform-console-standalone.jar execute \
    --class-path "$CP" --select-package dev.kiri.kernels.cuda --select-class dev.kiri.kernels.matmul.CudaMatvecGpuTest \
    --details=tree --disable-banner --fail-if-no-tests --reports-dir "$LOG/junit" 2>&1 | tee "$LOG/tests.log" || TESTS=$?

echo "== CUDA decode benchmark"
BENCH=0
# shellcheck disable=SC2086
"$JAVA" $FLAGS -cp "$CP" dev.kiri.kernels.cuda.CudaBench Q4_0 Q8_0 matvec:Q4_K matvec:Q6_K 2>&1 | tee "$LOG/bench.log" || BENCH=$?
rm -rf "$JDK_DIR"
echo "== tests exit status $TESTS, benchmark exit status $BENCH"
[ "$TESTS" -ne 0 ] && exit "$TESTS"
exit "$BENCH"
