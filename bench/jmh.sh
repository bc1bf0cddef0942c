#!/usr/bin/env bash
# Builds fulcrum-bench (JMH) and runs its benchmarks with the GC profiler. See bench/README.md.
#
#   bench/jmh.sh [JMH OPTIONS...]     e.g. bench/jmh.sh -f 1 -wi 2 -i 3 RequestHeadBenchmark
#
# Options are passed to JMH (java -jar fulcrum-bench/target/benchmarks.jar -h lists them); -prof gc
# is always added, so every benchmark also reports gc.alloc.rate.norm, its bytes allocated per op.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
source bench/lib.sh

jdk=$(bench_jdk)
[[ -x $jdk/bin/java ]] || { echo "jmh: ./fulcrum found no JDK 25 (set JAVA_HOME)" >&2; exit 1; }
# package, not install: the build stays in this tree, the benchmarks jar in fulcrum-bench/target
JAVA_HOME=$jdk ./mvnw -q -B -DskipTests -pl fulcrum-bench -am package
exec "$jdk/bin/java" -jar fulcrum-bench/target/benchmarks.jar -prof gc "$@"
