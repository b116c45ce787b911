#!/bin/sh
# Builds the Java runtime carried to machines without a JDK (the GPU machine): a jlinked JDK 25
# image with the modules Kiri, its tests and the JUnit console launcher use, packed as
# .jdk/kiri-jdk25.tar.gz (git-ignored). scripts/gpu-check.sh unpacks it there.
#
# usage: scripts/make-jdk.sh            (uses JAVA_HOME, or finds a JDK 25 like ./kiri does)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/java-env.sh"
MODULES=java.base,java.logging,java.management,java.sql,java.xml,java.net.http,jdk.httpserver,jdk.unsupported,jdk.incubator.vector,jdk.zipfs
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-6 --output "$TMP/kiri-jdk25"
# The JVM library ships with its symbol table; without it the archive is 5 MB smaller (what the
# device tool carries is limited).
command -v strip >/dev/null && strip --strip-unneeded "$TMP/kiri-jdk25/lib/server/libjvm.so"
mkdir -p "$ROOT/.jdk"
tar -C "$TMP" -czf "$ROOT/.jdk/kiri-jdk25.tar.gz" kiri-jdk25
"$TMP/kiri-jdk25/bin/java" -version 2>&1 | head -1
ls -l "$ROOT/.jdk/kiri-jdk25.tar.gz"
