package dev.fulcrum.server.testing;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;


/**
 * A real keepalived (the distribution's {@code /usr/sbin/keepalived}, VRRP only) in a
 * {@link Netns}, as a VRRP peer or baseline for Fulcrum's own speaker. Its configuration, pid files
 * and state file live in a private temp directory, so several instances and a system keepalived
 * never collide; its output is in {@code target/it-logs/NAME.log}.
 *
 * <p>Every state change runs a {@code notify} script that appends the wall-clock time
 * ({@link EpochNanos}) and the new state (BACKUP, MASTER, FAULT, STOP) to that directory: the
 * {@link #transitions()} tests wait on and measure with. The first is BACKUP: keepalived, like the
 * spec, starts as backup and becomes master only after the master-down interval.
 *
 * <p>{@link #kill()} is a crash: SIGKILL to the VRRP child first, then to the parent (keepalived
 * runs with {@code -R}, so the parent does not respawn it in between). Killing only the parent
 * would not do: the child has a parent-death signal and would stop gracefully, sending priority 0.
 * Thread-safe.
 */
public final class KeepalivedProcess implements AutoCloseable {

    /**
     * One vrrp_instance: always {@code state BACKUP} at start (which {@code nopreempt} needs) on
     * {@link HaTopology#INTERFACE}, VRRPv3. {@code advertInterval} is rounded to centiseconds, the
     * unit of VRRPv3. Empty {@code unicastPeers} means multicast to 224.0.0.18.
     */
    public record Config(int virtualRouterId, int priority, Duration advertInterval, boolean preempt,
                         String virtualIp, String unicastSource, List<String> unicastPeers) {

        public Config {
            unicastPeers = List.copyOf(unicastPeers);
        }

        /** Preempting, multicast, holding {@link HaTopology#VIRTUAL_IP_CIDR}. */
        public static Config of(int virtualRouterId, int priority, Duration advertInterval) {
            return new Config(virtualRouterId, priority, advertInterval, true, HaTopology.VIRTUAL_IP_CIDR,
                    "", List.of());
        }

        public Config withPreempt(boolean preempt) {
            return new Config(virtualRouterId, priority, advertInterval, preempt, virtualIp, unicastSource,
                    unicastPeers);
        }

        public Config withVirtualIp(String cidr) {
            return new Config(virtualRouterId, priority, advertInterval, preempt, cidr, unicastSource,
                    unicastPeers);
        }

        /** Unicast adverts from {@code source} to each of {@code peers} instead of multicast. */
        public Config withUnicast(String source, String... peers) {
            return new Config(virtualRouterId, priority, advertInterval, preempt, virtualIp, source,
                    List.of(peers));
        }

        /** keepalived.conf text; the notify script is at {@code notify}. */
        String render(Path notify) {
            String advert = BigDecimal.valueOf(advertInterval.toMillis() / 10).movePointLeft(2)
                    .stripTrailingZeros().toPlainString();
            StringBuilder s = new StringBuilder();
            s.append("""
                    global_defs {
                      vrrp_version 3
                      # the notify script is root's, in a directory only root can write
                      script_user root
                      enable_script_security
                    }
                    vrrp_instance VI_%d {
                      state BACKUP
                      interface %s
                      virtual_router_id %d
                      priority %d
                      advert_int %s
                    """.formatted(virtualRouterId, HaTopology.INTERFACE, virtualRouterId, priority, advert));
            if (!preempt) {
                s.append("  nopreempt\n");
            }
            if (!unicastPeers.isEmpty()) {
                s.append("  unicast_src_ip ").append(unicastSource).append('\n');
                s.append("  unicast_peer {\n");
                unicastPeers.forEach(p -> s.append("    ").append(p).append('\n'));
                s.append("  }\n");
            }
            s.append("  notify ").append(notify).append('\n');
            s.append("  virtual_ipaddress {\n    ").append(virtualIp).append("\n  }\n}\n");
            return s.toString();
        }
    }

    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final String name;
    private final Path dir;
    private final VrrpStates states;
    private final Path log;
    private final Process process;

    private KeepalivedProcess(String name, Path dir, Path log, Process process) {
        this.name = name;
        this.dir = dir;
        this.states = VrrpStates.in(name, dir, process::isAlive);
        this.log = log;
        this.process = process;
    }

    /**
     * Writes the configuration and starts {@code keepalived} in {@code ns}: foreground, VRRP
     * only, logging to the console (not syslog) with details, own pid files.
     */
    public static KeepalivedProcess start(Netns ns, String name, Config config) throws IOException {
        Path dir = Files.createTempDirectory("keepalived-" + name + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path notify = VrrpStates.notifyScript(dir, "$3"); // keepalived: $3 is the new state
        Path conf = dir.resolve("keepalived.conf");
        Files.writeString(conf, config.render(notify));
        Process process = ns.start(name, List.of("keepalived",
                "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp", "--dont-respawn",
                "--use-file=" + conf, "--pid=" + dir.resolve("keepalived.pid"),
                "--vrrp_pid=" + dir.resolve("vrrp.pid")));
        return new KeepalivedProcess(name, dir, ItLogs.file(name), process);
    }

    public String name() {
        return name;
    }

    /** The parent keepalived process. */
    public long pid() {
        return process.pid();
    }

    /** The parent keepalived process, to be killed together with others ({@link Processes#kill}). */
    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The generated keepalived.conf. */
    public Path configFile() {
        return dir.resolve("keepalived.conf");
    }

    /** The states it entered, from its notify script. */
    public VrrpStates states() {
        return states;
    }

    /** Everything keepalived logged so far. */
    public String log() {
        return ItLogs.read(log);
    }

    /** SIGKILL to the VRRP child, then the parent: a crash, with no priority-0 advert and the VIP left behind. */
    public void kill() throws InterruptedException {
        Processes.kill(process);
    }

    /**
     * SIGTERM, the graceful stop: keepalived sends priority 0, removes the VIP and exits (about a
     * second later). Waits up to {@code bound}; SIGKILL after that, and throws.
     */
    public void terminate(Duration bound) throws InterruptedException {
        if (!Processes.stop(process, bound)) {
            throw new IllegalStateException(name + " did not stop within " + bound + " after SIGTERM");
        }
    }

    /** Stops keepalived if still running (SIGTERM, SIGKILL after a bound) and removes its directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        Processes.stop(process, STOP_GRACE);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

    @Override
    public String toString() {
        return states.toString();
    }
}
