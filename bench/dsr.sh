#!/usr/bin/env bash
# DSR benchmark: packets per second forwarded and balancer CPU per packet, in network namespaces
# of its own (client, balancer, 3 servers on a bridge; removed on exit). Needs root.
#   bench/dsr.sh [-d SECONDS] [-t GENERATOR_THREADS] [-f FLOWS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=10 THREADS=1 FLOWS=256
while getopts "d:t:f:" o; do
  case $o in d) DURATION=$OPTARG;; t) THREADS=$OPTARG;; f) FLOWS=$OPTARG;; *) exit 2;; esac
done
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=$JAVA_HOME/bin/java
JAR=fulcrum-server/target/fulcrum.jar
[[ -f $JAR ]] || ./mvnw -B -q -pl fulcrum-server -am package -DskipTests
P=fxb$$
VIP=10.88.0.100
PIDS=()
WORK=$(mktemp -d)
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for n in client lb s1 s2 s3 br; do ip netns del $P-$n 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

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
ip -n $P-client route add $VIP/32 via 10.88.0.10
for s in 1 2 3; do
  ip netns exec $P-s$s $JAVA -jar $JAR dsr-server-setup --vip $VIP --apply >/dev/null
  ip netns exec $P-s$s $JAVA -Xmx128m -jar $JAR demo-server --port 80 --host 0.0.0.0 --name s$s \
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
  ports: [80, 9000]
  pool: web
YAML
ip netns exec $P-lb $JAVA -Xmx256m ${LB_JAVA_OPTS:-} -jar $JAR run -c "$WORK/lb.yaml" >"$WORK/lb.log" 2>&1 & LB=$!; PIDS+=($LB)
for _ in $(seq 100); do
  n=$(ip netns exec $P-lb curl -s -m 1 http://127.0.0.1:9901/api/v1/status | grep -o '"newFlows":true' | wc -l || true)
  [[ $n -eq 3 ]] && break; sleep 0.5
done
[[ $n -eq 3 ]] || { echo "balancer not forwarding: $(tail -5 "$WORK/lb.log")" >&2; exit 1; }

counter() { ip netns exec $P-$1 cat /sys/class/net/eth0/statistics/$2; }
cpu_ticks() { awk '{print $14 + $15}' /proc/$LB/stat; }
forwarded() { ip netns exec $P-lb curl -s http://127.0.0.1:9901/metrics | awk '/^fulcrum_dsr_packets_total\{result="forwarded"\}/ {print int($2)}'; }
TCK=$(getconf CLK_TCK)

run() { # label
  local c0 f0 t0 sent c1 f1 t1
  c0=$(cpu_ticks); f0=$(forwarded); t0=$(date +%s%N)
  sent=$(ip netns exec $P-client $JAVA "$PWD/bench/UdpFlood.java" $VIP 9000 "$DURATION" "$THREADS" "$FLOWS")
  sleep 0.6  # the forwarder's counters reach /metrics every 500 ms
  c1=$(cpu_ticks); f1=$(forwarded); t1=$(date +%s%N)
  awk -v label="$1" -v sent="$sent" -v fw=$((f1 - f0)) -v cpu=$(((c1 - c0))) -v tck="$TCK" -v d="$DURATION" \
    'BEGIN { printf "| %s | %d | %d | %.2f | %.2f |\n", label, sent / d, fw / d, (cpu / tck) * 1e6 / (fw > 0 ? fw : 1), (cpu / tck) / d }'
}

echo "DSR: UDP 64-byte datagrams from $FLOWS flows, $THREADS generator thread(s), ${DURATION}s; $(nproc) cores, $(uname -r)"
echo
echo "| balancer | offered pps | forwarded pps | balancer CPU µs/packet | balancer cores busy |"
echo "| --- | ---: | ---: | ---: | ---: |"
run "fulcrum dsr (all cores)"
taskset -a -p -c 0 $LB >/dev/null
run "fulcrum dsr (one core: taskset 0)"
echo
echo "command: bench/dsr.sh -d $DURATION -t $THREADS -f $FLOWS"
