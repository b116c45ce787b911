#!/bin/bash
# The one GPU check: run on the GPU machine from the repository root, after scripts/gpu-pack.sh
# has prepared .jdk/ and .gpu-run/ and they were copied there with the repository. Needs only
# the NVIDIA driver on that machine.
#
#   1. unpacks the jlinked JDK 25 into a temporary folder;
#   2. runs the CUDA tests (the GPU-tagged ones and the probe/PTX tests) with the JUnit console
#      launcher, with -Dkiri.cuda.require=true so that a missing GPU fails rather than skips;
#   3. runs the runtime's GPU tests (whole-model logits against the references and the CPU path,
#      greedy generation, partial offload, concurrency);
#   4. runs the kernel micro-benchmark (CudaBench) for the Llama-3.2-1B shape in Q4_0 and Q8_0,
#      and its matrix products alone in Q4_K and Q6_K;
#   5. writes random-weight Llama-3.2-1B-shaped models in Q4_0 and Q8_0 (kiri synth) and runs
#      `kiri bench --backend cuda -p 512 -n 128` on them (as llama-bench -ngl 99 -p 512 -n 128).
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
RCP=.gpu-run/kiri-cli.jar:.gpu-run/kiri-gguf-loader-tests.jar:.gpu-run/kiri-kernels-tests.jar:.gpu-run/kiri-runtime-tests.jar
# Each step has a time limit, so that a kernel that never returns costs one step, not the run.
STEP_LIMIT=${KIRI_GPU_STEP_LIMIT:-240}
FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Dkiri.cuda.require=true -Dkiri.fixtures=$ROOT/.gpu-fixtures -Dkiri.gpu.fixtureSubset=true"

echo "== CUDA tests"
TESTS=0
# shellcheck disable=SC2086
timeout "$STEP_LIMIT" "$JAVA" $FLAGS -jar .gpu-run/junit-platform-console-standalone.jar execute \
    --class-path "$CP" --select-package dev.kiri.kernels.cuda --select-class dev.kiri.kernels.matmul.CudaMatvecGpuTest \
    --select-class dev.kiri.kernels.matmul.CudaGemmGpuTest \
    --details=tree --disable-banner --fail-if-no-tests --reports-dir "$LOG/junit" 2>&1 | tee "$LOG/tests.log" || TESTS=$?

echo "== runtime GPU tests"
# shellcheck disable=SC2086
timeout "$STEP_LIMIT" "$JAVA" $FLAGS -jar .gpu-run/junit-platform-console-standalone.jar execute \
    --class-path "$RCP" --select-class dev.kiri.runtime.model.GpuDecoderGpuTest --select-class dev.kiri.runtime.ModelGpuTest \
    --select-class dev.kiri.runtime.cli.BackendOptionsTest \
    --details=tree --disable-banner --fail-if-no-tests --reports-dir "$LOG/junit-runtime" 2>&1 | tee "$LOG/runtime-tests.log" || TESTS=$((TESTS + $?))

echo "== CUDA kernel benchmark"
BENCH=0
# shellcheck disable=SC2086
timeout "$STEP_LIMIT" "$JAVA" $FLAGS -cp "$CP" dev.kiri.kernels.cuda.CudaBench Q4_0 Q8_0 matvec:Q4_K matvec:Q6_K 2>&1 | tee "$LOG/bench.log" || BENCH=$?

echo "== kiri bench --backend cuda (random-weight Llama-3.2-1B shape)"
MODELS=$(mktemp -d)
KIRI="$JAVA ${KIRI_GPU_JAVA_OPTS:-} --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar .gpu-run/kiri-cli.jar"
for t in ${KIRI_GPU_BENCH_TYPES:-Q4_0 Q8_0}; do
    $KIRI synth --shape llama-3.2-1b --type "$t" -o "$MODELS/llama-1b-$t.gguf" 2>&1 | tail -1
    timeout "$STEP_LIMIT" $KIRI bench -m "$MODELS/llama-1b-$t.gguf" --backend cuda -p 512 -n 128 -b 512 -r 3 2>&1 | tee -a "$LOG/kiri-bench.log" || BENCH=$?
done
rm -rf "$MODELS"
rm -rf "$JDK_DIR"
echo "== tests exit status $TESTS, benchmark exit status $BENCH"
[ "$TESTS" -ne 0 ] && exit "$TESTS"
exit "$BENCH"
