package dev.fulcrum.server.ha;

import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.HaTopology;
import dev.fulcrum.server.testing.HaTopology.Node;
import dev.fulcrum.server.testing.KeepalivedProcess;
import dev.fulcrum.server.testing.Netns;
import dev.fulcrum.server.testing.Processes;
import dev.fulcrum.server.testing.VrrpStates;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.fulcrum.server.testing.HaTopology.Node.CLIENT;
import static dev.fulcrum.server.testing.HaTopology.Node.SERVER;

/**
 * One member of a VRRP group on a node of {@link HaTopology}, serving HTTP on {@code 0.0.0.0:80}
 * in front of the demo server: either Fulcrum with its own {@code ha} section, or keepalived
 * beside a Fulcrum that only proxies (the baseline). Either way {@link #crash()} kills everything
 * the member runs at once, as when the machine's balancer dies, and {@link #states()} reads the
 * states its notify program recorded.
 */
abstract sealed class HaMember permits HaMember.FulcrumMember, HaMember.KeepalivedMember {

    static final int VIRTUAL_ROUTER_ID = 51;
    static final int PORT = 80;
    static final int SERVER_PORT = 8080;
    /** Small, quick-starting JVMs: four of them share two cores with the test. */
    static final List<String> JVM = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    static final Duration START_BOUND = Duration.ofSeconds(40);

    /** Which VRRP implementation a member runs. */
    enum Kind {
        FULCRUM, KEEPALIVED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    final Node node;
    final String name;

    HaMember(Node node, String name) {
        this.node = node;
        this.name = name;
    }

    abstract Kind kind();

    abstract VrrpStates states();

    /** SIGKILL to every process of the member at once: no priority-0 advert, virtual IP left behind. */
    abstract void crash() throws InterruptedException;

    /** SIGTERM, the graceful stop (priority-0 advert first), bounded. */
    abstract void stop(Duration bound) throws InterruptedException;

    /**
     * Starts a member of {@code kind} on {@code node} with {@code priority}, everything registered
     * with {@code closer}, and waits until it serves HTTP on its own address.
     */
    static HaMember start(Kind kind, HaTopology topology, Node node, int priority, Duration advert, Path dir,
                          String name, CloseAfterEach closer) throws IOException {
        return start(kind, topology, node, new Options(priority, advert, List.of(), SERVER_PORT), dir, name, closer);
    }

    /**
     * What a member is started with: {@code unicastPeers} empty = multicast; {@code serverPort} of
     * the demo server on the server node that its pool uses.
     */
    record Options(int priority, Duration advert, List<Node> unicastPeers, int serverPort) {
    }

    static HaMember start(Kind kind, HaTopology topology, Node node, Options options, Path dir,
                          String name, CloseAfterEach closer) throws IOException {
        int priority = options.priority();
        Duration advert = options.advert();
        Path home = Files.createDirectories(dir.resolve(name));
        HaMember member;
        if (kind == Kind.FULCRUM) {
            Path notify = VrrpStates.notifyScript(home, "$1"); // Fulcrum: the state is the last argument
            FulcrumProcess fulcrum = closer.add(startFulcrum(topology, node, home, name, """
                    ha:
                      interface: %s
                      virtual-router-id: %d
                      priority: %d
                      advert-interval: %dms
                      virtual-ips: ["%s"]
                      unicast-peers: [%s]
                      notify: %s
                    """.formatted(HaTopology.INTERFACE, VIRTUAL_ROUTER_ID, priority, advert.toMillis(),
                    HaTopology.VIRTUAL_IP_CIDR, String.join(", ", options.unicastPeers().stream().map(Node::address)
                            .toList()), notify), options.serverPort()));
            member = new FulcrumMember(node, name, fulcrum, VrrpStates.in(name, home, fulcrum.process()::isAlive));
        } else {
            FulcrumProcess proxy = closer.add(startFulcrum(topology, node, home, name + "-proxy", "",
                    options.serverPort()));
            KeepalivedProcess.Config config = KeepalivedProcess.Config.of(VIRTUAL_ROUTER_ID, priority, advert);
            if (!options.unicastPeers().isEmpty()) {
                config = config.withUnicast(node.address(),
                        options.unicastPeers().stream().map(Node::address).toArray(String[]::new));
            }
            KeepalivedProcess keepalived = closer.add(KeepalivedProcess.start(topology.netns(node),
                    name + "-keepalived", config));
            member = new KeepalivedMember(node, name, proxy, keepalived);
        }
        member.proxy().awaitReady("serving on " + node.address(), () -> answers(topology, node), START_BOUND);
        return member;
    }

    abstract FulcrumProcess proxy();

    /** Fulcrum on {@code node}: port 80 to the demo server, then {@code more} (an {@code ha} section or nothing). */
    private static FulcrumProcess startFulcrum(HaTopology topology, Node node, Path home, String name, String more,
                                               int serverPort) throws IOException {
        Path config = home.resolve("fulcrum.yaml");
        Files.writeString(config, """
                name: %s
                listeners:
                  - name: web
                    listen: 0.0.0.0:%d
                    pool: app
                pools:
                  - name: app
                    servers:
                      - address: %s:%d
                    health-check:
                      interval: 500ms
                      timeout: 400ms
                """.formatted(node.label(), PORT, SERVER.address(), serverPort) + more);
        return FulcrumProcess.start(name, topology.netns(node).commandPrefix(), JVM, "run", "-c", config.toString());
    }

    /** Whether {@code node}'s Fulcrum answers 200 on the node's own address, asked from the client. */
    private static boolean answers(HaTopology topology, Node node) throws IOException {
        return topology.netns(CLIENT).exec(Duration.ofSeconds(5), List.of("curl", "-s", "-o", "/dev/null",
                "-w", "%{http_code}", "-m", "1", "http://" + node.address() + ":" + PORT + "/")).stdout().equals("200");
    }

    /** Fulcrum's own speaker: one process does VRRP and proxying. */
    static final class FulcrumMember extends HaMember {
        private final FulcrumProcess fulcrum;
        private final VrrpStates states;

        FulcrumMember(Node node, String name, FulcrumProcess fulcrum, VrrpStates states) {
            super(node, name);
            this.fulcrum = fulcrum;
            this.states = states;
        }

        @Override
        Kind kind() {
            return Kind.FULCRUM;
        }

        @Override
        VrrpStates states() {
            return states;
        }

        @Override
        FulcrumProcess proxy() {
            return fulcrum;
        }

        @Override
        void crash() throws InterruptedException {
            Processes.kill(fulcrum.process());
        }

        @Override
        void stop(Duration bound) throws InterruptedException {
            fulcrum.terminate(bound);
        }

        /** {@code GET http://127.0.0.1:9901PATH} inside the member's namespace (the admin API is private). */
        String admin(Netns ns, String path) throws IOException {
            return ns.run("curl", "-s", "-m", "2", "http://127.0.0.1:9901" + path);
        }
    }

    /** The baseline: keepalived does VRRP, a Fulcrum without {@code ha} proxies. */
    static final class KeepalivedMember extends HaMember {
        private final FulcrumProcess proxy;
        private final KeepalivedProcess keepalived;

        KeepalivedMember(Node node, String name, FulcrumProcess proxy, KeepalivedProcess keepalived) {
            super(node, name);
            this.proxy = proxy;
            this.keepalived = keepalived;
        }

        @Override
        Kind kind() {
            return Kind.KEEPALIVED;
        }

        @Override
        VrrpStates states() {
            return keepalived.states();
        }

        @Override
        FulcrumProcess proxy() {
            return proxy;
        }

        @Override
        void crash() throws InterruptedException {
            Processes.kill(keepalived.process(), proxy.process());
        }

        @Override
        void stop(Duration bound) throws InterruptedException {
            keepalived.terminate(bound); // priority 0 and the VIP dropped first, then the proxy
            proxy.terminate(bound);
        }
    }
}
