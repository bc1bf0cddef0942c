package dev.fulcrum.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A real {@code fulcrum} process started from the shaded jar (system property {@code fulcrum.jar},
 * set by failsafe), with its output in {@code target/it-logs/NAME.log}. It may run under a command
 * prefix, such as {@link Netns#commandPrefix()} to run it in a network namespace. Closing it sends
 * SIGTERM and then SIGKILL after a bound, so no test leaves a process behind.
 */
public final class FulcrumProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;

    private FulcrumProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code java JVM_ARGS -jar fulcrum.jar ARGS}. */
    public static FulcrumProcess start(String name, List<String> jvmArgs, String... args) throws IOException {
        return start(name, List.of(), jvmArgs, args);
    }

    /**
     * Starts {@code PREFIX... java JVM_ARGS -jar fulcrum.jar ARGS}; the prefix must exec the
     * command (as {@code ip netns exec} does) so that {@link #pid()} is Fulcrum's own.
     */
    public static FulcrumProcess start(String name, List<String> commandPrefix, List<String> jvmArgs, String... args)
            throws IOException {
        String jar = System.getProperty("fulcrum.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("system property fulcrum.jar does not point at the shaded jar: " + jar);
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(commandPrefix);
        command.add(java);
        command.addAll(jvmArgs);
        command.add("-jar");
        command.add(jar);
        command.addAll(List.of(args));
        Path log = ItLogs.file(name);
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        return new FulcrumProcess(name, process, log);
    }

    /** Starts {@code fulcrum demo-server --port PORT --name NAME} and waits until it accepts. */
    public static FulcrumProcess demoServer(int port, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("demo-server", "--port", Integer.toString(port)));
        args.addAll(List.of(extra));
        FulcrumProcess p = start("demo-server-" + port, List.of("-Xmx128m"), args.toArray(String[]::new));
        p.awaitPort(port, Duration.ofSeconds(20));
        return p;
    }

    /** Waits until 127.0.0.1:port accepts connections, failing early if the process died. */
    public FulcrumProcess awaitPort(int port, Duration bound) {
        return awaitReady("listening on " + port, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        }, bound);
    }

    /**
     * Waits until {@code ready} holds — say {@code () -> netns.listening(80)} for a process in a
     * namespace, where 127.0.0.1 is not the test's — failing early if the process died.
     */
    public FulcrumProcess awaitReady(String what, Callable<Boolean> ready, Duration bound) {
        await(name + " " + what).atMost(bound).pollInterval(Duration.ofMillis(50)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ": " + output());
            }
            return ready.call();
        });
        return this;
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** Everything the process printed so far. */
    public String output() {
        return ItLogs.read(log);
    }

    /** SIGKILL, as a crash would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then waits up to {@code bound} for the exit code. */
    public int terminate(Duration bound) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new IllegalStateException(name + " did not stop within " + bound + " after SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
