package dev.fulcrum.linux;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;

/**
 * A small LAN for DSR tests, all in namespaces this class creates and removes: a bridge in a
 * "switch" namespace, and a client, a balancer and a server, each joined to the bridge by a veth
 * pair with a fixed MAC. The client reaches the virtual IP through the balancer (a static neighbour
 * entry: VIP at the balancer's MAC; the balancer does not hold the VIP, so its own stack ignores
 * those packets); the server holds the VIP on its loopback and does not answer ARP for it, as
 * {@code fulcrum dsr-server-setup} sets up a real one, so it answers the client directly.
 */
final class DsrLan implements AutoCloseable {

    static final Inet4Address CLIENT_IP = address("10.99.7.1");
    static final Inet4Address BALANCER_IP = address("10.99.7.2");
    static final Inet4Address SERVER_IP = address("10.99.7.3");
    static final Inet4Address VIP = address("10.99.7.100");
    static final byte[] CLIENT_MAC = mac("02:00:00:00:07:01");
    static final byte[] BALANCER_MAC = mac("02:00:00:00:07:02");
    static final byte[] SERVER_MAC = mac("02:00:00:00:07:03");
    /** The balancer's interface: its name in the balancer namespace. */
    static final String BALANCER_NIC = "lb0";
    static final int MTU = 1500;

    final TestNetns lan;
    final TestNetns client;
    final TestNetns balancer;
    final TestNetns server;

    private DsrLan(TestNetns lan, TestNetns client, TestNetns balancer, TestNetns server) {
        this.lan = lan;
        this.client = client;
        this.balancer = balancer;
        this.server = server;
    }

    static DsrLan create() throws IOException {
        TestNetns lan = TestNetns.create();
        TestNetns client = null;
        TestNetns balancer = null;
        TestNetns server = null;
        try {
            client = TestNetns.create();
            balancer = TestNetns.create();
            server = TestNetns.create();
            DsrLan l = new DsrLan(lan, client, balancer, server);
            l.wire();
            return l;
        } catch (IOException | RuntimeException e) {
            for (TestNetns ns : new TestNetns[] {server, balancer, client, lan}) {
                if (ns != null) {
                    ns.close();
                }
            }
            throw e;
        }
    }

    private void wire() throws IOException {
        lan.ip("link", "add", "br0", "type", "bridge");
        lan.ip("link", "set", "br0", "up");
        join(client, "c0", CLIENT_MAC, CLIENT_IP);
        join(balancer, BALANCER_NIC, BALANCER_MAC, BALANCER_IP);
        join(server, "s0", SERVER_MAC, SERVER_IP);
        client.ip("neigh", "replace", VIP.getHostAddress(), "lladdr", format(BALANCER_MAC), "dev", "c0",
                "nud", "permanent");
        server.ip("addr", "add", VIP.getHostAddress() + "/32", "dev", "lo");
        sysctl(server, "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2",
                "net.ipv4.conf.s0.arp_ignore=1", "net.ipv4.conf.s0.arp_announce=2");
        // a balancer must not route what it receives for the VIP itself (it would send a copy on)
        sysctl(balancer, "net.ipv4.ip_forward=0");
    }

    private void join(TestNetns ns, String device, byte[] mac, Inet4Address ip) throws IOException {
        String port = "p-" + device;
        lan.ip("link", "add", port, "type", "veth", "peer", "name", device, "netns", ns.name);
        lan.ip("link", "set", port, "master", "br0");
        lan.ip("link", "set", port, "up");
        ns.ip("link", "set", device, "address", format(mac));
        ns.ip("addr", "add", ip.getHostAddress() + "/24", "dev", device);
        ns.ip("link", "set", device, "up");
    }

    static void sysctl(TestNetns ns, String... settings) throws IOException {
        for (String setting : settings) {
            TestNetns.run("ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", setting);
        }
    }

    int balancerIndex() throws IOException {
        return balancer.index(BALANCER_NIC);
    }

    /** The socket options a DSR forwarder on the balancer uses for this LAN. */
    PacketSocket.Options forwarderOptions() throws IOException {
        return PacketSocket.Options.of(BALANCER_NIC, balancerIndex(), BpfFilter.ipv4To(VIP, BALANCER_MAC));
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (TestNetns ns : new TestNetns[] {server, balancer, client, lan}) {
            try {
                ns.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    static String format(byte[] mac) {
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    private static byte[] mac(String text) {
        return HexFormat.ofDelimiter(":").parseHex(text);
    }

    static Inet4Address address(String text) {
        try {
            return (Inet4Address) InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
