package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code provisioner.type: exec}: the user's programs start and stop servers. {@code scale-out}
 * runs with no argument added and must print the new server's {@code host:port} as the last line
 * of its stdout and exit 0; {@code scale-in} runs with {@code {address}} replaced by the server's
 * {@code host:port} and must exit 0. Both get {@code FULCRUM_POOL} in their environment, and both
 * are killed (SIGKILL, the program only, not what it started) when they run longer than the
 * timeout. Their stderr is appended to {@code <log dir>/<pool>-exec.log}.
 *
 * <p>Stdout goes through a temporary file rather than a pipe, so a program that starts a server
 * in the background (which inherits stdout) is done when it exits, not when the server stops.
 *
 * <p>Thread-safe.
 */
public final class ExecProvisioner implements Provisioner {

    private static final Logger log = LoggerFactory.getLogger(ExecProvisioner.class);
    /** How much of the end of scale-out's stdout is read. */
    private static final int MAX_OUTPUT = 64 * 1024;

    private final String pool;
    private final List<String> scaleOut;
    private final List<String> scaleIn;
    private final Path logDir;
    private final Duration timeout;
    private final Set<HostPort> started = ConcurrentHashMap.newKeySet();

    public ExecProvisioner(String pool, List<String> scaleOut, List<String> scaleIn, Path logDir, Duration timeout) {
        this.pool = pool;
        this.scaleOut = List.copyOf(scaleOut);
        this.scaleIn = List.copyOf(scaleIn);
        this.logDir = logDir;
        this.timeout = timeout;
    }

    @Override
    public HostPort provision() throws ProvisionException {
        String out = run(scaleOut, "scale-out");
        List<String> lines = out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (lines.isEmpty()) {
            throw new ProvisionException("scale-out printed no host:port");
        }
        HostPort address;
        try {
            address = HostPort.parse(lines.getLast());
        } catch (IllegalArgumentException e) {
            throw new ProvisionException("scale-out printed no host:port as its last line: " + e.getMessage());
        }
        started.add(address);
        return address;
    }

    @Override
    public void deprovision(HostPort address) throws ProvisionException {
        List<String> command = scaleIn.stream().map(a -> a.replace("{address}", address.toString())).toList();
        run(command, "scale-in");
        started.remove(address);
    }

    @Override
    public void release(HostPort address) {
        started.remove(address);
    }

    @Override
    public void close() {
        for (HostPort address : List.copyOf(started)) {
            try {
                deprovision(address);
            } catch (ProvisionException e) {
                log.warn("pool {}: could not stop {} on shutdown: {}", pool, address, e.getMessage());
            }
        }
    }

    /**
     * The end of the program's stdout, at most {@link #MAX_OUTPUT} bytes: only its last line
     * counts, and a program that prints without end must not fill the heap.
     */
    private static String tail(Path file) throws IOException {
        try (var channel = Files.newByteChannel(file)) {
            long size = channel.size();
            channel.position(Math.max(0, size - MAX_OUTPUT));
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) Math.min(size, MAX_OUTPUT));
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // read the tail whole
            }
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        }
    }

    private String run(List<String> command, String what) throws ProvisionException {
        Path stdout = null;
        try {
            Files.createDirectories(logDir);
            stdout = Files.createTempFile("fulcrum-" + what + "-", ".out");
            Path stderr = logDir.resolve(pool + "-exec.log");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(stdout.toFile())
                    .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().put("FULCRUM_POOL", pool);
            Process p = builder.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new ProvisionException(what + " did not finish within " + timeout.toMillis() + " ms; killed");
            }
            if (p.exitValue() != 0) {
                throw new ProvisionException(what + " exited with code " + p.exitValue() + "; see " + stderr);
            }
            return tail(stdout);
        } catch (IOException e) {
            throw new ProvisionException("cannot run " + what + " " + String.join(" ", command) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProvisionException(what + " interrupted");
        } finally {
            if (stdout != null) {
                try {
                    Files.deleteIfExists(stdout);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }
}
