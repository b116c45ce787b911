#!/bin/sh
# Prepares, on a build machine with a JDK and Maven, everything scripts/gpu-check.sh needs on the
# GPU machine, which has a driver but no JDK, no Maven and no network:
#   .jdk/kiri-jdk25.tar.gz   the jlinked runtime (scripts/make-jdk.sh), unless already there
#   .gpu-run/*.jar           Kiri's main and test classes, and the JUnit console launcher
# Both folders are git-ignored; copy them to the GPU machine with the repository.
#
# usage: scripts/gpu-pack.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/java-env.sh
JUNIT_CONSOLE_VERSION=1.14.3
./mvnw -B -q -ntp -o package -DskipTests -pl gguf-loader,kernels -am
CONSOLE=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$JUNIT_CONSOLE_VERSION/junit-platform-console-standalone-$JUNIT_CONSOLE_VERSION.jar
if [ ! -f "$CONSOLE" ]; then
    ./mvnw -B -q -ntp dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE_VERSION
fi
rm -rf .gpu-run
mkdir -p .gpu-run
cp "$CONSOLE" .gpu-run/junit-platform-console-standalone.jar
for m in gguf-loader kernels; do
    "$JAVA_HOME/bin/jar" --create --file ".gpu-run/kiri-$m.jar" -C "$m/target/classes" .
    "$JAVA_HOME/bin/jar" --create --file ".gpu-run/kiri-$m-tests.jar" -C "$m/target/test-classes" .
done
[ -f .jdk/kiri-jdk25.tar.gz ] || scripts/make-jdk.sh
du -sh .gpu-run .jdk
