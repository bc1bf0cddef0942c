#!/usr/bin/env bash
# Compares Fulcrum with HAProxy and nginx as HTTP/1.1 reverse proxies, and with no proxy at all,
# on this machine, over loopback only. See bench/README.md.
#
#   bench/run.sh [-d SECONDS] [-r ROUNDS] [-c CONNECTIONS] [-t WRK_THREADS] [-w WARMUP_SECONDS] [-T "TARGETS"]
#
# Every target sits in front of the same 3 backends (one nginx, 127.0.0.1:9201..9203). For each
# round, path and target, wrk runs once; targets are interleaved so drift on a shared machine hits
# them alike. The table shows the median over rounds, and the proxy's CPU time per request read
# from /proc (its whole process tree: nginx and HAProxy workers, all JVM threads).
set -euo pipefail

DURATION=10
ROUNDS=3
# Each target gets this much load per path before measuring: the JVM's JIT compiles the hot
# path in the first seconds, and a benchmark of a server measures it warm, as it runs for days.
WARMUP=8
CONNECTIONS=50
WRK_THREADS=1
TARGETS="direct haproxy nginx fulcrum"
PACKAGES=(wrk haproxy nginx)
FULCRUM_JAVA_OPTS=${FULCRUM_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:ActiveProcessorCount=2 -XX:+AlwaysPreTouch}

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  echo "defaults: -d $DURATION -r $ROUNDS -c $CONNECTIONS -t $WRK_THREADS -w $WARMUP -T \"$TARGETS\""
}
while getopts "d:r:c:t:w:T:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    t) WRK_THREADS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    T) TARGETS=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$ROUNDS" "$CONNECTIONS" "$WRK_THREADS" "$WARMUP"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: -d, -r, -c, -t and -w take positive whole numbers" >&2; exit 2; }
done
((DURATION <= 60 && ROUNDS <= 10 && WARMUP <= 60)) || { echo "bench: at most -d 60 and -r 10, to keep the run bounded" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
source bench/lib.sh

# Ports: backends 9201..9203; proxies haproxy 9211, nginx 9212, fulcrum 9213 (+ admin 9214).
declare -A PORT=([direct]=9201 [haproxy]=9211 [nginx]=9212 [fulcrum]=9213)
PATHS=(/tiny.txt /1mib.bin)

# --- tools -----------------------------------------------------------------------------------
install_missing "${PACKAGES[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

# --- processes we start, and their cleanup ---------------------------------------------------
work=$(mktemp -d /tmp/fulcrum-bench.XXXXXX)
chmod 755 "$work" # nginx workers may run as nobody and must read the files
declare -A PID=()
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local name
  for name in "${!PID[@]}"; do stop_pid "${PID[$name]}"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in 9201 9202 9203 9211 9212 9213 9214; do
  if port_open "$p"; then echo "bench: port 127.0.0.1:$p is in use; stop what holds it first" >&2; exit 1; fi
done

# Waits until GET /tiny.txt on the port answers 200, while the process lives; bounded.
await_ready() {
  local port=$1 pid=$2 i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/tiny.txt" || true) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# --- backends: one nginx, 3 servers ----------------------------------------------------------
mkdir -p "$work/www" "$work/backends" "$work/nginx-proxy" "$work/logs"
printf 'hello from a backend\n' > "$work/www/tiny.txt"
head -c 1048576 /dev/zero | tr '\0' 'x' > "$work/www/1mib.bin"

{
  nginx_common "$work/backends"
  echo "worker_processes 1;"
  echo "http {"
  nginx_http_common "$work/backends"
  echo "  sendfile on;"
  for p in 9201 9202 9203; do echo "  server { listen 127.0.0.1:$p; root $work/www; }"; done
  echo "}"
} > "$work/backends/nginx.conf"
"$NGINX" -p "$work/backends" -c "$work/backends/nginx.conf" >"$work/logs/backends.log" 2>&1 &
PID[backends]=$!
for p in 9201 9202 9203; do
  await_ready "$p" "${PID[backends]}" || { echo "bench: backend nginx did not start; see below" >&2; cat "$work/logs/backends.log" "$work/backends/error.log" >&2 2>/dev/null; exit 1; }
done

# --- proxies ---------------------------------------------------------------------------------
start_haproxy() {
  haproxy_config 127.0.0.1:${PORT[haproxy]} 127.0.0.1:9201 127.0.0.1:9202 127.0.0.1:9203 > "$work/haproxy.cfg"
  "$HAPROXY" -db -f "$work/haproxy.cfg" >"$work/logs/haproxy.log" 2>&1 &
  PID[haproxy]=$!
}

start_nginx() {
  local d=$work/nginx-proxy
  nginx_proxy_config "$d" 127.0.0.1:${PORT[nginx]} 127.0.0.1:9201 127.0.0.1:9202 127.0.0.1:9203 > "$d/nginx.conf"
  "$NGINX" -p "$d" -c "$d/nginx.conf" >"$work/logs/nginx.log" 2>&1 &
  PID[nginx]=$!
}

start_fulcrum() {
  cat > "$work/fulcrum.yaml" <<EOF
name: bench
admin:
  listen: 127.0.0.1:9214
listeners:
  - name: web
    listen: 127.0.0.1:${PORT[fulcrum]}
    protocol: http
    pool: app
pools:
  - name: app
    algorithm: round-robin
    servers:
      - address: 127.0.0.1:9201
      - address: 127.0.0.1:9202
      - address: 127.0.0.1:9203
    health-check:
      type: none
EOF
  # The launcher finds the JDK 25 and builds the jar if needed; it execs java, so $! is the JVM.
  JAVA_OPTS=$FULCRUM_JAVA_OPTS ./fulcrum run -c "$work/fulcrum.yaml" >"$work/logs/fulcrum.log" 2>&1 &
  PID[fulcrum]=$!
}

declare -A FAILED=()
if [[ " $TARGETS " == *" fulcrum "* ]]; then
  # Build (or find) the jar first, so the build does not count against the start-up bound.
  ./fulcrum version >/dev/null || { echo "bench: ./fulcrum cannot run; the fulcrum rows will say failed" >&2; FAILED[fulcrum]=1; }
fi
for t in $TARGETS; do
  [[ -n ${PORT[$t]:-} ]] || { echo "bench: unknown target $t (known: direct haproxy nginx fulcrum)" >&2; exit 2; }
  [[ $t == direct || -n ${FAILED[$t]:-} ]] && continue
  "start_$t"
  if ! await_ready "${PORT[$t]}" "${PID[$t]}"; then
    echo "bench: $t did not answer on 127.0.0.1:${PORT[$t]}; its rows will say failed. Its log:" >&2
    tail -n 5 "$work/logs/$t.log" >&2 || true
    FAILED[$t]=1
    stop_pid "${PID[$t]}"; unset "PID[$t]"
  fi
done

# --- measuring -------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

# wrk latency "1.23ms" / "850.00us" / "1.02s" -> milliseconds
to_ms() { awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); x = v + 0;
  if (u == "us") x /= 1000; else if (u == "s") x *= 1000; else if (u == "m") x *= 60000; printf "%.3f", x }'; }

results=$work/results.tsv # target path round rps p50 p99 requests errors cpu_us_per_req
: > "$results"

measure() { # target path round
  local t=$1 path=$2 round=$3 out before after requests rps p50 p99 errors cpu
  if [[ -n ${FAILED[$t]:-} ]]; then return; fi
  before=$([[ $t == direct ]] && echo 0 || tree_ticks "${PID[$t]}")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
        "http://127.0.0.1:${PORT[$t]}$path" 2>&1) || true
  after=$([[ $t == direct ]] && echo 0 || tree_ticks "${PID[$t]}")
  requests=$(awk '/requests in/ {print $1; exit}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2; exit}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2; exit}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2; exit}' <<<"$out")
  errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); n += $1 + $2 + $3 + $4} END {print n + 0}' <<<"$out")
  if [[ -z $requests || $requests == 0 || -z $rps ]]; then
    printf '  %-8s %-10s round %d: failed\n' "$t" "$path" "$round" >&2
    printf '%s\t%s\t%s\tfailed\n' "$t" "$path" "$round" >> "$results"
    return
  fi
  cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$path" "$round" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" \
    "$requests" "$errors" "$cpu" >> "$results"
  printf '  %-8s %-10s round %d: %10s req/s  p50 %s  p99 %s  errors %s  cpu %s us/req\n' \
    "$t" "$path" "$round" "$rps" "$p50" "$p99" "$errors" "$cpu" >&2
}

java_version=$(JAVA_OPTS="" ./fulcrum --version 2>/dev/null || echo "fulcrum: not runnable")
header() {
  echo "Reproduce: \`bench/run.sh -d $DURATION -r $ROUNDS -c $CONNECTIONS -t $WRK_THREADS -w $WARMUP -T \"$TARGETS\"\`"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr);" \
       "everything (backends, proxy, wrk) shares these CPUs, over loopback."
  echo "Load: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s, keep-alive, after ${WARMUP}s of warm-up per path; $ROUNDS rounds, targets interleaved; medians shown."
  echo "Backends: one nginx (1 worker) serving 127.0.0.1:9201..9203; direct = wrk straight at 127.0.0.1:9201, no proxy."
  echo "Proxies: $($HAPROXY -v | head -1 | awk '{print "HAProxy", $3}') (nbthread 2, roundrobin, http-reuse always);" \
       "$("$NGINX" -v 2>&1 | sed 's|nginx version: nginx/|nginx |') (2 workers, upstream keepalive 64);" \
       "$java_version (2 event loops via -XX:ActiveProcessorCount=2; JAVA_OPTS: $FULCRUM_JAVA_OPTS)."
  echo "Proxy CPU: utime+stime of the proxy's process tree from /proc, per request (and per MiB for the 1 MiB file)."
  echo
}

header >&2
echo "bench: warming up each target for $WARMUP s per path" >&2
for t in $TARGETS; do
  [[ -n ${FAILED[$t]:-} ]] && continue
  for path in "${PATHS[@]}"; do wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:${PORT[$t]}$path" >/dev/null 2>&1 || true; done
done
for ((round = 1; round <= ROUNDS; round++)); do
  echo "bench: round $round of $ROUNDS" >&2
  for path in "${PATHS[@]}"; do
    for t in $TARGETS; do measure "$t" "$path" "$round"; done
  done
done

# --- the table -------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { # target path column -> median over rounds that did not fail
  awk -F'\t' -v t="$1" -v p="$2" -v c="$3" '$1 == t && $2 == p && $4 != "failed" { print $c }' "$results" | median
}

table=$work/table.md
{
  header
  echo "| target | path | req/s | p50 ms | p99 ms | vs direct | errors | proxy CPU µs/req | proxy CPU ms/MiB |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for path in "${PATHS[@]}"; do
    direct_rps=$(col direct "$path" 4)
    for t in $TARGETS; do
      rps=$(col "$t" "$path" 4)
      if [[ -z $rps ]]; then
        echo "| $t | $path | failed | | | | | | |"
        continue
      fi
      ratio=$([[ -n $direct_rps ]] && awk -v a="$rps" -v b="$direct_rps" 'BEGIN { printf "%.2f", a / b }' || echo "")
      cpu=$(col "$t" "$path" 9); cpu_mib=""
      [[ $path == /1mib.bin ]] && cpu_mib=$(awk -v c="$cpu" 'BEGIN { printf "%.2f", c / 1000 }')
      if [[ $t == direct ]]; then cpu="-"; cpu_mib=$([[ -n $cpu_mib ]] && echo "-" || echo ""); fi
      errors=$(awk -F'\t' -v t="$t" -v p="$path" '$1 == t && $2 == p && $4 != "failed" { n += $8 } END { print n + 0 }' "$results")
      printf '| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s |\n' "$t" "$path" "$rps" "$(col "$t" "$path" 5)" \
        "$(col "$t" "$path" 6)" "$ratio" "$errors" "$cpu" "$cpu_mib"
    done
  done
} > "$table"

mkdir -p bench/results
cp "$table" bench/results/latest.md
echo
cat "$table"
echo
echo "(saved to bench/results/latest.md)"
