#!/usr/bin/env bash
# Compares Fulcrum with HAProxy and nginx as TLS terminators, each serving the same certificate
# (one ECDSA P-256, one RSA 2048) in front of the same backends, on this machine, over loopback
# only. See bench/README.md.
#
#   bench/tls.sh [-d SECONDS] [-r ROUNDS] [-c CONNECTIONS] [-w WARMUP_SECONDS] [-p HANDSHAKE_CLIENTS]
#                [-T "TARGETS"] [-K "KEYS"]
#
# Rows, for each key type (-K: ecdsa rsa) and target (-T: haproxy nginx fulcrum): TLS keep-alive
# (wrk over https, GET /tiny.txt), and full handshakes (HANDSHAKE_CLIENTS `openssl s_time -new`
# in parallel: every connection a new TLS 1.3 session, handshake only). For each round, row and
# target the load runs once, targets interleaved; the tables show the median over rounds, the
# proxy's CPU per request and per handshake read from /proc (its whole process tree), and the
# ratio to HAProxy's.
set -euo pipefail

DURATION=10
ROUNDS=3
WARMUP=8
CONNECTIONS=50
HANDSHAKE_CLIENTS=2
TARGETS="haproxy nginx fulcrum"
KEYS="ecdsa rsa"
PACKAGES=(wrk haproxy nginx openssl)
FULCRUM_JAVA_OPTS=${FULCRUM_JAVA_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC -XX:ActiveProcessorCount=2 -XX:+AlwaysPreTouch}
# The same suites for every target: TLS 1.2's ECDHE AEAD ones (Fulcrum's fixed list), TLS 1.3's defaults.
CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  echo "defaults: -d $DURATION -r $ROUNDS -c $CONNECTIONS -w $WARMUP -p $HANDSHAKE_CLIENTS -T \"$TARGETS\" -K \"$KEYS\""
}
while getopts "d:r:c:w:p:T:K:h" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    c) CONNECTIONS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    p) HANDSHAKE_CLIENTS=$OPTARG ;;
    T) TARGETS=$OPTARG ;;
    K) KEYS=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$ROUNDS" "$CONNECTIONS" "$WARMUP" "$HANDSHAKE_CLIENTS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: -d, -r, -c, -w and -p take positive whole numbers" >&2; exit 2; }
done
((DURATION <= 60 && ROUNDS <= 10 && WARMUP <= 60 && CONNECTIONS <= 1000 && HANDSHAKE_CLIENTS <= 8)) ||
  { echo "bench: at most -d 60, -r 10, -w 60, -c 1000 and -p 8, to keep the run bounded" >&2; exit 2; }
for t in $TARGETS; do
  [[ " haproxy nginx fulcrum " == *" $t "* ]] || { echo "bench: unknown target $t (known: haproxy nginx fulcrum)" >&2; exit 2; }
done
for k in $KEYS; do
  [[ $k == ecdsa || $k == rsa ]] || { echo "bench: unknown key type $k (known: ecdsa rsa)" >&2; exit 2; }
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
source bench/lib.sh

# Ports (none shared with bench/run.sh, so both can be read side by side): backends 9301..9303;
# each target listens twice, ECDSA and RSA: haproxy 9311/9321, nginx 9312/9322, fulcrum 9313/9323
# (+ admin 9314).
declare -A PORT=([haproxy ecdsa]=9311 [haproxy rsa]=9321 [nginx ecdsa]=9312 [nginx rsa]=9322
                 [fulcrum ecdsa]=9313 [fulcrum rsa]=9323)
BACKENDS=(127.0.0.1:9301 127.0.0.1:9302 127.0.0.1:9303)

install_missing "${PACKAGES[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
CLK_TCK=$(getconf CLK_TCK)

# --- processes we start, and their cleanup ---------------------------------------------------
bench_processes fulcrum-bench-tls
require_free_ports 9301 9302 9303 9311 9312 9313 9314 9321 9322 9323

# https_code PORT: the status of GET /tiny.txt over TLS on 127.0.0.1:PORT (not verified: self-signed), 000 for none
https_code() { curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "https://127.0.0.1:$1/tiny.txt" || true; }
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$1/tiny.txt" || true; }

# await_code CODE_FN PORT PID: until CODE_FN PORT says 200, while the process lives, for at most 30 s
await_code() {
  local fn=$1 port=$2 pid=$3 deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $("$fn" "$port") == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# --- the certificates: one of each key type, PKCS#8 keys (what all three read) ----------------
mkdir -p "$work/tls" "$work/www" "$work/backends" "$work/logs"
openssl req -x509 -nodes -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test -set_serial 0x5ec1 \
  -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$work/tls/ecdsa.key" -out "$work/tls/ecdsa.pem" 2>/dev/null
openssl req -x509 -nodes -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test -set_serial 0x5ec2 \
  -newkey rsa:2048 -keyout "$work/tls/rsa.key" -out "$work/tls/rsa.pem" 2>/dev/null
for k in ecdsa rsa; do cat "$work/tls/$k.pem" "$work/tls/$k.key" > "$work/tls/$k.haproxy.pem"; done # HAProxy: one file

# --- backends: one nginx, 3 servers of /tiny.txt (plain HTTP: only the client side is TLS) ------
printf 'hello from a backend\n' > "$work/www/tiny.txt"
{
  nginx_common "$work/backends"
  echo "worker_processes 1;"
  echo "http {"
  nginx_http_common "$work/backends"
  for s in "${BACKENDS[@]}"; do echo "  server { listen $s; root $work/www; }"; done
  echo "}"
} > "$work/backends/nginx.conf"
"$NGINX" -p "$work/backends" -c "$work/backends/nginx.conf" >"$work/logs/backends.log" 2>&1 &
PID[backends]=$!
for s in "${BACKENDS[@]}"; do
  await_code http_code "${s##*:}" "${PID[backends]}" ||
    { echo "bench: backend nginx did not start:" >&2; cat "$work/logs/backends.log" "$work/backends/error.log" >&2 2>/dev/null; exit 1; }
done

# --- the TLS terminators: as bench/run.sh's proxies, plus TLS 1.2-1.3 and CIPHERS on both ports --
start_haproxy() {
  haproxy_config "127.0.0.1:${PORT[haproxy ecdsa]} ssl crt $work/tls/ecdsa.haproxy.pem" "${BACKENDS[@]}" |
    sed "/^global/a\\  ssl-default-bind-options ssl-min-ver TLSv1.2\\n  ssl-default-bind-ciphers $CIPHERS" |
    sed "/^  bind /a\\  bind 127.0.0.1:${PORT[haproxy rsa]} ssl crt $work/tls/rsa.haproxy.pem" > "$work/haproxy.cfg"
  "$HAPROXY" -db -f "$work/haproxy.cfg" >"$work/logs/haproxy.log" 2>&1 &
  PID[haproxy]=$!
}

# nginx_proxy_config's workers, upstream and location, one server per port (the certificate is per server)
start_nginx() {
  local d=$work/nginx k s
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
    echo "  ssl_session_cache shared:SSL:10m;"
    for k in ecdsa rsa; do
      echo "  server {"
      echo "    listen 127.0.0.1:${PORT[nginx $k]} ssl;"
      echo "    ssl_certificate $work/tls/$k.pem;"
      echo "    ssl_certificate_key $work/tls/$k.key;"
      echo "    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_max_temp_file_size 0; }"
      echo "  }"
    done
    echo "}"
  } > "$d/nginx.conf"
  "$NGINX" -p "$d" -c "$d/nginx.conf" >"$work/logs/nginx.log" 2>&1 &
  PID[nginx]=$!
}

start_fulcrum() {
  local k s
  {
    echo "name: bench-tls"
    echo "admin: {listen: 127.0.0.1:9314}"
    echo "listeners:"
    for k in ecdsa rsa; do
      echo "  - name: $k"
      echo "    listen: 127.0.0.1:${PORT[fulcrum $k]}"
      echo "    pool: app"
      echo "    tls: {cert: $work/tls/$k.pem, key: $work/tls/$k.key}"
    done
    echo "pools:"
    echo "  - name: app"
    echo "    servers:"
    for s in "${BACKENDS[@]}"; do echo "      - address: $s"; done
    echo "    health-check: {type: none}"
  } > "$work/fulcrum.yaml"
  JAVA_OPTS=$FULCRUM_JAVA_OPTS ./fulcrum run -c "$work/fulcrum.yaml" >"$work/logs/fulcrum.log" 2>&1 &
  PID[fulcrum]=$!
}

# served_serial PORT: the serial of the certificate a handshake on PORT gets
served_serial() {
  openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}

declare -A FAILED=()
for t in $TARGETS; do
  "start_$t"
  for k in $KEYS; do
    if ! await_code https_code "${PORT[$t $k]}" "${PID[$t]}"; then
      echo "bench: $t did not answer over TLS on 127.0.0.1:${PORT[$t $k]}; its rows will say failed. Its log:" >&2
      tail -n 5 "$work/logs/$t.log" >&2 || true
      FAILED[$t]=1
      break
    fi
    want=$([[ $k == ecdsa ]] && echo 5EC1 || echo 5EC2)
    got=$(served_serial "${PORT[$t $k]}")
    if [[ $got != "$want" ]]; then
      echo "bench: $t serves serial $got on ${PORT[$t $k]}, not the $k certificate ($want); its rows will say failed" >&2
      FAILED[$t]=1
    fi
  done
  [[ -z ${FAILED[$t]:-} ]] && printf '  %-8s ready: ECDSA and RSA certificates served (serials 5EC1, 5EC2)\n' "$t" >&2
done

# --- measuring -------------------------------------------------------------------------------
results=$work/results.tsv # target key row round rate cpu_us errors
: > "$results"

# keepalive TARGET KEY ROUND: wrk over https, CONNECTIONS keep-alive connections, DURATION s
keepalive() {
  local t=$1 k=$2 round=$3 out before after requests rps errors cpu
  before=$(tree_ticks "${PID[$t]}")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s "https://127.0.0.1:${PORT[$t $k]}/tiny.txt" 2>&1) || true
  after=$(tree_ticks "${PID[$t]}")
  requests=$(awk '/requests in/ {print $1; exit}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2; exit}' <<<"$out")
  errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); n += $1 + $2 + $3 + $4} END {print n + 0}' <<<"$out")
  if [[ -z $requests || $requests == 0 ]]; then printf '  %-8s %-5s keep-alive round %d: failed\n' "$t" "$k" "$round" >&2; return; fi
  cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  printf '%s\t%s\tkeepalive\t%s\t%s\t%s\t%s\n' "$t" "$k" "$round" "$rps" "$cpu" "$errors" >> "$results"
  printf '  %-8s %-5s keep-alive round %d: %10s req/s  cpu %s us/req  errors %s\n' "$t" "$k" "$round" "$rps" "$cpu" "$errors" >&2
}

# handshakes TARGET KEY ROUND: HANDSHAKE_CLIENTS `openssl s_time -new` for DURATION s in parallel;
# each prints "N connections in T real seconds"; a connection that fails stops that client early,
# which the count shows.
handshakes() {
  local t=$1 k=$2 round=$3 before after total i cpu rate
  before=$(tree_ticks "${PID[$t]}")
  for ((i = 0; i < HANDSHAKE_CLIENTS; i++)); do
    timeout $((DURATION + 20)) openssl s_time -connect "127.0.0.1:${PORT[$t $k]}" -new -time "$DURATION" \
      >"$work/s_time.$i" 2>&1 &
    PID[s_time-$i]=$!
  done
  for ((i = 0; i < HANDSHAKE_CLIENTS; i++)); do wait "${PID[s_time-$i]}" || true; unset "PID[s_time-$i]"; done
  after=$(tree_ticks "${PID[$t]}")
  total=$(cat "$work"/s_time.* | awk '/connections in .* real seconds/ { n += $1 } END { print n + 0 }')
  if ((total == 0)); then printf '  %-8s %-5s handshakes round %d: failed (%s)\n' "$t" "$k" "$round" "$(tail -n 1 "$work/s_time.0")" >&2; return; fi
  rate=$(awk -v n="$total" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }')
  cpu=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$total" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  printf '%s\t%s\thandshakes\t%s\t%s\t%s\t0\n' "$t" "$k" "$round" "$rate" "$cpu" >> "$results"
  printf '  %-8s %-5s handshakes round %d: %10s /s  cpu %s us/handshake\n' "$t" "$k" "$round" "$rate" "$cpu" >&2
}

echo "bench: warming up each target for $WARMUP s per key and row" >&2
for t in $TARGETS; do
  [[ -n ${FAILED[$t]:-} ]] && continue
  for k in $KEYS; do
    wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "https://127.0.0.1:${PORT[$t $k]}/tiny.txt" >/dev/null 2>&1 || true
    timeout $((WARMUP + 20)) openssl s_time -connect "127.0.0.1:${PORT[$t $k]}" -new -time "$WARMUP" >/dev/null 2>&1 || true
  done
done
for ((round = 1; round <= ROUNDS; round++)); do
  echo "bench: round $round of $ROUNDS" >&2
  for k in $KEYS; do
    for t in $TARGETS; do [[ -n ${FAILED[$t]:-} ]] || keepalive "$t" "$k" "$round"; done
    for t in $TARGETS; do [[ -n ${FAILED[$t]:-} ]] || handshakes "$t" "$k" "$round"; done
  done
done

# --- the table -------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v t="$1" -v k="$2" -v r="$3" -v c="$4" '$1 == t && $2 == k && $3 == r { print $c }' "$results" | median; }
# ratio TARGET KEY ROW COLUMN: the median over rounds of the target's figure over HAProxy's in the same round
ratio() {
  awk -F'\t' -v t="$1" -v k="$2" -v r="$3" -v c="$4" '$2 == k && $3 == r && $1 == "haproxy" { h[$4] = $c } $2 == k && $3 == r && $1 == t { x[$4] = $c }
    END { for (i in x) if (i in h && h[i] > 0) printf "%.2f\n", x[i] / h[i] }' "$results" | median
}
# (|| true: head closing the pipe early must not end the script under pipefail)
haproxy_version=$($HAPROXY -v | awk 'NR == 1 {print $3}') || true
nginx_version=$("$NGINX" -v 2>&1 | sed 's|nginx version: nginx/||') || true
fulcrum_version=$(JAVA_OPTS="" ./fulcrum --version 2>/dev/null | awk 'NR == 1') || true
table=$work/table.md
{
  echo "Reproduce: \`bench/tls.sh -d $DURATION -r $ROUNDS -c $CONNECTIONS -w $WARMUP -p $HANDSHAKE_CLIENTS -T \"$TARGETS\" -K \"$KEYS\"\`"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr);" \
       "backends, proxies and load generators share these CPUs, over loopback. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Proxies: HAProxy $haproxy_version (nbthread 2), nginx $nginx_version (2 workers), $fulcrum_version (JAVA_OPTS: $FULCRUM_JAVA_OPTS);" \
       "each serves the same self-signed certificate per key type (ECDSA P-256, RSA 2048), TLS 1.2-1.3, TLS 1.2 suites $CIPHERS."
  echo "Keep-alive: wrk -t1 -c$CONNECTIONS -d${DURATION}s over https, GET /tiny.txt. Handshakes: $HANDSHAKE_CLIENTS \`openssl s_time -new -time $DURATION\` in parallel (a full TLS 1.3 handshake per connection, no request)."
  echo "CPU: utime+stime of the proxy's process tree from /proc, per request or per handshake; × HAProxy = median over rounds of the target's figure over HAProxy's in the same round. $ROUNDS rounds after ${WARMUP}s of warm-up per row; medians."
  echo
  echo "| key | target | keep-alive req/s | errors | CPU µs/req | CPU × HAProxy | handshakes/s | CPU µs/handshake | CPU × HAProxy |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for k in $KEYS; do
    for t in $TARGETS; do
      if [[ -n ${FAILED[$t]:-} ]]; then echo "| $k | $t | failed | | | | | | |"; continue; fi
      errors=$(awk -F'\t' -v t="$t" -v k="$k" '$1 == t && $2 == k && $3 == "keepalive" { n += $7 } END { print n + 0 }' "$results")
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$k" "$t" "$(col "$t" "$k" keepalive 5 | xargs -r printf '%.0f')" "$errors" \
        "$(col "$t" "$k" keepalive 6)" "$(ratio "$t" "$k" keepalive 6)" "$(col "$t" "$k" handshakes 5 | xargs -r printf '%.0f')" \
        "$(col "$t" "$k" handshakes 6)" "$(ratio "$t" "$k" handshakes 6)"
    done
  done
} > "$table"

mkdir -p bench/results
cp "$table" bench/results/tls-latest.md
echo
cat "$table"
echo
echo "(saved to bench/results/tls-latest.md)"
