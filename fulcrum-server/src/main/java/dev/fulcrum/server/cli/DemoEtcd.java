package dev.fulcrum.server.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The etcd cluster of {@code fulcrum demo --cluster}: 3 members ({@code etcd} from the PATH, Debian
 * {@code etcd-server}) on loopback ports the kernel hands out (never a port the demo's listeners,
 * admin APIs or servers use, nor etcd's usual 2379/2380, where a system etcd may run), data in a
 * directory of the caller's, output in {@code <log dir>/etcd-eN.log}. {@link #start} returns once
 * every member reports itself healthy (a leader elected); {@link #close()} stops them by PID.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
final class DemoEtcd implements AutoCloseable {

    static final int MEMBERS = 3;
    private static final long READY_TIMEOUT_MS = 30_000;

    private final DemoChildren children = new DemoChildren();
    private final List<Integer> clientPorts;
    private final List<Integer> peerPorts;

    private DemoEtcd(List<Integer> clientPorts, List<Integer> peerPorts) {
        this.clientPorts = clientPorts;
        this.peerPorts = peerPorts;
    }

    /**
     * The {@code etcd} binary on the PATH.
     *
     * @throws IllegalStateException one line saying what to install
     */
    static Path binary() {
        return onPath("etcd").orElseThrow(() -> new IllegalStateException(
                "demo --cluster needs an etcd binary on the PATH: install etcd (Debian/Ubuntu: apt-get install"
                        + " etcd-server; others: https://etcd.io/docs/latest/install/)"));
    }

    static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Optional.of(Path.of(dir, name));
            }
        }
        return Optional.empty();
    }

    /**
     * Starts the members and waits until each is healthy.
     *
     * @param avoid ports the demo's other parts use
     * @throws IllegalStateException one line naming a member that exited or did not become healthy,
     *                               and its log; the members already started are stopped
     */
    static DemoEtcd start(Path etcd, Path dataDir, Path logDir, Set<Integer> avoid) {
        List<Integer> ports = freePorts(2 * MEMBERS, avoid);
        DemoEtcd cluster = new DemoEtcd(ports.subList(0, MEMBERS), ports.subList(MEMBERS, 2 * MEMBERS));
        try {
            Files.createDirectories(logDir);
            List<String> peers = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                peers.add(name(i) + "=" + cluster.peerUrl(i));
            }
            List<DemoChildren.Child> members = new ArrayList<>();
            for (int i = 0; i < MEMBERS; i++) {
                String client = cluster.endpoints().get(i);
                members.add(cluster.children.spawn("etcd member " + name(i), List.of(etcd.toString(),
                        "--name", name(i), "--data-dir", dataDir.resolve(name(i)).toString(),
                        "--listen-client-urls", client, "--advertise-client-urls", client,
                        "--listen-peer-urls", cluster.peerUrl(i), "--initial-advertise-peer-urls", cluster.peerUrl(i),
                        "--initial-cluster", String.join(",", peers), "--initial-cluster-state", "new",
                        "--initial-cluster-token", "fulcrum-demo-" + ProcessHandle.current().pid()),
                        logDir.resolve("etcd-" + name(i) + ".log")));
            }
            try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build()) {
                for (int i = 0; i < MEMBERS; i++) {
                    // healthy: this member sees a leader
                    DemoChildren.awaitAnswer(members.get(i), http, URI.create(cluster.endpoints().get(i) + "/health"),
                            (status, body) -> status == 200 && body.replace(" ", "").contains("\"health\":\"true\""),
                            "healthy", READY_TIMEOUT_MS);
                }
            }
            return cluster;
        } catch (IOException e) {
            cluster.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private static String name(int i) {
        return "e" + (i + 1);
    }

    /** The client URLs, one per member, as a {@code cluster.etcd} list wants them. */
    List<String> endpoints() {
        return clientPorts.stream().map(p -> "http://127.0.0.1:" + p).toList();
    }

    List<Integer> peerPorts() {
        return peerPorts;
    }

    List<Long> pids() {
        return children.pids();
    }

    private String peerUrl(int i) {
        return "http://127.0.0.1:" + peerPorts.get(i);
    }

    /**
     * {@code count} distinct free loopback ports, none in {@code avoid}: all are held open until
     * all are picked, so the kernel never hands out one twice.
     */
    private static List<Integer> freePorts(int count, Set<Integer> avoid) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int attempt = 0; ports.size() < count && attempt < 100; attempt++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(socket);
                if (!avoid.contains(socket.getLocalPort())) {
                    ports.add(socket.getLocalPort());
                }
            }
            if (ports.size() < count) {
                throw new IllegalStateException("no " + count + " free loopback ports for etcd");
            }
            return List.copyOf(ports);
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port for etcd: " + e.getMessage(), e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a listening socket nobody connected to: nothing to do
                }
            }
        }
    }

    /** The demo is stopping ({@link DemoChildren#stopping}). */
    void stopping() {
        children.stopping();
    }

    /**
     * SIGKILL to every member: etcd is crash-safe and its data directory is removed next, while a
     * SIGTERM to members that lost their quorum can take seconds of elections before they exit.
     */
    @Override
    public void close() {
        children.kill();
    }
}
