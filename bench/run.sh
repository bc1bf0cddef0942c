#!/usr/bin/env bash
# Compares Fulcrum with HAProxy and nginx as HTTP/1.1 reverse proxies, and with no proxy at all,
# on this machine, over loopback only. See bench/README.md.
#
#   bench/run.sh [-d SECONDS] [-r ROUNDS] [-c CONNECTIONS] [-t WRK_THREADS] [-w WARMUP_SECONDS] [-T "TARGETS"]
#                [-W "WORKLOADS"] [-R RATE] [-n IDLE_CONNECTIONS] [-s STARTUP_RUNS]
#
# Workloads (-W): keepalive newconn rate idle startup (all by default), and routes (only when named:
# 1 route against 200 host routes and 200 path-prefix routes). Every target sits in front of the
# same 3 backends (one nginx, 127.0.0.1:9201..9203). For each round, row and target, the
# load runs once; targets are interleaved so drift on a shared machine hits them alike. The tables
# show the median over rounds, and the proxy's CPU time per request read from /proc (its whole
# process tree: nginx and HAProxy workers, all JVM threads).
set -euo pipefail

DURATION=10
ROUNDS=3
# Each target gets this much load per path before measuring: the JVM's JIT compiles the hot
# path in the first seconds, and a benchmark of a server measures it warm, as it runs for days.
WARMUP=8
CONNECTIONS=50
WRK_THREADS=1
TARGETS="direct haproxy nginx fulcrum"
WORKLOADS="keepalive newconn rate idle startup"
KNOWN_WORKLOADS="keepalive newconn rate idle startup routes"
RATE=5000            # requests per second of the fixed-rate row
IDLE_CONNECTIONS=5000
STARTUP_RUNS=3
PACKAGES=(wrk haproxy nginx)
FULCRUM_JAVA_OPTS=${FULCRUM_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:ActiveProcessorCount=2 -XX:+AlwaysPreTouch}
# The start-up instances run as an operator runs ./fulcrum: the launcher's JVM defaults and its
# start-up cache, only the event loops pinned to 2 like the other target's.
FULCRUM_STARTUP_JAVA_OPTS=${FULCRUM_STARTUP_JAVA_OPTS:--XX:ActiveProcessorCount=2}

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  echo "defaults: -d $DURATION -r $ROUNDS -c $CONNECTIONS -t $WRK_THREADS -w $WARMUP -T \"$TARGETS\"" \
       "-W \"$WORKLOADS\" -R $RATE -n $IDLE_CONNECTIONS -s $STARTUP_RUNS"
}
while getopts "d:r:c:t:w:T:W:R:n:s:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    t) WRK_THREADS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    T) TARGETS=$OPTARG ;;
    W) WORKLOADS=$OPTARG ;;
    R) RATE=$OPTARG ;;
    n) IDLE_CONNECTIONS=$OPTARG ;;
    s) STARTUP_RUNS=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$ROUNDS" "$CONNECTIONS" "$WRK_THREADS" "$WARMUP" "$RATE" "$IDLE_CONNECTIONS" "$STARTUP_RUNS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: -d, -r, -c, -t, -w, -R, -n and -s take positive whole numbers" >&2; exit 2; }
done
((DURATION <= 60 && ROUNDS <= 10 && WARMUP <= 60 && RATE <= 50000 && IDLE_CONNECTIONS <= 9000 && STARTUP_RUNS <= 10)) ||
  { echo "bench: at most -d 60, -r 10, -w 60, -R 50000, -n 9000 and -s 10, to keep the run bounded" >&2; exit 2; }
for w in $WORKLOADS; do
  [[ " $KNOWN_WORKLOADS " == *" $w "* ]] || { echo "bench: unknown workload $w (known: $KNOWN_WORKLOADS)" >&2; exit 2; }
done
has() { [[ " $WORKLOADS " == *" $1 "* ]]; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
source bench/lib.sh

# Ports: backends 9201..9203; proxies haproxy 9211, nginx 9212, fulcrum 9213 (+ admin 9214),
# fulcrum-splice 9215 (+ admin 9216: Fulcrum on epoll with splice on, not in the default targets); the
# instances started for the start-up time 9221, 9222, 9223 (+ admin 9224); the routes instances
# (-W routes) 9231.. (below).
declare -A PORT=([direct]=9201 [haproxy]=9211 [nginx]=9212 [fulcrum]=9213 [fulcrum-splice]=9215)
declare -A STARTUP_PORT=([haproxy]=9221 [nginx]=9222 [fulcrum]=9223)
# The routes workload: each proxy's own one-route target above (its pool takes everything: HAProxy's
# default_backend, nginx's one server and location /, Fulcrum's `pool:`) against one more instance
# per proxy, routes-TARGET, with ROUTE_COUNT pools and a listener (frontend, server) per way of
# routing: `hosts` (ROUTE_COUNT host routes), HAProxy's `hosts-map` (the same in a map file) and
# `paths` (ROUTE_COUNT path-prefix routes). Every row sends the same request, to the last route
# of both kinds, so that a routing that tries routes in order pays the most, and only the
# configuration differs between the rows.
ROUTE_COUNT=200
ROUTE_HOST=h$ROUTE_COUNT.example.com
ROUTE_PATH=/p$ROUTE_COUNT/tiny.txt
declare -A ROUTE_CONFIGS=([haproxy]="1 hosts hosts-map paths" [nginx]="1 hosts paths" [fulcrum]="1 hosts paths")
declare -A ROUTE_PORT=([haproxy hosts]=9231 [haproxy hosts-map]=9235 [haproxy paths]=9241
                       [nginx hosts]=9232 [nginx paths]=9242 [fulcrum hosts]=9233 [fulcrum paths]=9243)
ROUTE_ADMIN_PORT=9234
# The wrk rows: keep-alive to each path, and a new connection per request (wrk reconnects after
# every response to "Connection: close"; each of its requests is a connection).
ROWS=()
has keepalive && ROWS+=(/tiny.txt /1mib.bin)
has newconn && ROWS+=("/tiny.txt new conn")
row_path() { echo "${1%% *}"; }
row_args() { [[ $1 == *" new conn" ]] && echo "-H Connection:close" || true; }

# --- tools -----------------------------------------------------------------------------------
install_missing "${PACKAGES[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

# The idle connections need a descriptor each, in the client and in the target
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- processes we start, and their cleanup ---------------------------------------------------
bench_processes fulcrum-bench
require_free_ports 9201 9202 9203 9211 9212 9213 9214 9215 9216 9221 9222 9223 9224 9231 9232 9233 9234 9235 9241 9242 9243

# http_code PORT PATH [HOST]: the status of GET PATH on 127.0.0.1:PORT (with that Host), 000 for none
http_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 1 ${3:+-H "Host: $3"} "http://127.0.0.1:$1$2" || true
}

# Waits until GET PATH (default /tiny.txt; with Host HOST if given) on the port answers 200, while
# the process lives; polls every INTERVAL seconds (default 0.1), for at most 20 s.
await_ready() { # PORT PID [INTERVAL [PATH [HOST]]]
  local port=$1 pid=$2 interval=${3:-0.1} path=${4:-/tiny.txt} host=${5:-} deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $(http_code "$port" "$path" "$host") == 200 ]] && return 0
    sleep "$interval"
  done
  return 1
}

# --- backends: one nginx, 3 servers ----------------------------------------------------------
mkdir -p "$work/www" "$work/backends" "$work/logs"
printf 'hello from a backend\n' > "$work/www/tiny.txt"
mkdir -p "$work/www${ROUTE_PATH%/*}" && cp "$work/www/tiny.txt" "$work/www$ROUTE_PATH" # what the routes rows ask for
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
# start_TARGET NAME PORT: starts an instance listening on PORT; its PID goes to PID[NAME], its
# files to $work/NAME*, its output to $work/logs/NAME.log.
start_haproxy() {
  local name=$1 port=$2
  haproxy_config "127.0.0.1:$port" 127.0.0.1:9201 127.0.0.1:9202 127.0.0.1:9203 > "$work/$name.cfg"
  "$HAPROXY" -db -f "$work/$name.cfg" >"$work/logs/$name.log" 2>&1 &
  PID[$name]=$!
}

start_nginx() {
  local name=$1 port=$2 d=$work/$1
  mkdir -p "$d"
  nginx_proxy_config "$d" "127.0.0.1:$port" 127.0.0.1:9201 127.0.0.1:9202 127.0.0.1:9203 > "$d/nginx.conf"
  "$NGINX" -p "$d" -c "$d/nginx.conf" >"$work/logs/$name.log" 2>&1 &
  PID[$name]=$!
}

start_fulcrum() {
  local name=$1 port=$2
  cat > "$work/$name.yaml" <<EOF
name: bench
admin:
  listen: 127.0.0.1:$((port + 1))
listeners:
  - name: web
    listen: 127.0.0.1:$port
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
  local opts=$FULCRUM_JAVA_OPTS
  [[ $name == startup-* ]] && opts=$FULCRUM_STARTUP_JAVA_OPTS
  JAVA_OPTS=$opts ./fulcrum run -c "$work/$name.yaml" >"$work/logs/$name.log" 2>&1 &
  PID[$name]=$!
}

# Fulcrum on the epoll transport with large response bodies relayed by splice(2) (off by default).
start_fulcrum-splice() {
  FULCRUM_JAVA_OPTS="$FULCRUM_JAVA_OPTS -Dfulcrum.transport=epoll -Dfulcrum.splice=true" start_fulcrum "$@"
}

declare -A FAILED=()
if [[ " $TARGETS " == *" fulcrum"* ]]; then
  # Build (or find) the jar and the launcher's start-up caches for both sets of JVM options first,
  # so neither the build nor a training run counts against the start-up bound or time.
  { JAVA_OPTS=$FULCRUM_JAVA_OPTS FULCRUM_AOT=build ./fulcrum version >/dev/null &&
    JAVA_OPTS=$FULCRUM_STARTUP_JAVA_OPTS FULCRUM_AOT=build ./fulcrum version >/dev/null; } ||
    { echo "bench: ./fulcrum cannot run; the fulcrum rows will say failed" >&2; FAILED[fulcrum]=1; FAILED[fulcrum-splice]=1; }
fi
for t in $TARGETS; do
  [[ -n ${PORT[$t]:-} ]] || { echo "bench: unknown target $t (known: direct haproxy nginx fulcrum fulcrum-splice)" >&2; exit 2; }
done
CLK_TCK=$(getconf CLK_TCK)
# Start-up: exec of a fresh instance (on its own port) to its first proxied 200, polled every
# 10 ms; stopped at once. Appends milliseconds to STARTUP_MS[target], and the CPU time its process
# tree had used by then (utime + stime, all threads: the JVM's compilers too) to STARTUP_CPU_MS,
# the figure that a busy machine disturbs least.
declare -A STARTUP_MS=() STARTUP_CPU_MS=()
measure_startup() { # target
  local t=$1 name=startup-$1 t0 t1 ticks
  t0=$(date +%s%N)
  "start_$t" "$name" "${STARTUP_PORT[$t]}"
  if await_ready "${STARTUP_PORT[$t]}" "${PID[$name]}" 0.01; then
    t1=$(date +%s%N)
    ticks=$(tree_ticks "${PID[$name]}")
    STARTUP_MS[$t]+="$(((t1 - t0) / 1000000)) "
    STARTUP_CPU_MS[$t]+="$((ticks * 1000 / CLK_TCK)) "
    printf '  %-8s start-up %d ms, CPU %d ms\n' "$t" $(((t1 - t0) / 1000000)) $((ticks * 1000 / CLK_TCK)) >&2
  else
    echo "bench: $t started for the start-up time did not answer; see its log:" >&2
    tail -n 5 "$work/logs/$name.log" >&2 || true
  fi
  stop_pid "${PID[$name]}"; unset "PID[$name]"
}

# Before the long-running targets start: a JVM that has just started beside them (the fulcrum
# target's JIT compilers, its pre-touched heap) would take the CPUs that start-up is timed on.
if has startup; then
  echo "bench: start-up time, $STARTUP_RUNS runs per target" >&2
  for ((run = 1; run <= STARTUP_RUNS; run++)); do
    for t in $TARGETS; do
      [[ $t == direct || -z ${STARTUP_PORT[$t]:-} || -n ${FAILED[$t]:-} ]] || measure_startup "$t"
    done
  done
fi

for t in $TARGETS; do
  [[ -n ${PORT[$t]:-} ]] || { echo "bench: unknown target $t (known: direct haproxy nginx fulcrum fulcrum-splice)" >&2; exit 2; }
  [[ $t == direct || -n ${FAILED[$t]:-} ]] && continue
  "start_$t" "$t" "${PORT[$t]}"
  if ! await_ready "${PORT[$t]}" "${PID[$t]}"; then
    echo "bench: $t did not answer on 127.0.0.1:${PORT[$t]}; its rows will say failed. Its log:" >&2
    tail -n 5 "$work/logs/$t.log" >&2 || true
    FAILED[$t]=1
    stop_pid "${PID[$t]}"; unset "PID[$t]"
  fi
done

# --- the routes instances (-W routes) --------------------------------------------------------
# start_routes TARGET: starts routes-TARGET (configurations in bench/lib.sh), PID in PID[routes-TARGET].
start_routes() {
  local t=$1 name=routes-$1 d=$work/routes-$1 servers=(127.0.0.1:9201 127.0.0.1:9202 127.0.0.1:9203)
  mkdir -p "$d"
  case $t in
    haproxy)
      haproxy_routes_config "$ROUTE_COUNT" "127.0.0.1:${ROUTE_PORT[haproxy hosts]}" "127.0.0.1:${ROUTE_PORT[haproxy hosts-map]}" \
        "127.0.0.1:${ROUTE_PORT[haproxy paths]}" "$d/hosts.map" "${servers[@]}" > "$d/haproxy.cfg"
      "$HAPROXY" -db -f "$d/haproxy.cfg" >"$work/logs/$name.log" 2>&1 & ;;
    nginx)
      nginx_routes_config "$ROUTE_COUNT" "$d" "127.0.0.1:${ROUTE_PORT[nginx hosts]}" "127.0.0.1:${ROUTE_PORT[nginx paths]}" \
        "${servers[@]}" > "$d/nginx.conf"
      "$NGINX" -p "$d" -c "$d/nginx.conf" >"$work/logs/$name.log" 2>&1 & ;;
    fulcrum)
      fulcrum_routes_config "$ROUTE_COUNT" "127.0.0.1:$ROUTE_ADMIN_PORT" "127.0.0.1:${ROUTE_PORT[fulcrum hosts]}" \
        "127.0.0.1:${ROUTE_PORT[fulcrum paths]}" "${servers[@]}" > "$d/fulcrum.yaml"
      JAVA_OPTS=$FULCRUM_JAVA_OPTS ./fulcrum run -c "$d/fulcrum.yaml" >"$work/logs/$name.log" 2>&1 & ;;
  esac
  PID[$name]=$!
}

# route_target TARGET CONFIG: "PORT PID" of what serves that configuration (1: the target itself)
route_target() {
  if [[ $2 == 1 ]]; then echo "${PORT[$1]} ${PID[$1]}"; else echo "${ROUTE_PORT[$1 $2]} ${PID[routes-$1]}"; fi
}

# Each routed listener must answer the rows' request with 200, and refuse one that no route takes
# (hosts: another host; paths: /tiny.txt, which the backends do serve), or it would measure a
# routing that does not happen; its rows then say failed.
declare -A ROUTE_FAILED=()
if has routes; then
  echo "bench: routes: 1 route against $ROUTE_COUNT; every row asks for $ROUTE_PATH with Host: $ROUTE_HOST" >&2
  for t in $TARGETS; do
    [[ -n ${ROUTE_CONFIGS[$t]:-} && -z ${FAILED[$t]:-} ]] || continue # direct and fulcrum-splice have no routes rows
    start_routes "$t"
    for c in ${ROUTE_CONFIGS[$t]}; do
      read -r port pid <<<"$(route_target "$t" "$c")"
      if ! await_ready "$port" "$pid" 0.1 "$ROUTE_PATH" "$ROUTE_HOST"; then
        echo "bench: $t $c on 127.0.0.1:$port did not answer $ROUTE_PATH for $ROUTE_HOST with 200 (got $(http_code "$port" "$ROUTE_PATH" "$ROUTE_HOST")); its row will say failed. Its log:" >&2
        tail -n 5 "$work/logs/$([[ $c == 1 ]] && echo "$t" || echo "routes-$t").log" >&2 || true
        ROUTE_FAILED[$t $c]=1
        continue
      fi
      case $c in
        1) printf '  %-8s %-9s :%s  %s for %s: 200\n' "$t" "$c" "$port" "$ROUTE_PATH" "$ROUTE_HOST" >&2; continue ;;
        paths) other="/tiny.txt for $ROUTE_HOST"; code=$(http_code "$port" /tiny.txt "$ROUTE_HOST") ;;
        *) other="$ROUTE_PATH for h$((ROUTE_COUNT + 1)).example.com"; code=$(http_code "$port" "$ROUTE_PATH" "h$((ROUTE_COUNT + 1)).example.com") ;;
      esac
      printf '  %-8s %-9s :%s  %s for %s: 200; %s (no route): %s\n' "$t" "$c" "$port" "$ROUTE_PATH" "$ROUTE_HOST" "$other" "$code" >&2
      if [[ $code == 200 ]]; then
        echo "bench: $t $c answered 200 where no route should take the request; its row will say failed" >&2
        ROUTE_FAILED[$t $c]=1
      fi
    done
  done
fi

# --- measuring -------------------------------------------------------------------------------
# The paced and idle clients (bench/HttpLoad.java), compiled once on the JDK ./fulcrum runs on
if has rate || has idle; then
  jdk=$(bench_jdk)
  "$jdk/bin/javac" -d "$work/classes" bench/HttpLoad.java || { echo "bench: bench/HttpLoad.java does not compile" >&2; exit 1; }
fi
HTTP_LOAD=("${jdk:-}/bin/java" -Xms64m -Xmx512m -XX:+UseParallelGC -cp "$work/classes" HttpLoad)

# The process tree a target's memory and CPU are read from (direct: the backends' nginx)
target_pid() { [[ $1 == direct ]] && echo "${PID[backends]}" || echo "${PID[$1]}"; }

declare -A RSS_IDLE=() RSS_LOADED=()
for t in $TARGETS; do [[ -n ${FAILED[$t]:-} ]] || RSS_IDLE[$t]=$(tree_rss_kib "$(target_pid "$t")"); done

# wrk latency "1.23ms" / "850.00us" / "1.02s" -> milliseconds
to_ms() { awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); x = v + 0;
  if (u == "us") x /= 1000; else if (u == "s") x *= 1000; else if (u == "m") x *= 60000; printf "%.3f", x }'; }

results=$work/results.tsv # target row round rps p50 p99 requests errors cpu_us_per_req
rate_results=$work/rate.tsv # target round requests errors rate p50 p99 p99.9 p99.99 max cpu_us_per_req
route_results=$work/routes.tsv # target config round rps p50 p99 requests errors cpu_us_per_req
: > "$results"
: > "$rate_results"
: > "$route_results"

# wrk_once URL TREE_PID [WRK_ARGS...]: one wrk run of DURATION s; prints "req/s p50_ms p99_ms requests
# errors cpu_us_per_req" tab-separated, the CPU that of TREE_PID's process tree (0 without one), or
# nothing when wrk got no answer.
wrk_once() {
  local url=$1 pid=$2 out before after requests rps p50 p99 errors; shift 2
  before=$([[ -z $pid ]] && echo 0 || tree_ticks "$pid")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency "$@" "$url" 2>&1) || true
  after=$([[ -z $pid ]] && echo 0 || tree_ticks "$pid")
  requests=$(awk '/requests in/ {print $1; exit}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2; exit}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2; exit}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2; exit}' <<<"$out")
  errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); n += $1 + $2 + $3 + $4} END {print n + 0}' <<<"$out")
  [[ -n $requests && $requests != 0 && -n $rps ]] || return 0
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$requests" "$errors" \
    "$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')"
}

measure() { # target row round
  local t=$1 row=$2 round=$3 line rps p50 p99 requests errors cpu
  if [[ -n ${FAILED[$t]:-} ]]; then return; fi
  # shellcheck disable=SC2046 # row_args is split into wrk's arguments on purpose
  line=$(wrk_once "http://127.0.0.1:${PORT[$t]}$(row_path "$row")" "$([[ $t == direct ]] || echo "${PID[$t]}")" $(row_args "$row"))
  if [[ -z $line ]]; then
    printf '  %-8s %-18s round %d: failed\n' "$t" "$row" "$round" >&2
    printf '%s\t%s\t%s\tfailed\n' "$t" "$row" "$round" >> "$results"
    return
  fi
  IFS=$'\t' read -r rps p50 p99 requests errors cpu <<<"$line"
  cpu=$(awk -v c="$cpu" 'BEGIN { printf "%.1f", c }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$row" "$round" "$rps" "$p50" "$p99" "$requests" "$errors" "$cpu" >> "$results"
  printf '  %-8s %-18s round %d: %10s req/s  p50 %s ms  p99 %s ms  errors %s  cpu %s us/req\n' \
    "$t" "$row" "$round" "$rps" "$p50" "$p99" "$errors" "$cpu" >&2
}

# A routes row: the rows' request (ROUTE_PATH, Host: ROUTE_HOST) keep-alive through one configuration.
measure_route() { # target config round
  local t=$1 c=$2 round=$3 port pid line
  [[ -n ${ROUTE_FAILED[$t $c]:-} ]] && return
  read -r port pid <<<"$(route_target "$t" "$c")"
  line=$(wrk_once "http://127.0.0.1:$port$ROUTE_PATH" "$pid" -H "Host: $ROUTE_HOST")
  if [[ -z $line ]]; then
    printf '  %-8s routes %-9s round %d: failed\n' "$t" "$c" "$round" >&2
    return
  fi
  printf '%s\t%s\t%s\t%s\n' "$t" "$c" "$round" "$line" >> "$route_results"
  awk -F'\t' -v t="$t" -v c="$c" -v r="$round" '{ printf "  %-8s routes %-9s round %d: %10s req/s  p50 %s ms  p99 %s ms  errors %s  cpu %s us/req\n",
    t, c, r, $1, $2, $3, $5, $6 }' <<<"$line" >&2
}

# The fixed-rate row: RATE requests/s of /tiny.txt over CONNECTIONS keep-alive connections for
# DURATION s after 2 s unmeasured, latency from each request's scheduled time.
measure_rate() { # target round
  local t=$1 round=$2 out before after
  if [[ -n ${FAILED[$t]:-} ]]; then return; fi
  before=$([[ $t == direct ]] && echo 0 || tree_ticks "${PID[$t]}")
  out=$(timeout $((DURATION + 30)) "${HTTP_LOAD[@]}" paced 127.0.0.1 "${PORT[$t]}" /tiny.txt "$RATE" "$DURATION" "$CONNECTIONS" 2 \
        2>&1 | tail -n 1) || true
  after=$([[ $t == direct ]] && echo 0 || tree_ticks "${PID[$t]}")
  if [[ $out != requests* ]] || [[ $(awk '{print $2}' <<<"$out") == 0 ]]; then
    printf '  %-8s %-18s round %d: failed (%s)\n' "$t" "rate $RATE/s" "$round" "$out" >&2
    return
  fi
  awk -v t="$t" -v r="$round" -v d=$((after - before)) -v hz="$CLK_TCK" -v direct=$([[ $t == direct ]] && echo 1 || echo 0) '
    { cpu = direct ? "-" : sprintf("%.1f", d / hz * 1e6 / $2)
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t, r, $2, $4, $6, $8, $10, $12, $14, $16, cpu }' <<<"$out" >> "$rate_results"
  printf '  %-8s %-18s round %d: %s\n' "$t" "rate $RATE/s" "$round" "$out" >&2
}

# Live Java heap (KiB) of a JVM after a full GC: jcmd GC.run, then the "used" of GC.heap_info's
# heap lines (not Metaspace).
java_heap_kib() {
  "$jdk/bin/jcmd" "$1" GC.run >/dev/null 2>&1 || true
  "$jdk/bin/jcmd" "$1" GC.heap_info 2>/dev/null | awk '!/Metaspace|class space/ {
      while (match($0, /used [0-9]+K/)) { k += substr($0, RSTART + 5, RLENGTH - 6); $0 = substr($0, RSTART + RLENGTH) } }
    END { print k + 0 }'
}

# Idle keep-alive connections: IDLE_CONNECTIONS connections each make one request and stay open;
# the target's RSS (and Fulcrum's live heap after a full GC) before and after, per connection.
declare -A IDLE_RSS=() IDLE_HEAP=() IDLE_HELD=()
measure_idle() { # target
  local t=$1 pid rss0 rss1 heap0="" heap1="" client ready="" deadline
  if [[ -n ${FAILED[$t]:-} ]]; then return; fi
  pid=$(target_pid "$t")
  [[ $t == fulcrum* ]] && heap0=$(java_heap_kib "$pid")
  rss0=$(tree_rss_kib "$pid")
  : >"$work/idle-$t.out" # exists before the poll below reads it (the client opens it only once forked)
  "${HTTP_LOAD[@]}" idle 127.0.0.1 "${PORT[$t]}" /tiny.txt "$IDLE_CONNECTIONS" 120 >"$work/idle-$t.out" 2>"$work/logs/idle-$t.log" &
  client=$!; PID[idle-client]=$client
  deadline=$((SECONDS + 90))
  while ((SECONDS < deadline)) && kill -0 "$client" 2>/dev/null; do
    ready=$(awk '$1 == "ready" {print $2}' "$work/idle-$t.out")
    [[ -n $ready ]] && break
    sleep 0.2
  done
  if [[ -z $ready || $ready == 0 ]]; then
    echo "  $t idle connections: failed; $(tail -n 2 "$work/logs/idle-$t.log" 2>/dev/null)" >&2
  else
    sleep 1 # let the target settle (nginx and HAProxy free per-request buffers when a connection idles)
    [[ $t == fulcrum* ]] && heap1=$(java_heap_kib "$pid")
    rss1=$(tree_rss_kib "$pid")
    IDLE_HELD[$t]=$ready
    IDLE_RSS[$t]=$(awk -v a="$rss0" -v b="$rss1" -v n="$ready" 'BEGIN { printf "%.2f", (b - a) / n }')
    [[ -n $heap0 && -n $heap1 ]] && IDLE_HEAP[$t]=$(awk -v a="$heap0" -v b="$heap1" -v n="$ready" 'BEGIN { printf "%.2f", (b - a) / n }')
    printf '  %-8s %d idle connections: RSS %s -> %s KiB (%s KiB each)%s\n' "$t" "$ready" "$rss0" "$rss1" "${IDLE_RSS[$t]}" \
      "$([[ -n ${IDLE_HEAP[$t]:-} ]] && echo ", live heap $heap0 -> $heap1 KiB (${IDLE_HEAP[$t]} KiB each)")" >&2
  fi
  stop_pid "$client"; unset "PID[idle-client]"
}

java_version=$(JAVA_OPTS="" ./fulcrum --version 2>/dev/null || echo "fulcrum: not runnable")
header() {
  echo "Reproduce: \`bench/run.sh -d $DURATION -r $ROUNDS -c $CONNECTIONS -t $WRK_THREADS -w $WARMUP -T \"$TARGETS\" -W \"$WORKLOADS\" -R $RATE -n $IDLE_CONNECTIONS -s $STARTUP_RUNS\`"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr);" \
       "everything (backends, proxy, load generators) shares these CPUs, over loopback."
  echo "Load: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s, keep-alive (\"new conn\": with Connection: close, a new connection per request), after ${WARMUP}s of warm-up per row; $ROUNDS rounds, targets interleaved; medians shown."
  echo "Backends: one nginx (1 worker) serving 127.0.0.1:9201..9203; direct = the load straight at 127.0.0.1:9201, no proxy."
  echo "Proxies: $($HAPROXY -v | head -1 | awk '{print "HAProxy", $3}') (nbthread 2, roundrobin, http-reuse always);" \
       "$("$NGINX" -v 2>&1 | sed 's|nginx version: nginx/|nginx |') (2 workers, upstream keepalive 64);" \
       "$java_version (2 event loops via -XX:ActiveProcessorCount=2; JAVA_OPTS: $FULCRUM_JAVA_OPTS; start-up instances: $FULCRUM_STARTUP_JAVA_OPTS and the launcher's defaults)."
  echo "Proxy CPU: utime+stime of the proxy's process tree from /proc, per request (\"new conn\": per connection; and per MiB for the 1 MiB file)."
  echo
}

header >&2
WARM_ROWS=("${ROWS[@]}")
if ((${#WARM_ROWS[@]} == 0)) && { has rate || has idle; }; then WARM_ROWS=(/tiny.txt); fi
if ((${#WARM_ROWS[@]})); then
  echo "bench: warming up each target for $WARMUP s per row" >&2
  for t in $TARGETS; do
    [[ -n ${FAILED[$t]:-} ]] && continue
    for row in "${WARM_ROWS[@]}"; do
      # shellcheck disable=SC2046
      wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" $(row_args "$row") "http://127.0.0.1:${PORT[$t]}$(row_path "$row")" >/dev/null 2>&1 || true
    done
  done
fi
if has routes; then
  echo "bench: warming up each routes configuration for $WARMUP s" >&2
  for t in $TARGETS; do
    for c in ${ROUTE_CONFIGS[$t]:-}; do
      [[ -n ${FAILED[$t]:-} || -n ${ROUTE_FAILED[$t $c]:-} ]] && continue
      read -r port pid <<<"$(route_target "$t" "$c")"
      wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -H "Host: $ROUTE_HOST" "http://127.0.0.1:$port$ROUTE_PATH" >/dev/null 2>&1 || true
    done
  done
fi
if ((${#ROWS[@]})) || has rate || has routes; then
  for ((round = 1; round <= ROUNDS; round++)); do
    echo "bench: round $round of $ROUNDS" >&2
    for row in "${ROWS[@]}"; do
      for t in $TARGETS; do measure "$t" "$row" "$round"; done
    done
    # A target's configurations one after the other, so that its routing cost is read seconds
    # apart; in reverse order every other round, so that a drift within the round (a JIT still
    # compiling, the machine's load) does not always fall on the same side of the difference.
    if has routes; then for t in $TARGETS; do
      configs=(${ROUTE_CONFIGS[$t]:-})
      ((round % 2)) || configs=($(printf '%s\n' "${configs[@]}" | tac))
      for c in "${configs[@]}"; do [[ -n ${FAILED[$t]:-} ]] || measure_route "$t" "$c" "$round"; done
    done; fi
    if has rate; then for t in $TARGETS; do measure_rate "$t" "$round"; done; fi
  done
  for t in $TARGETS; do [[ -n ${FAILED[$t]:-} ]] || RSS_LOADED[$t]=$(tree_rss_kib "$(target_pid "$t")"); done
fi
if has idle; then
  echo "bench: $IDLE_CONNECTIONS idle keep-alive connections per target" >&2
  for t in $TARGETS; do measure_idle "$t"; done
fi

# --- the tables ------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { # target row column -> median over rounds that did not fail
  awk -F'\t' -v t="$1" -v p="$2" -v c="$3" '$1 == t && $2 == p && $4 != "failed" { print $c }' "$results" | median
}
rate_col() { # target column -> median over rounds
  awk -F'\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$rate_results" | median
}
route_col() { # target config column -> median over rounds
  awk -F'\t' -v t="$1" -v c="$2" -v k="$3" '$1 == t && $2 == c { print $k }' "$route_results" | median
}
# route_cost TARGET CONFIG: the median over rounds of (CPU/req of CONFIG - CPU/req of 1 route), each
# round's pair read seconds apart
route_cost() {
  awk -F'\t' -v t="$1" -v c="$2" '$1 == t && $2 == "1" { one[$3] = $9 } $1 == t && $2 == c { this[$3] = $9 }
    END { for (r in this) if (r in one) printf "%.2f\n", this[r] - one[r] }' "$route_results" | median
}
# How each proxy is configured for each routes row, as the table says it
declare -A ROUTE_HOW=(
  [haproxy 1]='`default_backend app`'
  [haproxy hosts]="$ROUTE_COUNT × \`acl hN hdr(host) -i hN.example.com\` + \`use_backend bN if hN\`"
  [haproxy hosts-map]="\`use_backend %[req.hdr(host),lower,map(hosts.map)]\`, $ROUTE_COUNT lines \`hN.example.com bN\`"
  [haproxy paths]="$ROUTE_COUNT × \`acl pN path_beg /pN/\` + \`use_backend bN if pN\`"
  [nginx 1]='one `server`, `location /`'
  [nginx hosts]="$ROUTE_COUNT × \`server { server_name hN.example.com; location / }\` + a default server (404)"
  [nginx paths]="one \`server\`, $ROUTE_COUNT × \`location /pN/\` + \`location /\` (404)"
  [fulcrum 1]='`pool: app` (no matching)'
  [fulcrum hosts]="$ROUTE_COUNT routes \`match: {host: hN.example.com}\`"
  [fulcrum paths]="$ROUTE_COUNT routes \`match: {path-prefix: /pN/}\`"
)
declare -A ROUTE_LABEL=([1]="1" [hosts]="$ROUTE_COUNT hosts" [hosts-map]="$ROUTE_COUNT hosts" [paths]="$ROUTE_COUNT path prefixes")
mib() { [[ -n ${1:-} ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo "-"; }

table=$work/table.md
{
  header
  if ((${#ROWS[@]})); then
    echo "| target | path | req/s | p50 ms | p99 ms | vs direct | errors | proxy CPU µs/req | proxy CPU ms/MiB |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for row in "${ROWS[@]}"; do
      direct_rps=$(col direct "$row" 4)
      for t in $TARGETS; do
        rps=$(col "$t" "$row" 4)
        if [[ -z $rps ]]; then
          echo "| $t | $row | failed | | | | | | |"
          continue
        fi
        ratio=$([[ -n $direct_rps ]] && awk -v a="$rps" -v b="$direct_rps" 'BEGIN { printf "%.2f", a / b }' || echo "")
        cpu=$(col "$t" "$row" 9); cpu_mib=""
        [[ $row == /1mib.bin ]] && cpu_mib=$(awk -v c="$cpu" 'BEGIN { printf "%.2f", c / 1000 }')
        if [[ $t == direct ]]; then cpu="-"; cpu_mib=$([[ -n $cpu_mib ]] && echo "-" || echo ""); fi
        errors=$(awk -F'\t' -v t="$t" -v p="$row" '$1 == t && $2 == p && $4 != "failed" { n += $8 } END { print n + 0 }' "$results")
        printf '| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s |\n' "$t" "$row" "$rps" "$(col "$t" "$row" 5)" \
          "$(col "$t" "$row" 6)" "$ratio" "$errors" "$cpu" "$cpu_mib"
      done
    done
    echo
  fi
  if has routes; then
    echo "Routes: GET $ROUTE_PATH with Host: $ROUTE_HOST (the last of $ROUTE_COUNT host routes and of $ROUTE_COUNT path-prefix routes), keep-alive, wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s of warm-up per configuration;" \
         "1 route = the target of the rows above (one pool for everything); the $ROUTE_COUNT-route configurations run in one more instance per proxy, $ROUTE_COUNT pools (b1..b$ROUTE_COUNT) of the same 3 backends." \
         "Routing cost = median over rounds of (CPU µs/req of the configuration − CPU µs/req of 1 route in the same round)."
    echo
    echo "| target | routes | configured as | req/s | p50 ms | p99 ms | errors | proxy CPU µs/req | routing cost µs/req |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for t in $TARGETS; do
      for c in ${ROUTE_CONFIGS[$t]:-}; do
        rps=$(route_col "$t" "$c" 4)
        if [[ -z $rps ]]; then echo "| $t | ${ROUTE_LABEL[$c]} | ${ROUTE_HOW[$t $c]} | failed | | | | | |"; continue; fi
        errors=$(awk -F'\t' -v t="$t" -v c="$c" '$1 == t && $2 == c { n += $8 } END { print n + 0 }' "$route_results")
        cost=$([[ $c == 1 ]] && echo "—" || route_cost "$t" "$c" | xargs -r printf '%.1f')
        printf '| %s | %s | %s | %.0f | %.2f | %.2f | %s | %.1f | %s |\n' "$t" "${ROUTE_LABEL[$c]}" "${ROUTE_HOW[$t $c]}" "$rps" \
          "$(route_col "$t" "$c" 5)" "$(route_col "$t" "$c" 6)" "$errors" "$(route_col "$t" "$c" 9)" "${cost:--}"
      done
    done
    echo
  fi
  if has rate; then
    echo "Fixed rate: $RATE req/s of /tiny.txt paced over $CONNECTIONS keep-alive connections (bench/HttpLoad.java), ${DURATION}s measured after 2 s; latency from each request's scheduled send time (no coordinated omission); medians over rounds."
    echo
    echo "| target | req/s done | p50 ms | p99 ms | p99.9 ms | p99.99 ms | max ms | errors | proxy CPU µs/req |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for t in $TARGETS; do
      if [[ -z $(rate_col "$t" 3) ]]; then echo "| $t | failed | | | | | | | |"; continue; fi
      errors=$(awk -F'\t' -v t="$t" '$1 == t { n += $4 } END { print n + 0 }' "$rate_results")
      cpu=$([[ $t == direct ]] && echo "-" || rate_col "$t" 11)
      printf '| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |\n' "$t" "$(rate_col "$t" 5)" "$(rate_col "$t" 6)" \
        "$(rate_col "$t" 7)" "$(rate_col "$t" 8)" "$(rate_col "$t" 9)" "$(rate_col "$t" 10)" "$errors" "$cpu"
    done
    echo
  fi
  echo "Memory: RSS = the sum of VmRSS over the target's process tree (direct: the backends' nginx); idle = just after start, after load = after the rows above;" \
       "per idle connection = growth with $IDLE_CONNECTIONS idle keep-alive connections open, each after one request; Java heap = Fulcrum's live heap after a full GC (jcmd GC.run, GC.heap_info)." \
       "Start-up = exec to the first proxied 200 of a fresh instance (curl every 10 ms), median of $STARTUP_RUNS;" \
       "start-up CPU = utime + stime of its process tree by then (all of the JVM's threads), median."
  echo
  echo "| target | start-up ms | start-up CPU ms | RSS idle MiB | RSS after load MiB | idle connections held | RSS KiB per idle connection | Java heap KiB per idle connection |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for t in $TARGETS; do
    if [[ -n ${FAILED[$t]:-} ]]; then echo "| $t | failed | | | | | | |"; continue; fi
    startup=$([[ -n ${STARTUP_MS[$t]:-} ]] && tr ' ' '\n' <<<"${STARTUP_MS[$t]}" | grep . | median | xargs printf '%.0f' || echo "-")
    startup_cpu=$([[ -n ${STARTUP_CPU_MS[$t]:-} ]] && tr ' ' '\n' <<<"${STARTUP_CPU_MS[$t]}" | grep . | median | xargs printf '%.0f' || echo "-")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$startup" "$startup_cpu" "$(mib "${RSS_IDLE[$t]:-}")" "$(mib "${RSS_LOADED[$t]:-}")" \
      "${IDLE_HELD[$t]:--}" "${IDLE_RSS[$t]:--}" "${IDLE_HEAP[$t]:--}"
  done
} > "$table"

mkdir -p bench/results
cp "$table" bench/results/latest.md
echo
cat "$table"
echo
echo "(saved to bench/results/latest.md)"
