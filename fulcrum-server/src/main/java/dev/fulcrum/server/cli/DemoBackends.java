package dev.fulcrum.server.cli;

import dev.fulcrum.core.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's backend servers: one child process per port, running
 * {@code java -cp <this jar> dev.fulcrum.server.cli.Main demo-server --port N}, each with its
 * output in {@code <log dir>/N.log}. {@link #start} returns once every server accepts connections;
 * {@link #close()} stops them by PID (SIGTERM, then SIGKILL after a bound).
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
final class DemoBackends implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DemoBackends.class);
    private static final long READY_TIMEOUT_MS = 20_000;
    private static final long STOP_TIMEOUT_MS = 5_000;

    private final List<Process> processes = new ArrayList<>();
    private final List<HostPort> addresses = new ArrayList<>();
    private volatile boolean closing;

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
                checkFree(port);
            }
            for (int port : ports) {
                backends.spawn(port, logDir.resolve(port + ".log"));
            }
            for (int i = 0; i < ports.size(); i++) {
                awaitListening(backends.processes.get(i), ports.get(i), logDir.resolve(ports.get(i) + ".log"));
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

    private void spawn(int port, Path logFile) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder builder = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "demo-server", "--port", Integer.toString(port))
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        Process process = builder.start();
        processes.add(process);
        addresses.add(new HostPort("127.0.0.1", port));
        process.onExit().thenAccept(p -> {
            if (closing) {
                return; // the demo stopped it
            }
            if (stoppedBySignal(p.exitValue())) {
                // Ctrl-C in a terminal signals the whole process group: the demo servers may exit
                // before the demo's own handler runs and sets closing. Expected, so not a warning.
                log.info("demo server {} (pid {}) stopped by a signal", port, p.pid());
            } else {
                log.warn("demo server {} (pid {}) exited with code {}; see {}", port, p.pid(), p.exitValue(), logFile);
            }
        });
    }

    /**
     * Whether a demo server's exit code means someone stopped it with SIGINT or SIGTERM: 0 after its
     * graceful stop, 128 + the signal (130, 143) when the signal came before its handler was set.
     * Anything else (an error, SIGKILL's 137) is a death of its own.
     */
    static boolean stoppedBySignal(int exitCode) {
        return exitCode == 0 || exitCode == 128 + 2 || exitCode == 128 + 15;
    }

    /** A port taken by another program would make the readiness check below pass for the wrong server. */
    private static void checkFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new IllegalStateException("port 127.0.0.1:" + port + " for a demo server is in use");
        }
    }

    private static void awaitListening(Process process, int port, Path logFile) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("demo server " + port + " exited with code " + process.exitValue()
                        + "; see " + logFile);
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(50); // poll interval while the child JVM starts
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting demo server " + port);
                }
            }
        }
        throw new IllegalStateException("demo server " + port + " did not listen within " + READY_TIMEOUT_MS
                + " ms; see " + logFile);
    }

    /**
     * The demo is stopping: from now on a demo server's exit is expected and not logged (on Ctrl-C
     * the terminal signals them too, so they may exit while the load balancer drains).
     */
    void stopping() {
        closing = true;
    }

    /** SIGTERM to every child, then SIGKILL to those still alive after 5 s. */
    @Override
    public synchronized void close() {
        closing = true;
        processes.forEach(Process::destroy);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MS);
        for (Process p : processes) {
            try {
                long left = deadline - System.nanoTime();
                if (!p.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly().waitFor(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
