package dev.fulcrum.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A Linux network namespace made for one test: created with {@code ip netns add}, {@code lo} up,
 * nothing else. Commands run in it through {@code ip netns exec NAME}, which execs the command, so
 * the {@link Process} of a long-running one is the program itself (its PID is the program's).
 *
 * <p>Names are made unique per run with {@link #uniquePrefix()} ({@code fx} + random), so parallel
 * or leftover runs never collide. {@link #close()} ends only the processes this object started
 * (by PID, with their descendants), fails if anything else is still running in the namespace (a
 * test forgot to close it), and deletes the namespace. Needs root: check
 * {@link #unavailableReason()} with {@code assumeTrue} first. Thread-safe.
 */
public final class Netns implements AutoCloseable {

    /** Output of one finished command. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** How long a short command ({@code ip ...}, {@code ss ...}) may take before it counts as hung. */
    public static final Duration COMMAND_BOUND = Duration.ofSeconds(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final Set<String> CREATED = ConcurrentHashMap.newKeySet();
    private static volatile Optional<String> unavailable;

    private final String name;
    private final List<Process> started = new CopyOnWriteArrayList<>();

    private Netns(String name) {
        this.name = name;
    }

    /**
     * Why network-namespace tests cannot run here — not Linux, not root, no {@code ip}, or
     * {@code ip netns add} fails (a container without CAP_SYS_ADMIN) — or empty when they can.
     * Tried once per JVM.
     */
    public static Optional<String> unavailableReason() {
        Optional<String> reason = unavailable;
        if (reason == null) {
            reason = probe();
            unavailable = reason;
        }
        return reason;
    }

    private static Optional<String> probe() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Optional.of("network namespaces need Linux, this is " + System.getProperty("os.name"));
        }
        try {
            Result id = host(COMMAND_BOUND, "id", "-u");
            if (!id.stdout().strip().equals("0")) {
                return Optional.of("network namespace tests need root; running as uid " + id.stdout().strip());
            }
            String probe = uniquePrefix() + "-probe";
            Result add = host(COMMAND_BOUND, "ip", "netns", "add", probe);
            if (!add.ok()) {
                return Optional.of("'ip netns add' fails: " + add.stderr().strip());
            }
            host(COMMAND_BOUND, "ip", "netns", "del", probe);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot run 'ip' (iproute2 missing?): " + e.getMessage());
        }
    }

    /** {@code fx} and 5 random characters: a namespace-name prefix no other run uses. */
    public static String uniquePrefix() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder s = new StringBuilder("fx");
        for (int i = 0; i < 5; i++) {
            s.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        }
        return s.toString();
    }

    /** {@code ip netns add NAME}, then {@code lo} up in it. */
    public static Netns create(String name) throws IOException {
        check(List.of("ip", "netns", "add", name), host(COMMAND_BOUND, "ip", "netns", "add", name));
        CREATED.add(name);
        return Closing.built(new Netns(name), ns -> ns.run("ip", "link", "set", "lo", "up"));
    }

    /**
     * Namespaces this JVM created and that {@code ip netns list} still shows: empty after every
     * test closed what it opened.
     */
    public static List<String> leftovers() throws IOException {
        Result list = host(COMMAND_BOUND, "ip", "netns", "list");
        return Arrays.stream(list.stdout().split("\n"))
                .map(line -> line.split(" ", 2)[0].strip())
                .filter(CREATED::contains)
                .toList();
    }

    public String name() {
        return name;
    }

    /** {@code ip netns exec NAME}: put it before a command to run the command in this namespace. */
    public List<String> commandPrefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs {@code command} in the namespace; its stdout, or an exception with exit code and stderr. */
    public String run(String... command) throws IOException {
        return run(List.of(command));
    }

    /** Runs {@code command} in the namespace; its stdout, or an exception with exit code and stderr. */
    public String run(List<String> command) throws IOException {
        return check(command, exec(COMMAND_BOUND, command));
    }

    /** Runs {@code command} in the namespace and returns what happened, whatever the exit code. */
    public Result exec(Duration bound, List<String> command) throws IOException {
        return host(bound, inside(command));
    }

    /**
     * Starts a long-running {@code command} in the namespace, stdout and stderr in
     * {@code target/it-logs/LOGNAME.log}. It is ended (SIGTERM, then SIGKILL) by {@link #close()}
     * unless ended before, by {@link Processes} or by itself.
     */
    public Process start(String logName, List<String> command) throws IOException {
        Process process = new ProcessBuilder(inside(command)).redirectErrorStream(true)
                .redirectOutput(ItLogs.file(logName).toFile()).start();
        started.add(process);
        return process;
    }

    /** Whether something in the namespace listens on TCP {@code port} (any address). */
    public boolean listening(int port) throws IOException {
        return !run("ss", "-Hltn", "sport = :" + port).isBlank();
    }

    private List<String> inside(List<String> command) {
        List<String> full = new ArrayList<>(commandPrefix());
        full.addAll(command);
        return full;
    }

    /**
     * Runs {@code command} in the root namespace (no prefix) and waits up to {@code bound};
     * a command still running then is killed and reported as an {@link IOException}.
     */
    public static Result host(Duration bound, String... command) throws IOException {
        return host(bound, List.of(command));
    }

    private static Result host(Duration bound, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                Processes.kill(p);
                throw new IOException(String.join(" ", command) + " did not finish within " + bound);
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, Thread::startVirtualThread);
    }

    private static String check(List<String> command, Result result) throws IOException {
        if (!result.ok()) {
            throw new IOException(String.join(" ", command) + " exited with " + result.exitCode() + ": "
                    + (result.stderr().isBlank() ? result.stdout() : result.stderr()).strip());
        }
        return result.stdout();
    }

    /**
     * Ends the processes started here (by PID), then deletes the namespace. Fails — after deleting
     * it — when other processes were still running in it: the test leaked them.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        for (Process p : started.reversed()) {
            Processes.stop(p, STOP_GRACE);
        }
        started.clear();
        Result pids = host(COMMAND_BOUND, "ip", "netns", "pids", name);
        String leaked = pids.ok() ? pids.stdout().strip() : "";
        String leakedCommands = leaked.isEmpty() ? "" : describe(leaked);
        Result del = host(COMMAND_BOUND, "ip", "netns", "del", name);
        if (!del.ok() && Files.exists(Path.of("/run/netns", name))) {
            throw new IOException("ip netns del " + name + " failed: " + del.stderr().strip());
        }
        CREATED.remove(name);
        if (!leaked.isEmpty()) {
            throw new IllegalStateException("processes still running in namespace " + name
                    + " when it was closed (close them before the namespace): " + leakedCommands);
        }
    }

    private static String describe(String pids) {
        return Arrays.stream(pids.split("\\s+"))
                .map(pid -> pid + " " + ProcessHandle.of(Long.parseLong(pid))
                        .flatMap(h -> h.info().commandLine()).orElse("?"))
                .reduce((a, b) -> a + "; " + b).orElse("");
    }

    @Override
    public String toString() {
        return name;
    }
}
