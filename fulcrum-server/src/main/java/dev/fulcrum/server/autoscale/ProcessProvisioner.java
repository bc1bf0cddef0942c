package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code provisioner.type: process}: each new server is a child process running {@code command}
 * with {@code {port}} replaced by a port from {@code ports}, listening on 127.0.0.1. A port is
 * never reused while a server of ours holds it, and a port another program holds is skipped.
 * The child's output (stdout and stderr) goes to {@code <log dir>/<pool>-<port>.log}; Fulcrum
 * uses {@code autoscale-logs/} in its working directory.
 *
 * <p>{@link #provision()} returns once the new server accepts connections on its port (bounded by
 * the start timeout), so a command that cannot start is a provisioning failure, not a server stuck
 * in {@code checking}. Stopping is SIGTERM, then SIGKILL after the stop timeout. Servers still
 * running when Fulcrum stops are stopped by {@link #close()}; a Fulcrum killed with SIGKILL cannot
 * do that, and leaves them running. In a cluster (all of whose nodes then run on one machine,
 * since the servers listen on 127.0.0.1) the auto-scaling leader takes such servers over by their
 * process id and start time ({@link #adopt}) and stops them when it scales in.
 *
 * <p>Thread-safe.
 */
public final class ProcessProvisioner implements Provisioner {

    private static final Logger log = LoggerFactory.getLogger(ProcessProvisioner.class);
    private static final String HOST = "127.0.0.1";

    private final String pool;
    private final List<String> command;
    private final int portLow;
    private final int portHigh;
    private final Path logDir;
    private final Duration startTimeout;
    private final Duration stopTimeout;
    /** Our running servers by port: our children, and the processes we took over ({@link #adopt}). */
    private final Map<Integer, ProcessHandle> running = new ConcurrentHashMap<>();

    public ProcessProvisioner(String pool, List<String> command, int portLow, int portHigh, Path logDir,
                              Duration startTimeout, Duration stopTimeout) {
        this.pool = pool;
        this.command = List.copyOf(command);
        this.portLow = portLow;
        this.portHigh = portHigh;
        this.logDir = logDir;
        this.startTimeout = startTimeout;
        this.stopTimeout = stopTimeout;
    }

    @Override
    public synchronized HostPort provision() throws ProvisionException {
        int port = freePort();
        List<String> args = command.stream().map(a -> a.replace("{port}", Integer.toString(port))).toList();
        Path logFile = logDir.resolve(pool + "-" + port + ".log");
        Process process;
        try {
            Files.createDirectories(logDir);
            process = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        } catch (IOException | RuntimeException e) {
            throw new ProvisionException("cannot start " + String.join(" ", args) + ": " + e.getMessage());
        }
        running.put(port, process.toHandle());
        log.info("started server {}:{} (pid {}) for pool {}; output in {}", HOST, port, process.pid(), pool, logFile);
        try {
            awaitListening(process, port, logFile);
        } catch (ProvisionException e) {
            stop(port);
            throw e;
        }
        return new HostPort(HOST, port);
    }

    @Override
    public void deprovision(HostPort address) throws ProvisionException {
        if (!running.containsKey(address.port())) {
            throw new ProvisionException("server " + address + " was not started by this provisioner");
        }
        stop(address.port());
    }

    @Override
    public ProcessHandle process(HostPort address) {
        return HOST.equals(address.host()) ? running.get(address.port()) : null;
    }

    @Override
    public java.util.Set<HostPort> running() {
        java.util.Set<HostPort> out = new java.util.HashSet<>();
        running.keySet().forEach(port -> out.add(new HostPort(HOST, port)));
        return out;
    }

    @Override
    public boolean adopt(HostPort address, long pid, java.time.Instant started) {
        if (!HOST.equals(address.host()) || address.port() < portLow || address.port() > portHigh) {
            return false;
        }
        // the start time tells the server from a later process that got the same id
        var alive = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().startInstant().map(t -> t.equals(started)).orElse(false));
        alive.ifPresent(h -> {
            running.put(address.port(), h);
            log.info("took over server {} (pid {}) of pool {}", address, pid, pool);
        });
        return alive.isPresent();
    }

    @Override
    public void release(HostPort address) {
        if (HOST.equals(address.host())) {
            running.remove(address.port());
        }
    }

    /** The process ids of the servers running now (for tests and logs). */
    public Map<Integer, Long> pids() {
        Map<Integer, Long> out = new java.util.TreeMap<>();
        running.forEach((port, p) -> out.put(port, p.pid()));
        return out;
    }

    @Override
    public void close() {
        List<ProcessHandle> all = List.copyOf(running.values());
        all.forEach(ProcessHandle::destroy); // SIGTERM to all first, then wait for each
        List.copyOf(running.keySet()).forEach(this::stop);
    }

    private int freePort() throws ProvisionException {
        for (int port = portLow; port <= portHigh; port++) {
            if (!running.containsKey(port) && isFree(port)) {
                return port;
            }
        }
        throw new ProvisionException("no free port left in " + portLow + "-" + portHigh);
    }

    private static boolean isFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(HOST, port));
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    private void awaitListening(Process process, int port, Path logFile) throws ProvisionException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new ProvisionException("server on port " + port + " exited with code " + process.exitValue()
                        + " while starting; see " + logFile);
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(HOST, port), 200);
                // A connect to a port nobody listens on can succeed by connecting to itself when
                // the kernel picks that same port as the probe's source port (the port is in the
                // ephemeral range): that is not the server.
                if (socket.getLocalPort() != port) {
                    return;
                }
                log.debug("probe of port {} connected to itself; the server is not listening yet", port);
            } catch (IOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(50); // poll while the child starts; bounded by the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProvisionException("interrupted while starting the server on port " + port);
            }
        }
        throw new ProvisionException("server on port " + port + " did not listen within "
                + startTimeout.toMillis() + " ms; see " + logFile);
    }

    /**
     * SIGTERM, then SIGKILL after the stop timeout; forgets the port only once the process is
     * gone, so that a stop cut short (interrupted) is finished by {@link #close()}.
     */
    private void stop(int port) {
        ProcessHandle p = running.get(port);
        if (p == null) {
            return;
        }
        p.destroy();
        boolean interrupted = false;
        try {
            try {
                p.onExit().get(stopTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                log.warn("server {}:{} (pid {}) ignored SIGTERM for {} ms; killing it", HOST, port, p.pid(),
                        stopTimeout.toMillis());
                p.destroyForcibly();
                p.onExit().get(stopTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            interrupted = true;
            p.destroyForcibly();
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            log.warn("server {}:{} (pid {}) still runs after SIGKILL", HOST, port, p.pid());
        }
        if (!p.isAlive()) {
            running.remove(port, p);
            log.info("stopped server {}:{} (pid {}) of pool {}", HOST, port, p.pid(), pool);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
