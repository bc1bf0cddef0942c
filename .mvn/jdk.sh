# Finding a JDK 25 for ./mvnw: POSIX sh, sourced. The same search as ./fulcrum's (which keeps its own
# copy so that the launcher works when copied alone next to a jar): change both together.
#   find_jdk        prints the home of the first JDK of version >= 25: JAVA_HOME, then the usual
#                   install folders (FULCRUM_JDK_SEARCH, space-separated, replaces them); returns 1
#                   when there is none
#   JDK_HINT        the one line to print then
# Globbing must be on where find_jdk runs (./mvnw runs with set -f: call it in a subshell with set +f).

JDK_NEED=25
JDK_HINT="no JDK $JDK_NEED or newer found (looked at JAVA_HOME and ${FULCRUM_JDK_SEARCH-/usr/lib/jvm, /opt/java, /usr/local, ...}); install one, e.g. 'apt-get install temurin-25-jdk' from adoptium.net, or set JAVA_HOME"

# Version of the JDK at $1 ("25.0.1" -> 25, "1.8.0_392" -> 8), or 0 when it has no java that runs.
# Read from its release file when there is one: starting a JVM to ask costs 50-400 ms.
java_major() {
  v=""
  [ -x "$1/bin/java" ] || { echo 0; return; }
  [ -r "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$1/release")
  [ -n "$v" ] || v=$("$1/bin/java" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}') || true
  v=${v#1.}
  v=${v%%[!0-9]*}
  echo "${v:-0}"
}

find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ "$(java_major "$JAVA_HOME")" -ge "$JDK_NEED" ]; then
    echo "$JAVA_HOME"
    return 0
  fi
  for dir in ${FULCRUM_JDK_SEARCH-/usr/lib/jvm /opt/java /usr/local /opt /usr/java "${HOME-}/.sdkman/candidates/java" "${HOME-}/.jdks"}; do
    for jdk in "$dir"/*25* "$dir"/*jdk* "$dir"/*java* "$dir"/*; do
      if [ -x "$jdk/bin/javac" ] && [ "$(java_major "$jdk")" -ge "$JDK_NEED" ]; then
        echo "$jdk"
        return 0
      fi
    done
  done
  return 1
}
