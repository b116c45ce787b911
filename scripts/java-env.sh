# Sourced by .ci/run and ./kiri: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: $JAVA_HOME if it is 25+, then the JDKs under /usr/lib/jvm and /opt, then `java` on PATH.
kiri_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
kiri_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/* /opt/*jdk* /opt/java/* \
                   "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(kiri_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if ! KIRI_JDK=$(kiri_find_jdk); then
  echo "kiri: no JDK 25 or newer found (looked at JAVA_HOME, /usr/lib/jvm, /opt and PATH); install one and set JAVA_HOME" >&2
  return 1 2>/dev/null || exit 1
fi
export JAVA_HOME="$KIRI_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
