package dev.fulcrum.server.cli;

import dev.fulcrum.core.HostPort;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's backend servers: one child process per port, running
 * {@code java -cp <this jar> dev.fulcrum.server.cli.Main demo-server --port N}, each with its
 * output in {@code <log dir>/N.log}. {@link #start} returns once every server accepts connections;
 * {@link #close()} stops them by PID ({@link DemoChildren}).
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
final class DemoBackends implements AutoCloseable {

    private static final long READY_TIMEOUT_MS = 20_000;
    /** The demo servers' JVM: small, they only answer the demo's traffic. */
    static final List<String> JVM = List.of("-Xms32m", "-Xmx128m", "-XX:+UseSerialGC");

    private final DemoChildren children = new DemoChildren();
    private final List<HostPort> addresses = new ArrayList<>();

    private DemoBackends() {
    }

    /**
     * Starts one demo server per port on 127.0.0.1 and waits until all accept connections.
     *
     * @throws IllegalStateException with one line naming the port and its log file when a server
     *                               cannot start; the ones already started are stopped
     */
    static DemoBackends start(List<Integer> ports, Path logDir) {
        DemoBackends backends = new DemoBackends();
        try {
            Files.createDirectories(logDir);
            for (int port : ports) {
                DemoChildren.checkFree(port, "a demo server");
            }
            List<DemoChildren.Child> started = new ArrayList<>();
            for (int port : ports) {
                started.add(backends.children.spawn("demo server " + port,
                        DemoChildren.fulcrum(JVM, "demo-server", "--port", Integer.toString(port)),
                        logDir.resolve(port + ".log")));
                backends.addresses.add(new HostPort("127.0.0.1", port));
            }
            for (int i = 0; i < ports.size(); i++) {
                DemoChildren.awaitListening(started.get(i), ports.get(i), READY_TIMEOUT_MS);
            }
            return backends;
        } catch (IOException e) {
            backends.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            backends.close();
            throw e;
        }
    }

    List<HostPort> addresses() {
        return List.copyOf(addresses);
    }

    /** The demo is stopping: a demo server's exit is expected from now on ({@link DemoChildren#stopping}). */
    void stopping() {
        children.stopping();
    }

    @Override
    public void close() {
        children.close();
    }
}
