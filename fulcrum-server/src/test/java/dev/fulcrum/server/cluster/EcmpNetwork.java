package dev.fulcrum.server.cluster;

import dev.fulcrum.server.testing.BridgedLan;
import dev.fulcrum.server.testing.Closing;
import dev.fulcrum.server.testing.Netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The network of the ECMP test, every host a namespace of the test's own: a client behind a
 * router that spreads the virtual IP's flows over three cluster nodes with a multipath route, and
 * an infrastructure host (etcd, the pool's servers) on the nodes' LAN.
 *
 * <pre>
 *   client 10.66.1.2 ── router 10.66.1.1 │ 10.66.0.1 ─┐  br0 (namespace PREFIX-br)
 *        route VIP/32 nhid 100 (resilient: nexthops 1..3) ├─ node 1 10.66.0.11 ┐
 *                                                     ├─ node 2 10.66.0.12 ├ virtual IP 10.66.100.1/32 on lo
 *                                                     ├─ node 3 10.66.0.13 ┘
 *                                                     └─ infra  10.66.0.5 (etcd, servers)
 * </pre>
 *
 * The router hashes each flow on its 5-tuple ({@code fib_multipath_hash_policy=3}, custom, with
 * {@code fib_multipath_hash_fields} naming source and destination address and port and the
 * protocol — policy 1, L4, spread these flows as evenly on Linux 6.18; policy 0 hashes addresses
 * only and would send every flow of one client to one node) into a resilient next-hop group of
 * {@link #BUCKETS} buckets, so that a node taken out moves only its own buckets. Nodes reach the
 * client back through the router. Every veth is created in the bridge or router namespace and
 * moved straight to its host (a {@link BridgedLan}), so nothing is ever in the root namespace.
 * {@link #close()} deletes every namespace, also after a half-built {@link #create()}.
 * Thread-safe after {@link #create()}.
 */
final class EcmpNetwork implements AutoCloseable {

    static final String VIRTUAL_IP = "10.66.100.1";
    static final String INFRA = "10.66.0.5";
    static final String CLIENT = "10.66.1.2";
    static final int NODES = 3;
    static final int BUCKETS = 64;
    /** Source and destination address (0x1, 0x2), protocol (0x4), source and destination port (0x10, 0x20). */
    static final String HASH_FIELDS = "0x0037";
    private static final int GROUP = 100;

    private final BridgedLan lan;
    private final List<Netns> nodes = new ArrayList<>();
    private Netns router;
    private Netns client;
    private Netns infra;

    private EcmpNetwork(BridgedLan lan) {
        this.lan = lan;
    }

    /**
     * Why the router cannot be built on this kernel — no 5-tuple hash fields (Linux 5.12) or no
     * resilient next-hop groups (5.13) — or empty. Asks the root namespace's sysctls only.
     */
    static Optional<String> unsupportedReason() {
        for (String sysctl : List.of("fib_multipath_hash_fields", "fib_multipath_hash_policy")) {
            if (!Files.exists(Path.of("/proc/sys/net/ipv4", sysctl))) {
                return Optional.of("kernel " + System.getProperty("os.version") + " has no net.ipv4." + sysctl
                        + " (Linux 5.12+; resilient next-hop groups need 5.13+)");
            }
        }
        return Optional.empty();
    }

    /** Builds every host, link and route; on any failure deletes what it built and throws. */
    static EcmpNetwork create() throws IOException {
        return Closing.built(new EcmpNetwork(BridgedLan.create()), EcmpNetwork::build);
    }

    private void build() throws IOException {
        router = lan.attach("rt", "10.66.0.1/24");
        infra = lan.attach("infra", INFRA + "/24");
        for (int i = 1; i <= NODES; i++) {
            Netns node = lan.attach("n" + i, nodeAddress(i) + "/24");
            node.run("ip", "addr", "add", VIRTUAL_IP + "/32", "dev", "lo");
            // three hosts of one LAN hold the virtual IP: none answers ARP for it or uses it in ARP
            node.run("sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2");
            node.run("ip", "route", "add", "default", "via", "10.66.0.1");
            nodes.add(node);
        }

        client = lan.open("client");
        router.run("ip", "link", "add", "r-client", "type", "veth", "peer", "name", "eth0", "netns", client.name());
        router.run("ip", "addr", "add", "10.66.1.1/24", "dev", "r-client");
        router.run("ip", "link", "set", "r-client", "up");
        client.run("ip", "addr", "add", CLIENT + "/24", "dev", "eth0");
        client.run("ip", "link", "set", "eth0", "up");
        client.run("ip", "route", "add", "default", "via", "10.66.1.1");

        router.run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=3",
                "net.ipv4.fib_multipath_hash_fields=" + HASH_FIELDS);
        for (int i = 1; i <= NODES; i++) {
            router.run("ip", "nexthop", "add", "id", Integer.toString(i), "via", nodeAddress(i), "dev", "eth0");
        }
        router.run(groupCommand("add", IntStream.rangeClosed(1, NODES).boxed().toList()));
        router.run("ip", "route", "add", VIRTUAL_IP + "/32", "nhid", Integer.toString(GROUP));
    }

    private static String nodeAddress(int node) {
        return "10.66.0." + (10 + node);
    }

    private static List<String> groupCommand(String verb, List<Integer> members) {
        return List.of("ip", "nexthop", verb, "id", Integer.toString(GROUP), "group",
                members.stream().map(String::valueOf).collect(Collectors.joining("/")),
                "type", "resilient", "buckets", Integer.toString(BUCKETS));
    }

    Netns client() {
        return client;
    }

    Netns router() {
        return router;
    }

    Netns infra() {
        return infra;
    }

    /** Node {@code i}, 1 to {@link #NODES}: its namespace; its next hop in the router is id {@code i}. */
    Netns node(int i) {
        return nodes.get(i - 1);
    }

    /**
     * The router stops sending flows to these nodes: the group is replaced by one of the others,
     * as a routing daemon does when a node withdraws. A resilient group keeps every bucket of a
     * remaining next hop and hands only the leavers' buckets out.
     */
    void leaveGroup(Set<Integer> leaving) throws IOException {
        router.run(groupCommand("replace", IntStream.rangeClosed(1, NODES).filter(i -> !leaving.contains(i))
                .boxed().toList()));
    }

    /** How many of the group's buckets each node's next hop holds ({@code ip nexthop bucket show}). */
    Map<Integer, Integer> bucketsPerNode() throws IOException {
        Map<Integer, Integer> counts = new TreeMap<>();
        for (String line : router.run("ip", "nexthop", "bucket", "show", "id", Integer.toString(GROUP)).split("\n")) {
            String[] f = line.strip().split("\\s+");
            for (int i = 0; i + 1 < f.length; i++) {
                if (f[i].equals("nhid")) {
                    counts.merge(Integer.parseInt(f[i + 1]), 1, Integer::sum);
                }
            }
        }
        return counts;
    }

    /**
     * The client's source ports of the TCP connections node {@code i} holds established on
     * {@code port} ({@code ss} in its namespace): the flows the router sent there.
     */
    Set<Integer> clientPortsOn(int i, int port) throws IOException {
        Set<Integer> ports = new HashSet<>();
        String out = node(i).run("ss", "-Htn", "state", "established", "( sport = :" + port + " )");
        for (String line : out.split("\n")) {
            String[] f = line.strip().split("\\s+");
            // Recv-Q Send-Q LOCAL PEER (no state column when filtering by state); PEER is
            // 10.66.1.2:PORT, or [::ffff:10.66.1.2]:PORT on a dual-stack socket
            if (f.length >= 4) {
                int colon = f[3].lastIndexOf(':');
                String address = f[3].substring(0, colon).replace("[::ffff:", "").replace("]", "");
                if (address.equals(CLIENT)) {
                    ports.add(Integer.parseInt(f[3].substring(colon + 1)));
                }
            }
        }
        return ports;
    }

    /** Deletes every namespace built (hosts first, the bridge last), each even if another fails. */
    @Override
    public void close() throws Exception {
        lan.close();
    }
}
