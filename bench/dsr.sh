#!/usr/bin/env bash
# DSR benchmark: packets per second forwarded and balancer CPU per packet, in network namespaces
# of its own (client, balancer, 3 servers on a bridge; removed on exit). Needs root.
#   bench/dsr.sh [-d SECONDS] [-g trafgen|java] [-r PPS] [-t JAVA_THREADS] [-f FLOWS]
# -g: the UDP generator in the client namespace. trafgen (netsniff-ng; installed with apt-get when
#     missing) writes frames through a packet socket's TX ring from one process, pinned to CPU 0;
#     java is bench/UdpFlood.java (DatagramChannel.send on -t threads), the fallback.
# -r: trafgen's rate in packets/s (0 = as fast as it goes; a rate makes trafgen use sendto).
# Two rows: the balancer on all cores, then pinned to CPU 1 (`taskset`), away from the generator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=10 GEN=trafgen RATE=0 THREADS=1 FLOWS=256
usage() { sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//'; }
while getopts "d:g:r:t:f:h" o; do
  case $o in
    d) DURATION=$OPTARG ;; g) GEN=$OPTARG ;; r) RATE=$OPTARG ;; t) THREADS=$OPTARG ;; f) FLOWS=$OPTARG ;;
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
  echo "dsr: installing netsniff-ng (trafgen)" >&2
  { apt-get install -y -q --no-install-recommends netsniff-ng || { apt-get update -q && apt-get install -y -q --no-install-recommends netsniff-ng; }; } >&2 \
    || { echo "dsr: no trafgen; using the Java generator (-g java)" >&2; GEN=java; }
fi

JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=$JAVA_HOME/bin/java
JAR=fulcrum-server/target/fulcrum.jar
[[ -f $JAR ]] || ./mvnw -B -q -pl fulcrum-server -am package -DskipTests
P=fxb$$
VIP=10.88.0.100
UDP_PORT=9000
PIDS=()
WORK=$(mktemp -d /tmp/fulcrum-dsr-bench.XXXXXX)
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
cat >"$WORK/lb.yaml" <<YAML
name: dsr-bench
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
others() { # every other fulcrum_dsr_packets_total series (drops by reason, ignored frames)
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
  diff <(others <<<"$m0") <(others <<<"$m1") | awk '/^>/ { sub(/^> /, ""); print "    (after this row) " $0 }' >&2 || true
}

# 1 MiB responses over TCP through the virtual IP (one connection each, for DURATION seconds):
# the balancer sees only the client's side (SYN, request, ACKs); the servers answer directly.
downloads() {
  local c0 c1 u0 u1 i0 i1 b0 b1 k0 k1 t0 t1 sizes
  i0=$(cpu_ticks); sleep 3; i1=$(cpu_ticks) # the idle balancer's own CPU (health checks, JVM), to subtract
  c0=$(cpu_ticks); u0=$(user_ticks); t0=$(date +%s%N)
  b0=$(($(counter lb rx_bytes) + $(counter lb tx_bytes))); k0=$(($(counter lb rx_packets) + $(counter lb tx_packets)))
  # 4 clients in parallel, each a loop of new connections (a new flow each); bounded in time and count
  sizes=$(ip netns exec $P-client bash -c "for c in 1 2 3 4; do (end=\$((SECONDS + $DURATION)); n=0
    while ((SECONDS < end && n < 5000)); do curl -s -m 5 -o /dev/null -w '%{size_download}\n' http://$VIP/bytes?n=1048576 || true; n=\$((n + 1)); done) & done; wait")
  b1=$(($(counter lb rx_bytes) + $(counter lb tx_bytes))); k1=$(($(counter lb rx_packets) + $(counter lb tx_packets)))
  c1=$(cpu_ticks); u1=$(user_ticks); t1=$(date +%s%N)
  awk -v cpu=$((c1 - c0)) -v user=$((u1 - u0)) -v idle=$((i1 - i0)) -v tck="$TCK" -v wall=$(((t1 - t0) / 1000000)) -v bytes=$((b1 - b0)) \
      -v pkts=$((k1 - k0)) '{ got += $1; if ($1 == 1048576) ok++; n++ } END {
    mib = got / 1048576; if (mib == 0) mib = 1
    s = cpu / tck; net = s - idle / tck / 3 * wall / 1000; if (net < 0) net = 0
    printf "| dsr, 1 MiB responses | %d of %d | %.1f | %.3f | %.3f | %.3f | %d | %d |\n", ok, n, mib / (wall / 1000),
      s * 1000 / mib, user / tck * 1000 / mib, net * 1000 / mib, bytes / mib, pkts / mib
    printf "\n(idle balancer: %.1f ms of CPU per second, measured over 3 s before the downloads)\n", idle / tck / 3 * 1000 }' <<<"$sizes"
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
echo "Balancer JVM: -Xmx256m ${LB_JAVA_OPTS:-}"
echo
echo "| balancer | offered pps | at balancer pps | forwarded pps | balancer tx pps | balancer CPU µs/packet | of it user | balancer cores busy | forwarded/offered |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# warm-up: the forwarder's loop is compiled by the JIT in the first seconds
DURATION_SAVED=$DURATION; DURATION=3; generate; DURATION=$DURATION_SAVED; sleep 0.6
run "fulcrum dsr, all cores"
taskset -a -p -c 1 $LB >/dev/null
run "fulcrum dsr, one core (taskset -c 1)"
echo
echo "| 1 MiB downloads (curl, TCP port 80) | complete | MiB/s | balancer CPU ms/MiB | of it user | total less idle CPU | balancer eth0 bytes per MiB | balancer eth0 packets per MiB |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
downloads
echo
echo "Reproduce: sudo ${LB_JAVA_OPTS:+LB_JAVA_OPTS=\"$LB_JAVA_OPTS\" }bench/dsr.sh -d $DURATION -g $GEN -r $RATE -t $THREADS -f $FLOWS"
echo "Columns: offered = client eth0 tx_packets; at balancer = its eth0 rx_packets; forwarded = fulcrum_dsr_packets_total{result=\"forwarded\"};"
echo "balancer tx = its eth0 tx_packets; CPU = utime+stime of the balancer JVM (/proc/PID/stat) per forwarded packet; per second of the window."
if [[ -n ${DSR_BENCH_DEBUG:-} ]]; then tail -n 20 "$WORK/gen.log" "$WORK/lb.log" >&2; fi
