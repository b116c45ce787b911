#!/bin/sh
# Prepares, on a build machine with a JDK and Maven, everything scripts/gpu-check.sh needs on the
# GPU machine, which has a driver but no JDK, no Maven and no network:
#   .jdk/kiri-jdk25.tar.gz   the jlinked runtime (scripts/make-jdk.sh), unless already there
#   .gpu-run/*.jar           Kiri's main and test classes, the CLI jar, and the JUnit console launcher
#   .gpu-fixtures/           the fixture models and references the GPU tests read (a subset, ~25 MB)
# The folders are git-ignored; copy them to the GPU machine with the repository
# (the device tool: carry [".jdk", ".gpu-run", ".gpu-fixtures"]).
#
# usage: scripts/gpu-pack.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/java-env.sh
JUNIT_CONSOLE_VERSION=1.14.3
./mvnw -B -q -ntp -o install -DskipTests
CONSOLE=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$JUNIT_CONSOLE_VERSION/junit-platform-console-standalone-$JUNIT_CONSOLE_VERSION.jar
if [ ! -f "$CONSOLE" ]; then
    ./mvnw -B -q -ntp dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE_VERSION
fi
rm -rf .gpu-run
mkdir -p .gpu-run
cp "$CONSOLE" .gpu-run/junit-platform-console-standalone.jar
cp runtime/target/kiri-cli.jar .gpu-run/kiri-cli.jar
for m in gguf-loader kernels runtime; do
    [ "$m" = runtime ] || "$JAVA_HOME/bin/jar" --create --file ".gpu-run/kiri-$m.jar" -C "$m/target/classes" .
    "$JAVA_HOME/bin/jar" --create --file ".gpu-run/kiri-$m-tests.jar" -C "$m/target/test-classes" .
done
[ -f .jdk/kiri-jdk25.tar.gz ] || scripts/make-jdk.sh
FIXTURES=${KIRI_FIXTURES:-$ROOT/../shared/fixtures}
[ -d "$FIXTURES/models" ] || { echo "gpu-pack: no fixtures at $FIXTURES (set KIRI_FIXTURES)" >&2; exit 2; }
rm -rf .gpu-fixtures
mkdir -p .gpu-fixtures/models .gpu-fixtures/refs
# What fits beside the JDK and the jars in the 64 MiB the device tool carries; choose another set
# with KIRI_GPU_FIXTURES (stems). The GPU tests skip, saying so, the models left out.
for m in ${KIRI_GPU_FIXTURES:-tiny-llama-F32 tiny-llama-Q8_0 tiny-llama-Q4_0 tiny-llama-Q4_K tiny-llama-Q6_K tiny-llama-Q5_K \
         tiny-qwen2-F16 tiny-gemma-F16}; do
    cp "$FIXTURES/models/$m.gguf" .gpu-fixtures/models/
    cp "$FIXTURES/refs/$m".* .gpu-fixtures/refs/
done
cp "$FIXTURES"/refs/tiny-*-F32.* "$FIXTURES"/refs/tiny-hf-* .gpu-fixtures/refs/
du -sh .gpu-run .jdk .gpu-fixtures
