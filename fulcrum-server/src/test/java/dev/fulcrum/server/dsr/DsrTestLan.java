package dev.fulcrum.server.dsr;

import dev.fulcrum.server.testing.BridgedLan;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.Closing;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Netns;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The LAN of the DSR ITs, in namespaces it creates and removes: a bridge, a client .2, a balancer
 * .10 and servers .21-.23 of 10.88.0.0/24, each on eth0. Routed: the client reaches the virtual IP
 * 10.88.0.100 through the balancer (as an upstream router would); else the balancer must answer
 * ARP for it.
 */
final class DsrTestLan implements AutoCloseable {

    static final String VIP = "10.88.0.100";
    static final List<String> SERVERS = List.of("10.88.0.21", "10.88.0.22", "10.88.0.23");

    final BridgedLan bridged;
    Netns client;
    Netns balancer;
    final List<Netns> servers = new ArrayList<>();

    private DsrTestLan(BridgedLan bridged) {
        this.bridged = bridged;
    }

    /** Builds it; on any failure deletes what it built and throws. */
    static DsrTestLan create(boolean routed) throws IOException {
        return Closing.built(new DsrTestLan(BridgedLan.create()), lan -> lan.build(routed));
    }

    private void build(boolean routed) throws IOException {
        client = bridged.attach("client", "10.88.0.2/24");
        balancer = bridged.attach("lb", "10.88.0.10/24");
        for (int i = 0; i < SERVERS.size(); i++) {
            servers.add(bridged.attach("s" + (i + 1), SERVERS.get(i) + "/24"));
        }
        if (routed) {
            // the upstream router's part: the virtual IP is reached through the balancer
            client.run("ip", "route", "add", VIP + "/32", "via", "10.88.0.10");
        }
    }

    /**
     * A client on another network (10.77.0.2) behind a router (10.88.0.1 on the LAN,
     * 10.77.0.1 towards the client) whose link to the client has a smaller MTU than the LAN —
     * on the router's side only, so the client still announces an MSS for 1500. The router
     * routes the virtual IP to the balancer; the servers route the client's network through it.
     */
    Netns farClientBehindRouter(int mtu) throws IOException {
        Netns router = bridged.attach("rt", "10.88.0.1/24");
        Netns far = bridged.open("far");
        router.run("ip", "link", "add", "r-far", "type", "veth", "peer", "name", "eth0", "netns", far.name());
        router.run("ip", "addr", "add", "10.77.0.1/24", "dev", "r-far");
        router.run("ip", "link", "set", "r-far", "mtu", String.valueOf(mtu), "up");
        router.run("sysctl", "-qw", "net.ipv4.ip_forward=1");
        router.run("ip", "route", "add", VIP + "/32", "via", "10.88.0.10");
        far.run("ip", "link", "set", "lo", "up");
        far.run("ip", "addr", "add", "10.77.0.2/24", "dev", "eth0");
        far.run("ip", "link", "set", "eth0", "up");
        far.run("ip", "route", "add", "default", "via", "10.77.0.1");
        for (Netns server : servers) {
            server.run("ip", "route", "add", "10.77.0.0/24", "via", "10.88.0.1");
        }
        return far;
    }

    /**
     * Makes each server a DSR server ({@code fulcrum dsr-server-setup --apply}) and starts
     * {@code fulcrum demo-server} on its port 80 as s1..s3 (closed by {@code closer}); returns once
     * all listen.
     */
    void startServers(CloseAfterEach closer, List<String> jvm) throws IOException {
        String jar = System.getProperty("fulcrum.jar");
        String java = ProcessHandle.current().info().command().orElse("java");
        for (int i = 0; i < SERVERS.size(); i++) {
            Netns server = servers.get(i);
            server.run(java, "-jar", jar, "dsr-server-setup", "--vip", VIP, "--apply");
            String name = "s" + (i + 1);
            FulcrumProcess p = closer.add(FulcrumProcess.start("dsr-" + name, server.commandPrefix(), jvm,
                    "demo-server", "--port", "80", "--host", "0.0.0.0", "--name", name));
            p.awaitReady("listening on 80", () -> server.listening(80), Duration.ofSeconds(40));
        }
    }

    long balancerBytes() throws IOException {
        String rx = balancer.run("cat", "/sys/class/net/eth0/statistics/rx_bytes").strip();
        String tx = balancer.run("cat", "/sys/class/net/eth0/statistics/tx_bytes").strip();
        return Long.parseLong(rx) + Long.parseLong(tx);
    }

    @Override
    public void close() throws Exception {
        bridged.close();
    }
}
