package dev.fulcrum.server.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The network of the high-availability tests: one Linux bridge in a namespace of its own, and four
 * nodes — {@link Node#CLIENT}, {@link Node#LB1}, {@link Node#LB2}, {@link Node#SERVER} — each in
 * its own namespace on 10.77.0.0/24, plugged into the bridge by a veth pair whose node side is
 * {@code eth0}. The virtual IP {@link #VIRTUAL_IP} belongs to nobody until a VRRP speaker on a
 * load balancer adds it.
 *
 * <pre>
 *   client 10.77.0.2 ─┐
 *   lb1   10.77.0.11 ─┤  br0 (namespace PREFIX-br; ports v-client, v-lb1, v-lb2, v-server)
 *   lb2   10.77.0.12 ─┤
 *   server 10.77.0.20 ─┘        virtual IP 10.77.0.100/24
 * </pre>
 *
 * The LAN is a {@link BridgedLan}: no interface ever exists in the root namespace and runs cannot
 * collide. Multicast snooping stays
 * on, as on a default bridge: VRRP's 224.0.0.18 is in the link-local control block that bridges
 * always flood (RFC 4541 §2.1.2). {@link #close()} deletes all five namespaces, also when
 * {@link #create()} failed halfway. Thread-safe after {@link #create()}.
 */
public final class HaTopology implements AutoCloseable {

    /** A host on the test network. */
    public enum Node {
        CLIENT("client", "10.77.0.2"),
        LB1("lb1", "10.77.0.11"),
        LB2("lb2", "10.77.0.12"),
        SERVER("server", "10.77.0.20");

        private final String label;
        private final String address;

        Node(String label, String address) {
            this.label = label;
            this.address = address;
        }

        /** Lower-case name: part of the namespace name and of log names. */
        public String label() {
            return label;
        }

        /** Its own IPv4 address on eth0 (prefix length {@link #PREFIX_LENGTH}). */
        public String address() {
            return address;
        }
    }

    public static final String VIRTUAL_IP = "10.77.0.100";
    public static final int PREFIX_LENGTH = 24;
    /** The virtual IP with its prefix length, as VRRP configurations write it. */
    public static final String VIRTUAL_IP_CIDR = VIRTUAL_IP + "/" + PREFIX_LENGTH;
    /** The node side of every veth pair. */
    public static final String INTERFACE = BridgedLan.INTERFACE;
    private static final Pattern ETHER = Pattern.compile("link/ether ([0-9a-f:]{17})");
    private static final Pattern LLADDR = Pattern.compile("lladdr ([0-9a-f:]{17})");

    private final BridgedLan lan;
    private final Map<Node, Netns> nodes = new EnumMap<>(Node.class);

    private HaTopology(BridgedLan lan) {
        this.lan = lan;
    }

    /** Builds the bridge and the four nodes; on any failure deletes what it built and throws. */
    public static HaTopology create() throws IOException {
        BridgedLan lan = BridgedLan.create();
        return Closing.built(new HaTopology(lan), t -> {
            for (Node node : Node.values()) {
                t.nodes.put(node, lan.attach(node.label(), node.address() + "/" + PREFIX_LENGTH));
            }
        });
    }

    /** The namespace of {@code node}. */
    public Netns netns(Node node) {
        return nodes.get(node);
    }

    /** The namespace that holds the bridge. */
    public Netns bridge() {
        return lan.bridge();
    }

    /** The prefix shared by this topology's namespace names ({@code fx…}). */
    public String prefix() {
        return lan.prefix();
    }

    /**
     * Pulls {@code node}'s cable: sets the bridge side of its veth down. The bridge stops
     * forwarding to it at once and the node's eth0 loses carrier (NO-CARRIER, still
     * administratively up), as when the switch port or the cable fails. This models "the master's
     * link down" better than {@code ip link set eth0 down} on the node, which is an administrator's
     * act on the load balancer itself and is reported to its software as such.
     */
    public void linkDown(Node node) throws IOException {
        lan.portDown(node.label());
    }

    /** Plugs {@code node}'s cable back in (see {@link #linkDown}). */
    public void linkUp(Node node) throws IOException {
        lan.portUp(node.label());
    }

    /** Whether {@code node} has the virtual IP on its eth0 ({@code ip addr show}). */
    public boolean holdsVip(Node node) throws IOException {
        return nodes.get(node).run("ip", "-4", "-o", "addr", "show", "dev", INTERFACE)
                .contains(" " + VIRTUAL_IP_CIDR + " ");
    }

    /** The nodes holding the virtual IP right now: one, when all is well. */
    public List<Node> vipHolders() throws IOException {
        List<Node> holders = new ArrayList<>();
        for (Node node : Node.values()) {
            if (holdsVip(node)) {
                holders.add(node);
            }
        }
        return holders;
    }

    /** The MAC address of {@code node}'s eth0. */
    public String macAddress(Node node) throws IOException {
        return find(ETHER, nodes.get(node).run("ip", "-o", "link", "show", "dev", INTERFACE))
                .orElseThrow(() -> new IOException("no MAC address on " + node.label() + " " + INTERFACE));
    }

    /**
     * The node that {@code viewer} sends virtual-IP traffic to: the owner of the MAC address in
     * its ARP entry for {@link #VIRTUAL_IP}; empty when it has no usable entry.
     */
    public Optional<Node> vipOwnerSeenBy(Node viewer) throws IOException {
        Optional<String> mac = find(LLADDR, nodes.get(viewer).run("ip", "neigh", "show", VIRTUAL_IP));
        if (mac.isEmpty()) {
            return Optional.empty();
        }
        for (Node node : Node.values()) {
            if (macAddress(node).equals(mac.get())) {
                return Optional.of(node);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> find(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Deletes every namespace built so far (nodes first, the bridge last), each even if another fails. */
    @Override
    public void close() throws Exception {
        lan.close();
    }
}
