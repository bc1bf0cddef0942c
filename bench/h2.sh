#!/usr/bin/env bash
# HTTP/2 termination: Fulcrum, HAProxy and nginx take HTTP/2 from h2load (`-c64 -m100`: 64
# connections of 100 concurrent streams each) and forward it as HTTP/1.1 to the same backends, on
# this machine, over loopback only. See bench/README.md.
#
#   bench/h2.sh [-d SECONDS] [-r ROUNDS] [-w WARMUP_SECONDS] [-c CONNECTIONS] [-m STREAMS] [-T "TARGETS"] [-M "MODES"]
#
# Targets (-T): haproxy nginx fulcrum, and direct (h2c straight to the backend nginx: the ceiling,
# no proxy). Modes (-M): tls (h2 over TLS, ALPN, the same ECDSA certificate for all) and h2c (prior
# knowledge). For each round, mode and target the load runs once, targets interleaved; the table
# shows the median over rounds, the proxy's CPU per request read from /proc (its whole process
# tree) and the ratio to HAProxy's.
set -euo pipefail

DURATION=10
ROUNDS=3
WARMUP=8
CONNECTIONS=64
STREAMS=100
TARGETS="direct haproxy nginx fulcrum"
MODES="tls h2c"
PACKAGES=(nghttp2-client haproxy nginx openssl)
FULCRUM_JAVA_OPTS=${FULCRUM_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:ActiveProcessorCount=2 -XX:+AlwaysPreTouch}
# bench/tls.sh's suites: TLS 1.2's ECDHE AEAD ones (Fulcrum's fixed list), TLS 1.3's defaults (what h2load uses)
CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  echo "defaults: -d $DURATION -r $ROUNDS -w $WARMUP -c $CONNECTIONS -m $STREAMS -T \"$TARGETS\" -M \"$MODES\""
}
while getopts "d:r:w:c:m:T:M:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    m) STREAMS=$OPTARG ;;
    T) TARGETS=$OPTARG ;;
    M) MODES=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$ROUNDS" "$WARMUP" "$CONNECTIONS" "$STREAMS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: -d, -r, -w, -c and -m take positive whole numbers" >&2; exit 2; }
done
# -m 100 at most: every target announces SETTINGS_MAX_CONCURRENT_STREAMS 100 (nginx 128); more would be refused streams
((DURATION <= 60 && ROUNDS <= 10 && WARMUP <= 60 && CONNECTIONS <= 1000 && STREAMS <= 100)) ||
  { echo "bench: at most -d 60, -r 10, -w 60, -c 1000 and -m 100, to keep the run bounded" >&2; exit 2; }
for t in $TARGETS; do
  [[ " direct haproxy nginx fulcrum " == *" $t "* ]] || { echo "bench: unknown target $t (known: direct haproxy nginx fulcrum)" >&2; exit 2; }
done
for m in $MODES; do
  [[ $m == tls || $m == h2c ]] || { echo "bench: unknown mode $m (known: tls h2c)" >&2; exit 2; }
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
source bench/lib.sh

# Ports (none shared with bench/run.sh or bench/tls.sh): backends 9401..9403 (HTTP/1.1) and 9404
# (the same nginx, h2c: the direct row); TLS haproxy 9411, nginx 9412, fulcrum 9413 (+ admin 9414);
# h2c haproxy 9421, nginx 9422, fulcrum 9423.
declare -A PORT=([haproxy tls]=9411 [nginx tls]=9412 [fulcrum tls]=9413
                 [haproxy h2c]=9421 [nginx h2c]=9422 [fulcrum h2c]=9423 [direct h2c]=9404)
BACKENDS=(127.0.0.1:9401 127.0.0.1:9402 127.0.0.1:9403)

install_missing "${PACKAGES[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
CLK_TCK=$(getconf CLK_TCK)

# --- processes we start, and their cleanup ---------------------------------------------------
bench_processes fulcrum-bench-h2
require_free_ports 9401 9402 9403 9404 9411 9412 9413 9414 9421 9422 9423

# url TARGET MODE: what h2load and curl ask for
url() {
  local scheme=http
  [[ $2 == tls ]] && scheme=https
  echo "$scheme://127.0.0.1:${PORT[$1 $2]}/tiny.txt"
}
# h2_answer TARGET MODE: "STATUS HTTP_VERSION" of GET /tiny.txt over HTTP/2 (ALPN h2 or prior knowledge), "000 0" for none
h2_answer() {
  local how=--http2-prior-knowledge
  [[ $2 == tls ]] && how="--http2 -k"
  curl -s $how -o /dev/null -w '%{http_code} %{http_version}' --max-time 2 "$(url "$1" "$2")" || true
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$1/tiny.txt" || true; }

# await_backend PORT PID: until GET /tiny.txt over HTTP/1.1 on PORT says 200, while the process lives, for at most 30 s
await_backend() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    kill -0 "$2" 2>/dev/null || return 1
    [[ $(http_code "$1") == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# await_h2 TARGET MODE PID: until the target answers 200 over HTTP/2, while the process lives, for at most 30 s
await_h2() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    kill -0 "$3" 2>/dev/null || return 1
    [[ $(h2_answer "$1" "$2") == "200 2" ]] && return 0
    sleep 0.1
  done
  return 1
}

# --- the certificate: ECDSA P-256, PKCS#8 key, the same files for every target ----------------
mkdir -p "$work/tls" "$work/www" "$work/backends" "$work/logs"
openssl req -x509 -nodes -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test -set_serial 0x5ec1 \
  -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$work/tls/ecdsa.key" -out "$work/tls/ecdsa.pem" 2>/dev/null
cat "$work/tls/ecdsa.pem" "$work/tls/ecdsa.key" > "$work/tls/ecdsa.haproxy.pem" # HAProxy: one file

# --- backends: one nginx (1 worker), /tiny.txt over HTTP/1.1 on 3 ports, and over h2c on one more --
printf 'hello from a backend\n' > "$work/www/tiny.txt"
{
  nginx_common "$work/backends"
  echo "worker_processes 1;"
  echo "http {"
  nginx_http_common "$work/backends"
  for s in "${BACKENDS[@]}"; do echo "  server { listen $s; root $work/www; }"; done
  echo "  server { listen 127.0.0.1:${PORT[direct h2c]} http2; root $work/www; }"
  echo "}"
} > "$work/backends/nginx.conf"
"$NGINX" -p "$work/backends" -c "$work/backends/nginx.conf" >"$work/logs/backends.log" 2>&1 &
PID[backends]=$!
PID[direct]=${PID[backends]} # the direct row's CPU is the backend's
for s in "${BACKENDS[@]}"; do
  await_backend "${s##*:}" "${PID[backends]}" ||
    { echo "bench: backend nginx did not start:" >&2; cat "$work/logs/backends.log" "$work/backends/error.log" >&2 2>/dev/null; exit 1; }
done

# --- the proxies: as bench/tls.sh's, listening for HTTP/2 over TLS (ALPN h2) and h2c -------------
start_haproxy() {
  haproxy_config "127.0.0.1:${PORT[haproxy tls]} ssl crt $work/tls/ecdsa.haproxy.pem alpn h2,http/1.1" "${BACKENDS[@]}" |
    sed "/^global/a\\  ssl-default-bind-options ssl-min-ver TLSv1.2\\n  ssl-default-bind-ciphers $CIPHERS" |
    sed "/^  bind /a\\  bind 127.0.0.1:${PORT[haproxy h2c]} proto h2" > "$work/haproxy.cfg"
  "$HAPROXY" -db -f "$work/haproxy.cfg" >"$work/logs/haproxy.log" 2>&1 &
  PID[haproxy]=$!
}

start_nginx() {
  local d=$work/nginx s
  mkdir -p "$d"
  {
    nginx_common "$d"
    echo "worker_processes 2;"
    echo "http {"
    nginx_http_common "$d"
    echo -n "  upstream app {"
    for s in "${BACKENDS[@]}"; do echo -n " server $s;"; done
    echo " keepalive 64; }"
    echo "  ssl_protocols TLSv1.2 TLSv1.3;"
    echo "  ssl_ciphers $CIPHERS;"
    echo "  server {"
    echo "    listen 127.0.0.1:${PORT[nginx tls]} ssl http2;"
    echo "    listen 127.0.0.1:${PORT[nginx h2c]} http2;"
    echo "    ssl_certificate $work/tls/ecdsa.pem;"
    echo "    ssl_certificate_key $work/tls/ecdsa.key;"
    echo "    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_max_temp_file_size 0; }"
    echo "  }"
    echo "}"
  } > "$d/nginx.conf"
  "$NGINX" -p "$d" -c "$d/nginx.conf" >"$work/logs/nginx.log" 2>&1 &
  PID[nginx]=$!
}

start_fulcrum() {
  local s
  {
    echo "name: bench-h2"
    echo "admin: {listen: 127.0.0.1:9414}"
    echo "listeners:"
    echo "  - name: tls"
    echo "    listen: 127.0.0.1:${PORT[fulcrum tls]}"
    echo "    pool: app"
    echo "    tls: {cert: $work/tls/ecdsa.pem, key: $work/tls/ecdsa.key}"
    echo "    http2: true"
    echo "  - name: h2c"
    echo "    listen: 127.0.0.1:${PORT[fulcrum h2c]}"
    echo "    pool: app"
    echo "    http2: true"
    echo "pools:"
    echo "  - name: app"
    echo "    servers:"
    for s in "${BACKENDS[@]}"; do echo "      - address: $s"; done
    echo "    health-check: {type: none}"
  } > "$work/fulcrum.yaml"
  JAVA_OPTS=$FULCRUM_JAVA_OPTS ./fulcrum run -c "$work/fulcrum.yaml" >"$work/logs/fulcrum.log" 2>&1 &
  PID[fulcrum]=$!
}
start_direct() { :; } # the backend nginx, started above

# the rows: "TARGET MODE" for each asked target and mode it has (direct: h2c only)
ROWS=()
for m in $MODES; do
  for t in $TARGETS; do [[ -n ${PORT[$t $m]:-} ]] && ROWS+=("$t $m"); done
done

declare -A FAILED=()
if [[ " $TARGETS " == *" fulcrum "* ]]; then
  # Build (or find) the jar and the launcher's start-up cache first, as bench/run.sh does, so that
  # neither the build nor the cache's training run counts against the 30 s start bound.
  JAVA_OPTS=$FULCRUM_JAVA_OPTS FULCRUM_AOT=build ./fulcrum version >/dev/null ||
    { echo "bench: ./fulcrum cannot run; the fulcrum rows will say failed" >&2; FAILED[fulcrum]=1; }
fi
for t in $TARGETS; do
  [[ -n ${FAILED[$t]:-} ]] && continue
  "start_$t"
  for m in $MODES; do
    [[ -n ${PORT[$t $m]:-} ]] || continue
    if ! await_h2 "$t" "$m" "${PID[$t]}"; then
      echo "bench: $t did not answer over HTTP/2 ($m) on 127.0.0.1:${PORT[$t $m]} (answer: $(h2_answer "$t" "$m")); its rows will say failed. Its log:" >&2
      tail -n 5 "$work/logs/$t.log" >&2 2>/dev/null || true
      FAILED[$t]=1
      break
    fi
  done
  [[ -z ${FAILED[$t]:-} ]] && printf '  %-8s ready: answers over HTTP/2 (%s)\n' "$t" "$MODES" >&2
done

# --- measuring -------------------------------------------------------------------------------
results=$work/results.tsv # target mode round rate cpu_us errors
: > "$results"

# load TARGET MODE ROUND: h2load -cCONNECTIONS -mSTREAMS for DURATION s; errors are h2load's
# failed, errored and timed-out requests and the non-2xx answers
load() {
  local t=$1 m=$2 round=$3 out before after count rps errors cpu
  before=$(tree_ticks "${PID[$t]}")
  out=$(timeout $((DURATION + 30)) h2load -t1 -c"$CONNECTIONS" -m"$STREAMS" -D "$DURATION" "$(url "$t" "$m")" 2>&1) || true
  after=$(tree_ticks "${PID[$t]}")
  rps=$(awk '/^finished in/ { gsub(/,/, ""); print $4; exit }' <<<"$out")
  count=$(awk '/^requests:/ { print $6; exit }' <<<"$out")
  errors=$(awk '/^requests:/ { n += $10 + $12 + $14 } /^status codes:/ { n += $5 + $7 + $9 } END { print n + 0 }' <<<"$out")
  if [[ -z $count || $count == 0 ]]; then printf '  %-8s %-4s round %d: failed (%s)\n' "$t" "$m" "$round" "$(tail -n 1 <<<"$out")" >&2; return; fi
  cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$count" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$m" "$round" "$rps" "$cpu" "$errors" >> "$results"
  printf '  %-8s %-4s round %d: %10s req/s  cpu %s us/req  errors %s\n' "$t" "$m" "$round" "$rps" "$cpu" "$errors" >&2
}

echo "bench: warming up each target for $WARMUP s per mode" >&2
for row in "${ROWS[@]}"; do
  read -r t m <<<"$row"
  [[ -n ${FAILED[$t]:-} ]] && continue
  timeout $((WARMUP + 30)) h2load -t1 -c"$CONNECTIONS" -m"$STREAMS" -D "$WARMUP" "$(url "$t" "$m")" >/dev/null 2>&1 || true
done
for ((round = 1; round <= ROUNDS; round++)); do
  echo "bench: round $round of $ROUNDS" >&2
  for row in "${ROWS[@]}"; do
    read -r t m <<<"$row"
    [[ -n ${FAILED[$t]:-} ]] || load "$t" "$m" "$round"
  done
done

# --- the table -------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v t="$1" -v m="$2" -v c="$3" '$1 == t && $2 == m { print $c }' "$results" | median; }
# ratio TARGET MODE COLUMN: the median over rounds of the target's figure over HAProxy's in the same round and mode
ratio() {
  awk -F'\t' -v t="$1" -v m="$2" -v c="$3" '$2 == m && $1 == "haproxy" { h[$3] = $c } $2 == m && $1 == t { x[$3] = $c }
    END { for (i in x) if (i in h && h[i] > 0) printf "%.2f\n", x[i] / h[i] }' "$results" | median
}
# (|| true: head closing the pipe early must not end the script under pipefail)
haproxy_version=$($HAPROXY -v | awk 'NR == 1 {print $3}') || true
nginx_version=$("$NGINX" -v 2>&1 | sed 's|nginx version: nginx/||') || true
fulcrum_version=$(JAVA_OPTS="" ./fulcrum --version 2>/dev/null | awk 'NR == 1') || true
h2load_version=$(h2load --version 2>/dev/null | awk 'NR == 1 { print $2 }') || true
table=$work/table.md
{
  echo "Reproduce: \`bench/h2.sh -d $DURATION -r $ROUNDS -w $WARMUP -c $CONNECTIONS -m $STREAMS -T \"$TARGETS\" -M \"$MODES\"\`"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr);" \
       "backends, proxies and the load generator share these CPUs, over loopback. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Proxies: HAProxy $haproxy_version (nbthread 2), nginx $nginx_version (2 workers), $fulcrum_version (JAVA_OPTS: $FULCRUM_JAVA_OPTS);" \
       "HTTP/2 from the client (tls: ALPN h2, one self-signed ECDSA P-256 certificate for all; h2c: prior knowledge), HTTP/1.1 keep-alive to 3 nginx backends (1 worker)."
  echo "Load: h2load $h2load_version \`-t1 -c$CONNECTIONS -m$STREAMS -D $DURATION\`, GET /tiny.txt (22 bytes); direct = h2c straight to the backend nginx (no proxy)."
  echo "CPU: utime+stime of the proxy's process tree from /proc (direct: the backend's), per request; × HAProxy = median over rounds of the target's figure over HAProxy's in the same round and mode. $ROUNDS rounds after ${WARMUP}s of warm-up per row; medians."
  echo
  echo "| mode | target | req/s | errors | CPU µs/req | CPU × HAProxy |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  for row in "${ROWS[@]}"; do
    read -r t m <<<"$row"
    if [[ -n ${FAILED[$t]:-} ]]; then echo "| $m | $t | failed | | | |"; continue; fi
    errors=$(awk -F'\t' -v t="$t" -v m="$m" '$1 == t && $2 == m { n += $6 } END { print n + 0 }' "$results")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$m" "$t" "$(col "$t" "$m" 4 | xargs -r printf '%.0f')" "$errors" \
      "$(col "$t" "$m" 5)" "$([[ $t == direct ]] || ratio "$t" "$m" 5)"
  done
} > "$table"

mkdir -p bench/results
cp "$table" bench/results/h2-latest.md
echo
cat "$table"
echo
echo "(saved to bench/results/h2-latest.md)"
