package dev.fulcrum.server.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * A group of the demo's child processes (demo servers, etcd members, cluster nodes), each with a
 * label for messages and its output in a log file. A child that exits while the demo is not
 * stopping is reported: a warning, or an info line when a signal stopped it (Ctrl-C in a terminal
 * signals the whole process group, so children may exit before the demo's own handler runs).
 * {@link #close()} stops them by PID: SIGTERM, then SIGKILL after a bound.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
final class DemoChildren implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DemoChildren.class);
    private static final long STOP_TIMEOUT_MS = 5_000;

    /** One child: its label in messages ("demo server 9101"), its process and its log file. */
    record Child(String label, Process process, Path logFile) {
    }

    private final List<Child> children = new ArrayList<>();
    private volatile boolean closing;

    /**
     * The command that runs this same Fulcrum ({@code java -cp <this jar> Main ARGS}) with
     * {@code jvmOptions}, as the demo's servers and nodes are run.
     */
    static List<String> fulcrum(List<String> jvmOptions, String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** Starts {@code command} with stdout and stderr to {@code logFile}, which it empties first. */
    Child spawn(String label, List<String> command, Path logFile) throws IOException {
        return spawn(label, command, logFile, false);
    }

    /**
     * Starts {@code command} with stdout and stderr to {@code logFile}; {@code append}: after what the
     * file has (a child started again keeps its first try's output).
     */
    synchronized Child spawn(String label, List<String> command, Path logFile, boolean append) throws IOException {
        if (closing) {
            throw new IllegalStateException("the demo is stopping");
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(logFile.toFile())
                        : ProcessBuilder.Redirect.to(logFile.toFile())).start();
        Child child = new Child(label, process, logFile);
        children.add(child);
        process.onExit().thenAccept(p -> {
            if (closing) {
                return; // the demo stopped it
            }
            if (stoppedBySignal(p.exitValue())) {
                log.info("{} (pid {}) stopped by a signal", label, p.pid());
            } else {
                log.warn("{} (pid {}) exited with code {}; see {}", label, p.pid(), p.exitValue(), logFile);
            }
        });
        return child;
    }

    /** The PIDs of the children started so far, in start order. */
    synchronized List<Long> pids() {
        return children.stream().map(c -> c.process().pid()).toList();
    }

    /**
     * Whether a child's exit code means someone stopped it with SIGINT or SIGTERM: 0 after its
     * graceful stop, 128 + the signal (130, 143) when the signal came before its handler was set.
     * Anything else (an error, SIGKILL's 137) is a death of its own.
     */
    static boolean stoppedBySignal(int exitCode) {
        return exitCode == 0 || exitCode == 128 + 2 || exitCode == 128 + 15;
    }

    /**
     * Fails unless 127.0.0.1:{@code port} is free: a port taken by another program would make a
     * readiness check pass for the wrong server.
     *
     * @throws IllegalStateException one line naming the port and what it was for
     */
    static void checkFree(int port, String what) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new IllegalStateException("port 127.0.0.1:" + port + " for " + what + " is in use");
        }
    }

    /**
     * Waits until {@code child} accepts connections on 127.0.0.1:{@code port}.
     *
     * @throws IllegalStateException one line naming the child and its log, when it exits or does
     *                               not listen within {@code timeoutMs}
     */
    static void awaitListening(Child child, int port, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                checkAlive(child);
                pause(child);
            }
        }
        throw new IllegalStateException(child.label() + " did not listen on " + port + " within " + timeoutMs
                + " ms; see " + child.logFile());
    }

    /**
     * Polls {@code GET uri} until {@code ready} accepts the answer's status and body.
     *
     * @throws IllegalStateException one line naming the child, what it was not, and its log, when it
     *                               exits or is not {@code what} within {@code timeoutMs}
     */
    static void awaitAnswer(Child child, HttpClient http, URI uri, BiPredicate<Integer, String> ready, String what,
                            long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(1)).build();
        while (System.nanoTime() < deadline) {
            checkAlive(child);
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (ready.test(r.statusCode(), r.body())) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting " + child.label());
            }
            pause(child);
        }
        throw new IllegalStateException(child.label() + " was not " + what + " within " + timeoutMs + " ms; see "
                + child.logFile());
    }

    /** @throws IllegalStateException one line naming the child, its exit code and its log, once it exited */
    static void checkAlive(Child child) {
        if (!child.process().isAlive()) {
            throw new IllegalStateException(child.label() + " exited with code " + child.process().exitValue()
                    + lastLine(child.logFile()).map(line -> " (" + line + ")").orElse("") + "; see " + child.logFile());
        }
    }

    /** The last non-blank line of a child's log (its last 2 KB, cut to 300 characters): why it exited, mostly. */
    static Optional<String> lastLine(Path logFile) {
        try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
            long from = Math.max(0, file.length() - 2048);
            byte[] tail = new byte[(int) (file.length() - from)];
            file.seek(from);
            file.readFully(tail);
            List<String> lines = new String(tail, StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            String line = lines.getLast().replaceAll("\\p{Cntrl}", "?");
            return Optional.of(line.length() > 300 ? line.substring(0, 300) + "…" : line);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The poll interval of the readiness checks while a child starts. */
    private static void pause(Child child) {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + child.label());
        }
    }

    /**
     * The demo is stopping: from now on a child's exit is expected and not logged (on Ctrl-C the
     * terminal signals them too, so they may exit while the demo stops the rest).
     */
    void stopping() {
        closing = true;
    }

    /** SIGTERM to every child, then SIGKILL to those still alive after 5 s. */
    @Override
    public void close() {
        stop(false);
    }

    /** SIGKILL to every child at once, for crash-safe programs whose data goes anyway (etcd's). */
    void kill() {
        stop(true);
    }

    private synchronized void stop(boolean now) {
        closing = true;
        children.forEach(c -> {
            if (now) {
                c.process().destroyForcibly();
            } else {
                c.process().destroy();
            }
        });
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MS);
        for (Child c : children) {
            Process p = c.process();
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
