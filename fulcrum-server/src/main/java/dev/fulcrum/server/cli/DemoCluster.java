package dev.fulcrum.server.cli;

import dev.fulcrum.core.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * {@code fulcrum demo --cluster} (spec cluster.md): the cluster on one machine. Starts the 3 demo
 * servers, 3 etcd members ({@link DemoEtcd}), pushes the shared config (listener {@code web} in
 * front of pool {@code app} of the demo servers, round-robin, health checks every second, alerts
 * logged) as {@code fulcrum cluster push} does, then 3 nodes lb-1..lb-3, each a child process
 * running {@code fulcrum run -c lb-N.yaml} as an operator would (listeners on {@code --port} and
 * the next two, admin APIs on {@code --admin-port} and the next two). Config files, etcd's data
 * and the nodes' state dirs live in a temporary directory removed on exit; every child's output
 * goes to {@code demo-logs/}. Ctrl-C (or SIGTERM), and a failure while starting, stop every
 * process it started: nodes first (they leave the member list at once), then etcd, then the demo
 * servers. Without an {@code etcd} binary it starts nothing and fails with one line saying what to
 * install.
 *
 * <p>A class of its own so that the plain demo never loads jetcd (start-up time).
 */
final class DemoCluster {

    private static final Logger log = LoggerFactory.getLogger(DemoCluster.class);

    static final int NODES = 3;
    private static final long NODE_READY_TIMEOUT_MS = 90_000;
    /** The nodes' JVM: a balancer for a demo's traffic, with jetcd (gRPC) on board. */
    private static final List<String> NODE_JVM = List.of("-Xms32m", "-Xmx192m", "-XX:+UseSerialGC",
            "--sun-misc-unsafe-memory-access=allow");

    private final int port;
    private final int adminPort;
    private final List<Integer> serverPorts;
    private final Path logDir;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    private final DemoChildren nodes = new DemoChildren();
    private volatile Path dir;
    private volatile DemoBackends backends;
    private volatile DemoEtcd etcd;
    /** lb-1..lb-3 once all serve. */
    private List<DemoChildren.Child> nodeProcesses = List.of();

    private DemoCluster(int port, int adminPort, List<Integer> serverPorts, Path logDir) {
        this.port = port;
        this.adminPort = adminPort;
        this.serverPorts = serverPorts;
        this.logDir = logDir;
    }

    /** Runs the demo until Ctrl-C or SIGTERM; 0 then. Throws (one line, exit 1) when it cannot start. */
    static int run(int port, int adminPort, List<Integer> serverPorts, Path logDir) {
        Path etcdBinary = DemoEtcd.binary(); // before anything starts
        return new DemoCluster(port, adminPort, serverPorts, logDir).run(etcdBinary);
    }

    private int run(Path etcdBinary) {
        for (int i = 0; i < NODES; i++) {
            DemoChildren.checkFree(port + i, "node " + node(i) + "'s listener");
            DemoChildren.checkFree(adminPort + i, "node " + node(i) + "'s admin API");
        }
        // Safety net for exits that bypass the signal path (System.exit elsewhere).
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "demo-cluster-stop"));
        StopSignals.onStop(() -> {
            System.out.println("stopping the demo (Ctrl-C again to exit now)");
            stop();
        });
        try {
            dir = Files.createTempDirectory("fulcrum-demo-cluster-");
            backends = DemoBackends.start(serverPorts, logDir);
            if (!stopped.get()) {
                Set<Integer> taken = new HashSet<>(serverPorts);
                IntStream.range(0, NODES).forEach(i -> {
                    taken.add(port + i);
                    taken.add(adminPort + i);
                });
                etcd = DemoEtcd.start(etcdBinary, dir.resolve("etcd"), logDir, taken);
            }
            if (!stopped.get()) {
                push();
                startNodes();
            }
        } catch (IOException | RuntimeException e) {
            if (!stopped.get()) {
                stop();
                throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
            }
            // Ctrl-C while starting: what failed was stopped under its feet
        }
        if (stopped.get()) {
            // a part assigned after the stop thread looked is closed here (closing twice is harmless)
            closeAll();
            return 0;
        }
        System.out.println(welcome());
        DemoCommand.awaitUninterruptibly(done);
        return 0;
    }

    private static String node(int i) {
        return "lb-" + (i + 1);
    }

    private Path nodeFile(int i) {
        return dir.resolve(node(i) + ".yaml");
    }

    /** Writes {@code shared.yaml} and pushes it as {@code fulcrum cluster push} does (it prints the revision). */
    private void push() throws IOException {
        ClusterPushCommand push = new ClusterPushCommand();
        push.config = Files.writeString(dir.resolve("shared.yaml"), sharedYaml(etcd.endpoints(), port,
                backends.addresses()));
        int exit = push.call();
        if (exit != 0) {
            throw new IllegalStateException("could not push the demo's shared config to etcd (exit " + exit + ")");
        }
    }

    /** The shared part: listener web, pool app of the demo servers, alerts to the nodes' logs. */
    static String sharedYaml(List<String> endpoints, int port, List<HostPort> servers) {
        return """
                # fulcrum demo --cluster: the shared part, pushed to etcd (fulcrum cluster push -c THIS_FILE)
                name: demo-cluster
                cluster:
                  etcd: %s
                listeners:
                  - {name: web, listen: 127.0.0.1:%d, pool: app}
                pools:
                  - name: app
                    algorithm: round-robin
                    health-check: {type: http, path: /health, interval: 1s, timeout: 500ms, rise: 2, fall: 2}
                    servers:
                %s
                alerts:
                  - type: log
                """.formatted(yamlList(endpoints), port, servers.stream()
                .map(s -> "      - {address: " + s + "}").collect(Collectors.joining("\n")));
    }

    /** Node lb-N's own part: its name, admin API, listener address, and where etcd is. */
    static String nodeYaml(String name, int adminPort, int listenPort, List<String> endpoints, Path stateDir) {
        return """
                # fulcrum demo --cluster: node %1$s's own part (fulcrum run -c THIS_FILE)
                name: %1$s
                admin: {listen: 127.0.0.1:%2$d}
                cluster:
                  etcd: %3$s
                  lease-ttl: 5s
                  state-dir: %4$s
                listeners:
                  - {name: web, listen: 127.0.0.1:%5$d}
                """.formatted(name, adminPort, yamlList(endpoints), stateDir, listenPort);
    }

    private static String yamlList(List<String> items) {
        return items.stream().map(e -> "\"" + e + "\"").collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * Starts lb-1..lb-3 together and waits until each serves and shows its cluster view. A node that
     * exits while starting is started once more (seen once, with the machine's load average near
     * 19: lb-3 exited 1 mid-start, its log lost; a node whose first etcd read misses the 2 s
     * deadline has no saved state to start from, for one); a second failure ends the demo.
     */
    private void startNodes() throws IOException {
        List<DemoChildren.Child> started = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            Files.writeString(nodeFile(i), nodeYaml(node(i), adminPort + i, port + i, etcd.endpoints(),
                    dir.resolve("state-" + node(i))));
            started.add(spawnNode(i, false));
        }
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build()) {
            for (int i = 0; i < NODES; i++) {
                try {
                    awaitNode(http, started.get(i), i);
                } catch (IllegalStateException e) {
                    if (started.get(i).process().isAlive() || stopped.get()) {
                        throw e;
                    }
                    log.warn("{}; starting it once more", e.getMessage());
                    started.set(i, spawnNode(i, true));
                    awaitNode(http, started.get(i), i);
                }
            }
        }
        nodeProcesses = List.copyOf(started);
    }

    private DemoChildren.Child spawnNode(int i, boolean again) throws IOException {
        return nodes.spawn("node " + node(i), DemoChildren.fulcrum(NODE_JVM, "run", "-c", nodeFile(i).toString()),
                logDir.resolve(node(i) + ".log"), again);
    }

    private void awaitNode(HttpClient http, DemoChildren.Child node, int i) {
        DemoChildren.awaitListening(node, port + i, NODE_READY_TIMEOUT_MS);
        DemoChildren.awaitListening(node, adminPort + i, NODE_READY_TIMEOUT_MS);
        // the cluster view is attached right after the listeners bind: the banner waits for it
        DemoChildren.awaitAnswer(node, http, URI.create("http://127.0.0.1:" + (adminPort + i) + "/api/v1/cluster"),
                (status, body) -> status == 200, "showing its cluster view", 10_000);
    }

    /**
     * Stops everything started, once; a second caller returns when the first has finished.
     */
    private void stop() {
        if (!stopped.compareAndSet(false, true)) {
            DemoCommand.awaitUninterruptibly(done);
            return;
        }
        try {
            closeAll();
        } finally {
            done.countDown();
        }
    }

    /**
     * The nodes first (each leaves the member list while etcd is still there), then etcd, then the
     * demo servers; then the temporary directory. Idempotent, as each part's close is.
     */
    private synchronized void closeAll() {
        DemoEtcd e = etcd;
        DemoBackends b = backends;
        nodes.stopping();
        if (e != null) {
            e.stopping();
        }
        if (b != null) {
            b.stopping();
        }
        nodes.close();
        if (e != null) {
            e.close();
        }
        if (b != null) {
            b.close();
        }
        deleteDir();
    }

    private void deleteDir() {
        Path d = dir;
        if (d == null) {
            return;
        }
        try (Stream<Path> all = Files.walk(d)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("fulcrum: could not remove " + d + ": " + e.getMessage());
        }
    }

    private String welcome() {
        StringBuilder nodeLines = new StringBuilder();
        for (int i = 0; i < NODES; i++) {
            nodeLines.append("  %-6s listener http://127.0.0.1:%d/   dashboard http://127.0.0.1:%d/   log %s%n"
                    .formatted(node(i), port + i, adminPort + i, logDir.resolve(node(i) + ".log")));
        }
        String servers = backends.addresses().stream().map(a -> "http://" + a + "/").collect(Collectors.joining("  "));
        String etcdPorts = "client " + etcd.endpoints().stream().map(u -> u.substring(u.lastIndexOf(':') + 1))
                .collect(Collectors.joining(", ")) + "; peer " + etcd.peerPorts().stream().map(String::valueOf)
                .collect(Collectors.joining(", "));
        return """

                Fulcrum cluster demo is running: 3 etcd members, 3 nodes, 3 demo servers. Ctrl-C stops everything it started.

                %1$s
                  etcd           127.0.0.1 ports %2$s   (data removed on exit; logs %3$s/etcd-eN.log)
                  demo servers   %4$s
                  shared config  %5$s   (listener web -> pool app, round-robin; edit, then fulcrum cluster push -c it)
                  node files     %6$s/lb-N.yaml

                Try:
                  for i in 1 2 3; do for p in %7$d %8$d %9$d; do curl -s 127.0.0.1:$p/; done; done   # each node rotates over the servers
                  curl -s 127.0.0.1:%10$d/api/v1/cluster                        # members, applied revisions, the auto-scaling leader
                  fulcrum cluster status -c %6$s/lb-1.yaml
                  curl -X POST -H 'Content-Type: application/json' -d '{"address":"127.0.0.1:9104"}' 127.0.0.1:%10$d/api/v1/pools/app/servers
                  curl -s 127.0.0.1:%11$d/api/v1/pools/app/servers              # added through lb-1, served by lb-3 too
                  kill %12$d                                                   # node lb-2 stops: it leaves the member list
                """.formatted(nodeLines.toString().stripTrailing(), etcdPorts, logDir, servers,
                dir.resolve("shared.yaml"), dir, port, port + 1, port + 2, adminPort, adminPort + 2,
                nodeProcesses.get(1).process().pid());
    }
}
