#!/usr/bin/env bash
# DSR benchmark: packets per second forwarded and balancer CPU per packet, in network namespaces
# of its own (client, balancer, 3 servers on a bridge; removed on exit). Needs root.
#   bench/dsr.sh [-d SECONDS] [-g trafgen|java] [-r PPS] [-t JAVA_THREADS] [-f FLOWS] [-n]
# -g: the UDP generator in the client namespace. trafgen (netsniff-ng; installed with apt-get when
#     missing) writes frames through a packet socket's TX ring from one process, pinned to CPU 0;
#     java is bench/UdpFlood.java (DatagramChannel.send on -t threads), the fallback.
# -r: trafgen's rate in packets/s (0 = as fast as it goes; a rate makes trafgen use sendto).
# -n: the bridge without netfilter (bridge-nf-call-iptables=0 in its namespace), as a hardware
#     switch: with br_netfilter loaded, the bridge runs iptables for every frame, and for the frames
#     the balancer sends that work is charged to the balancer's CPU.
# Two rows: the balancer on all cores, then pinned to CPU 1 (`taskset`), away from the generator.
# Then 1 MiB downloads: straight to a server, through DSR, and through Fulcrum, HAProxy and nginx
# as proxies (apt-get installs haproxy, nginx and wrk when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib.sh
DURATION=10 GEN=trafgen RATE=0 THREADS=1 FLOWS=256 NO_BRIDGE_NF=0
usage() { sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "d:g:r:t:f:nh" o; do
  case $o in
    d) DURATION=$OPTARG ;; g) GEN=$OPTARG ;; r) RATE=$OPTARG ;; t) THREADS=$OPTARG ;; f) FLOWS=$OPTARG ;;
    n) NO_BRIDGE_NF=1 ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$THREADS" "$FLOWS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "dsr: -d, -t and -f take positive whole numbers" >&2; exit 2; }
done
[[ $RATE =~ ^[0-9]+$ ]] || { echo "dsr: -r takes a whole number of packets/s (0 = no limit)" >&2; exit 2; }
((DURATION <= 60 && FLOWS <= 50000)) || { echo "dsr: at most -d 60 and -f 50000, to keep the run bounded" >&2; exit 2; }
[[ $GEN == trafgen || $GEN == java ]] || { echo "dsr: -g trafgen or -g java" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "dsr: needs root (network namespaces)" >&2; exit 1; }

if [[ $GEN == trafgen ]] && ! command -v trafgen >/dev/null; then
  install_missing netsniff-ng || { echo "dsr: no trafgen; using the Java generator (-g java)" >&2; GEN=java; }
fi
install_missing haproxy nginx curl wrk || { echo "dsr: haproxy, nginx, curl and wrk are needed for the download comparison" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=$JAVA_HOME/bin/java
JAR=fulcrum-server/target/fulcrum.jar
[[ -f $JAR ]] || ./mvnw -B -q -pl fulcrum-server -am package -DskipTests
P=fxb$$
VIP=10.88.0.100
UDP_PORT=9000
PIDS=()
WORK=$(mktemp -d /tmp/fulcrum-dsr-bench.XXXXXX)
chmod 755 "$WORK" # nginx workers run as nobody and must reach their files
cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 30; i++)); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for n in client lb s1 s2 s3 br; do ip netns del $P-$n 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the LAN: bridge, client .2, balancer .10, servers .21-.23 ----------------------------------
ip netns add $P-br
ip -n $P-br link add br0 type bridge
ip -n $P-br link set br0 up
if ((NO_BRIDGE_NF)); then
  for t in iptables ip6tables arptables; do
    ip netns exec $P-br sysctl -qw net.bridge.bridge-nf-call-$t=0 2>/dev/null || true
  done
fi
node() { # name address
  ip netns add $P-$1
  ip -n $P-$1 link set lo up
  ip -n $P-br link add v-$1 type veth peer name eth0 netns $P-$1
  ip -n $P-br link set v-$1 master br0 up
  ip -n $P-$1 addr add $2/24 dev eth0
  ip -n $P-$1 link set eth0 up
}
node client 10.88.0.2; node lb 10.88.0.10
node s1 10.88.0.21; node s2 10.88.0.22; node s3 10.88.0.23
# the upstream router's part: the virtual IP is reached through the balancer
ip -n $P-client route add $VIP/32 via 10.88.0.10

# --- servers and balancer ----------------------------------------------------------------------
for s in 1 2 3; do
  ip netns exec $P-s$s $JAVA -jar $JAR dsr-server-setup --vip $VIP --apply >/dev/null
  ip netns exec $P-s$s $JAVA -Xmx128m -XX:TieredStopAtLevel=1 -jar $JAR demo-server --port 80 --host 0.0.0.0 --name s$s \
    >"$WORK/s$s.log" 2>&1 & PIDS+=($!)
done
# the same balancer also proxies (port 8080), for the download comparison with proxy mode
cat >"$WORK/lb.yaml" <<YAML
name: dsr-bench
listeners:
  - {name: web, listen: 10.88.0.10:8080, protocol: http, pool: web}
pools:
  - name: web
    servers: [{address: 10.88.0.21:80}, {address: 10.88.0.22:80}, {address: 10.88.0.23:80}]
dsr:
  interface: eth0
  virtual-ip: $VIP
  ports: [80, $UDP_PORT]
  pool: web
YAML
# `ip netns exec` execs java, so $! is the balancer's JVM: its /proc/PID/stat counts all threads.
ip netns exec $P-lb $JAVA -Xmx256m ${LB_JAVA_OPTS:-} -jar $JAR run -c "$WORK/lb.yaml" >"$WORK/lb.log" 2>&1 & LB=$!; PIDS+=($LB)
n=0
for _ in $(seq 120); do
  kill -0 $LB 2>/dev/null || break
  n=$(ip netns exec $P-lb curl -s -m 1 http://127.0.0.1:9901/api/v1/status | grep -o '"newFlows":true' | wc -l || true)
  [[ $n -eq 3 ]] && break; sleep 0.5
done
[[ $n -eq 3 ]] || { echo "dsr: balancer not forwarding to 3 servers: $(tail -5 "$WORK/lb.log")" >&2; exit 1; }

# --- proxies for the download comparison, in the balancer's namespace ----------------------------
# HAProxy on :8081 and nginx on :8082 in front of the same 3 servers, as in bench/run.sh.
SERVERS=(10.88.0.21:80 10.88.0.22:80 10.88.0.23:80)
haproxy_config 10.88.0.10:8081 "${SERVERS[@]}" >"$WORK/haproxy.cfg"
ip netns exec $P-lb "$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 & HAPROXY_PID=$!; PIDS+=($HAPROXY_PID)
mkdir -p "$WORK/nginx"
nginx_proxy_config "$WORK/nginx" 10.88.0.10:8082 "${SERVERS[@]}" >"$WORK/nginx/nginx.conf"
ip netns exec $P-lb "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.log" 2>&1 & NGINX_PID=$!; PIDS+=($NGINX_PID)
for target in 10.88.0.10:8080 10.88.0.10:8081 10.88.0.10:8082; do
  for _ in $(seq 50); do
    ip netns exec $P-client curl -s -m 1 -o /dev/null "http://$target/" && continue 2
    sleep 0.2
  done
  echo "dsr: nothing answers on $target: $(tail -3 "$WORK/haproxy.log" "$WORK/nginx.log" "$WORK/nginx/error.log" 2>/dev/null)" >&2; exit 1
done

# --- the generator -----------------------------------------------------------------------------
# 64-byte frames (14 + 20 + 8 + 22) from FLOWS source ports, so flows spread over the servers
lb_mac=$(ip netns exec $P-lb cat /sys/class/net/eth0/address)
client_mac=$(ip netns exec $P-client cat /sys/class/net/eth0/address)
cat >"$WORK/udp.trafgen" <<EOF
{
  eth(da=$lb_mac, sa=$client_mac),
  ipv4(sa=10.88.0.2, da=$VIP, ttl=64),
  udp(sp=dinc(20000, $((20000 + FLOWS - 1))), dp=$UDP_PORT),
  fill(0x00, 22)
}
EOF
generate() { # one bounded flood; its output goes to the log
  if [[ $GEN == trafgen ]]; then
    local rate=(); ((RATE > 0)) && rate=(-b "${RATE}pps")
    # -P 1: one process, which trafgen pins to CPU 0; SIGINT after DURATION ends it
    ip netns exec $P-client timeout -s INT "$DURATION" trafgen -o eth0 -c "$WORK/udp.trafgen" -P 1 "${rate[@]}" \
      >>"$WORK/gen.log" 2>&1 || true
  else
    ip netns exec $P-client $JAVA "$PWD/bench/UdpFlood.java" $VIP $UDP_PORT "$DURATION" "$THREADS" "$FLOWS" \
      >>"$WORK/gen.log" 2>&1 || true
  fi
}

# --- measuring ---------------------------------------------------------------------------------
counter() { ip netns exec $P-$1 cat /sys/class/net/eth0/statistics/$2; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$LB/stat; } # utime + stime, all threads
user_ticks() { awk '{ sub(/^.*\) /, ""); print $12 }' /proc/$LB/stat; }
metrics() { ip netns exec $P-lb curl -s -m 2 http://127.0.0.1:9901/metrics; }
forwarded() { awk '/^fulcrum_dsr_packets_total\{.*result="forwarded"/ { n += $NF } END { printf "%d", n }'; }
others() { # every other fulcrum_dsr_packets_total series (the dropped ones: ring full, no server, ...)
  awk '/^fulcrum_dsr_packets_total\{/ && !/result="forwarded"/ { split($0, a, " "); print a[1], a[2] }'
}
TCK=$(getconf CLK_TCK)

run() { # label
  local m0 m1 c0 c1 u0 u1 tx0 tx1 rx0 rx1 ltx0 ltx1 t0 t1
  m0=$(metrics); c0=$(cpu_ticks); u0=$(user_ticks); t0=$(date +%s%N)
  tx0=$(counter client tx_packets); rx0=$(counter lb rx_packets); ltx0=$(counter lb tx_packets)
  generate
  tx1=$(counter client tx_packets)
  sleep 0.6 # the forwarders' counters reach /metrics every 500 ms; the ring drains meanwhile
  rx1=$(counter lb rx_packets); ltx1=$(counter lb tx_packets)
  c1=$(cpu_ticks); u1=$(user_ticks); m1=$(metrics); t1=$(date +%s%N)
  local fw=$(($(forwarded <<<"$m1") - $(forwarded <<<"$m0")))
  awk -v label="$1" -v off=$((tx1 - tx0)) -v arr=$((rx1 - rx0)) -v fw=$fw -v ltx=$((ltx1 - ltx0)) \
      -v cpu=$((c1 - c0)) -v user=$((u1 - u0)) -v tck="$TCK" -v d="$DURATION" 'BEGIN {
    s = cpu / tck
    printf "| %s | %d | %d | %d | %d | %.2f | %.0f%% | %.2f | %.0f%% |\n", label, off / d, arr / d, fw / d, ltx / d,
      s * 1e6 / (fw > 0 ? fw : 1), (cpu > 0 ? 100 * user / cpu : 0), s / d, (off > 0 ? 100 * fw / off : 0) }'
  # what changed during this row, e.g. packets dropped because the ring was full
  awk 'NR == FNR { before[$1] = $2; next } $2 != before[$1] { printf "    (in this row) %s +%d\n", $1, $2 - before[$1] }' \
    <(others <<<"$m0") <(others <<<"$m1") >&2 || true
}

curl_loops() { # url seconds: 4 clients in parallel, each a loop of new connections; bounded in time and count
  ip netns exec $P-client bash -c "for c in 1 2 3 4; do (end=\$((SECONDS + $2)); n=0
    while ((SECONDS < end && n < 5000)); do curl -s -m 5 -o /dev/null -w '%{size_download}\n' '$1' || true; n=\$((n + 1)); done) & done; wait"
}
download_row() { # label url pid|-
  local label=$1 url=$2 pid=$3 measured=0 i0=0 i1=0 c0=0 c1=0 b0 b1 k0 k1 t0 t1 sizes
  [[ $pid != - ]] && measured=1
  if ((measured)); then
    # Warm-up, unmeasured. A JVM compiles its hot paths only after thousands of calls: at ~60
    # downloads/s that takes a minute, and the compiler's CPU would count as the proxy's. So: 5 s
    # of small requests at full speed (wrk, keep-alive), then 5 s of the downloads themselves.
    ip netns exec $P-client wrk -t1 -c8 -d5s "${url%/*}/" >/dev/null 2>&1 || true
    curl_loops "$url" 5 >/dev/null
    i0=$(tree_ticks "$pid"); sleep 3; i1=$(tree_ticks "$pid"); c0=$(tree_ticks "$pid")
  fi
  t0=$(date +%s%N)
  b0=$(($(counter lb rx_bytes) + $(counter lb tx_bytes))); k0=$(($(counter lb rx_packets) + $(counter lb tx_packets)))
  sizes=$(curl_loops "$url" "$DURATION")
  b1=$(($(counter lb rx_bytes) + $(counter lb tx_bytes))); k1=$(($(counter lb rx_packets) + $(counter lb tx_packets)))
  ((measured)) && c1=$(tree_ticks "$pid")
  t1=$(date +%s%N)
  awk -v label="$label" -v measured=$measured -v cpu=$((c1 - c0)) -v idle=$((i1 - i0)) -v tck="$TCK" \
      -v wall=$(((t1 - t0) / 1000000)) -v bytes=$((b1 - b0)) -v pkts=$((k1 - k0)) '
    { got += $1; if ($1 == 1048576) ok++; n++ }
    END {
      mib = got / 1048576; if (mib == 0) mib = 1
      s = cpu / tck; idle_per_s = idle / tck / 3; net = s - idle_per_s * wall / 1000; if (net < 0) net = 0
      if (measured) cols = sprintf("%.2f | %.1f | %.2f", s * 1000 / mib, idle_per_s * 1000, net * 1000 / mib)
      else cols = "— | — | —"
      printf "| %s | %d of %d | %.1f | %s | %d | %d |\n", label, ok, n, mib / (wall / 1000), cols, bytes / mib, pkts / mib }' <<<"$sizes"
}

downloads() {
  local q="bytes?n=1048576"
  download_row "direct to one server (no balancer)" "http://10.88.0.21/$q" -
  download_row "fulcrum dsr (virtual IP)" "http://$VIP/$q" $LB
  download_row "fulcrum proxy" "http://10.88.0.10:8080/$q" $LB
  download_row "haproxy $("$HAPROXY" -v | awk 'NR == 1 { print $3 }') (nbthread 2)" "http://10.88.0.10:8081/$q" $HAPROXY_PID
  download_row "nginx $("$NGINX" -v 2>&1 | sed 's|.*nginx/||') (2 workers)" "http://10.88.0.10:8082/$q" $NGINX_PID
}

gen_desc() {
  if [[ $GEN == trafgen ]]; then
    echo "trafgen $(trafgen -v | awk 'NR == 1 { print $2 }') (TX ring, 1 process on CPU 0$( ((RATE > 0)) && echo ", limited to $RATE pps"))"
  else
    echo "bench/UdpFlood.java ($THREADS thread(s), DatagramChannel.send)"
  fi
}
echo "DSR: 64-byte UDP frames from $FLOWS source ports to $VIP:$UDP_PORT, ${DURATION}s per row; generator: $(gen_desc)"
echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr); generator and balancer share them."
echo "Balancer JVM: -Xmx256m ${LB_JAVA_OPTS:-}; bridge netfilter (bridge-nf-call-iptables): $(ip netns exec $P-br sysctl -n net.bridge.bridge-nf-call-iptables 2>/dev/null || echo absent)"
echo
echo "| balancer | offered pps | at balancer pps | forwarded pps | balancer tx pps | balancer CPU µs/packet | of it user | balancer cores busy | forwarded/offered |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# warm-up: the forwarder's loop is compiled by the JIT in the first seconds
DURATION_SAVED=$DURATION; DURATION=3; generate; DURATION=$DURATION_SAVED; sleep 0.6
run "fulcrum dsr, all cores"
taskset -a -p -c 1 $LB >/dev/null
run "fulcrum dsr, one core (taskset -c 1)"
taskset -a -p -c 0-$(($(nproc) - 1)) $LB >/dev/null # the proxies below may use every core too
echo
echo "| 1 MiB downloads, 4 curl loops of new connections | complete | MiB/s | its CPU ms/MiB | its idle CPU ms/s | CPU less idle, ms/MiB | balancer eth0 bytes per MiB | balancer eth0 packets per MiB |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
downloads
echo
echo "Reproduce: sudo ${LB_JAVA_OPTS:+LB_JAVA_OPTS=\"$LB_JAVA_OPTS\" }bench/dsr.sh -d $DURATION -g $GEN -r $RATE -t $THREADS -f $FLOWS$( ((NO_BRIDGE_NF)) && echo " -n")"
echo "Columns: offered = client eth0 tx_packets; at balancer = its eth0 rx_packets; forwarded = fulcrum_dsr_packets_total{result=\"forwarded\"};"
echo "balancer tx = its eth0 tx_packets; CPU = utime+stime of the balancer JVM (/proc/PID/stat) per forwarded packet; per second of the window."
echo "Downloads: its CPU = utime+stime of the process tree that carries the row (the one balancer JVM for both fulcrum rows; nginx with"
echo "its workers) per MiB received by the clients; idle = that tree's CPU over 3 s before the row (after a 10 s warm-up); eth0 = the balancer namespace's interface."
if [[ -n ${DSR_BENCH_DEBUG:-} ]]; then tail -n 20 "$WORK/gen.log" "$WORK/lb.log" >&2; fi
