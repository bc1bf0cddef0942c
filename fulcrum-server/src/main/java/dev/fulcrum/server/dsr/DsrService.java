package dev.fulcrum.server.dsr;

import dev.fulcrum.core.dsr.DsrCounters;
import dev.fulcrum.core.dsr.DsrServer;
import dev.fulcrum.core.dsr.DsrSettings;
import dev.fulcrum.core.dsr.DsrTargets;
import dev.fulcrum.core.dsr.MacAddress;
import dev.fulcrum.core.dsr.PacketResult;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.linux.BpfFilter;
import dev.fulcrum.linux.NativeException;
import dev.fulcrum.linux.PacketSocket;
import dev.fulcrum.linux.PacketSocketCounters;
import dev.fulcrum.server.net.StartException;
import dev.fulcrum.server.config.FulcrumConfig.Dsr;
import dev.fulcrum.server.metrics.ControlMetrics;
import dev.fulcrum.server.net.LinkInterface;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.PoolEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Direct Server Return ({@code dsr} in the config): forwarder threads that move the client's
 * packets for the virtual IP to the pool's servers at layer 2, and the control side that keeps
 * their view of the pool current — servers, health (the pool's checks), MACs from the kernel's
 * neighbour table — and reports counts to {@code /metrics}. In a cluster the forwarders' Maglev
 * table is the pool's shared one, and a change of it opens a grace period
 * ({@code dsr.table-grace}) for flows the router moves here (see {@link DsrTargets}).
 *
 * <p>Threads: {@code fulcrum-dsr-control} reads the neighbour table, prompts ARP and reports
 * counts; what the forwarders see (servers, state, MACs) is rebuilt on the registry's control
 * thread, as a command after each read and on each event of the pool, which is also where MAC
 * learning is reported ({@code dsr-mac-learned}, {@code dsr-mac-lost}).
 *
 * <p>Thread-safety: {@link #close()} and {@link #status()} from any thread.
 */
public final class DsrService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DsrService.class);
    /** How often MACs are re-read and counters published. */
    static final long REFRESH_MILLIS = 500;
    static final int MAX_FORWARDERS = 4;

    private final Dsr config;
    private final LinkInterface nic;
    private final PoolRuntime pool;
    private final Registry registry;
    private final ControlMetrics metrics;
    private final AtomicReference<DsrTargets> targets;
    private final List<DsrForwarder> forwarders;
    /** With {@code answer-arp}; else null. */
    private ArpResponder arpResponder;
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("fulcrum-dsr-control").daemon(true).factory());
    /** Server address → MAC, as last read (by the DSR thread; {@link #refresh()} reads it). */
    private volatile Map<String, Long> macs = Map.of();
    private long forwardedReported;
    private long droppedReported;
    private long graceFlowsReported;

    private DsrService(Dsr config, LinkInterface nic, PoolRuntime pool, Registry registry, ControlMetrics metrics,
                       AtomicReference<DsrTargets> targets, List<DsrForwarder> forwarders) {
        this.config = config;
        this.nic = nic;
        this.pool = pool;
        this.registry = registry;
        this.metrics = metrics;
        this.targets = targets;
        this.forwarders = forwarders;
    }

    /** Why {@code dsr} cannot run on this host, in one line, or empty. {@code fulcrum run} exits 2 on it. */
    public static Optional<String> problem(Dsr config) {
        return LinkInterface.problem("dsr", "dsr.interface", config.networkInterface(),
                List.of(ipv4(config.virtualIp())));
    }

    /**
     * Opens one packet socket per forwarder (up to {@link #MAX_FORWARDERS}, one per core) in one
     * fanout group and starts forwarding.
     *
     * @throws StartException one line: {@link #problem}, a socket that cannot be opened
     */
    public static DsrService start(Dsr config, Registry registry, ControlMetrics metrics) {
        problem(config).ifPresent(p -> {
            throw new StartException(p);
        });
        Inet4Address vip = ipv4(config.virtualIp());
        LinkInterface nic = LinkInterface.find("dsr.interface", config.networkInterface(), List.of(vip));
        // the registry keeps this pool to IPv4 servers (Registry#addServer), as DSR needs
        PoolRuntime pool = registry.pool(config.pool());
        DsrSettings settings = DsrSettings.of(vip, new HashSet<>(config.ports()), MacAddress.of(nic.mac()),
                mtu(nic), true);
        BpfFilter filter = BpfFilter.ipv4To(vip, nic.mac());
        // one group per process: the kernel hashes each flow to one member socket, so one thread
        int group = (int) (ProcessHandle.current().pid() % 65_535) + 1;
        int count = Math.max(1, Math.min(MAX_FORWARDERS, Runtime.getRuntime().availableProcessors()));
        AtomicReference<DsrTargets> targets = new AtomicReference<>(DsrTargets.empty());
        List<DsrForwarder> forwarders = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                PacketSocket socket = PacketSocket.open(PacketSocket.Options.of(nic.name(), nic.index(), filter)
                        .withFanoutGroup(group).withModerationNanos(Long.getLong("fulcrum.dsr.moderationNanos", 0)));
                forwarders.add(new DsrForwarder(i, socket, settings, targets));
            }
        } catch (NativeException e) {
            forwarders.forEach(f -> f.socket().close());
            throw new StartException("dsr: " + e.getMessage(), e);
        }
        DsrService service = new DsrService(config, nic, pool, registry, metrics, targets, List.copyOf(forwarders));
        if (config.answerArp()) {
            try {
                service.arpResponder = ArpResponder.start(nic, vip);
            } catch (NativeException e) {
                forwarders.forEach(f -> f.socket().close());
                throw new StartException("dsr: answer-arp: " + e.getMessage(), e);
            }
        }
        registry.onEvent(service::onEvent);
        registry.control().run(service::refresh);
        forwarders.forEach(DsrForwarder::start);
        service.control.scheduleWithFixedDelay(service::tick, REFRESH_MILLIS, REFRESH_MILLIS, TimeUnit.MILLISECONDS);
        log.info("dsr: {}:{} on {} (MAC {}) to pool {}, {} forwarder thread(s)", vip.getHostAddress(),
                config.ports(), nic.name(), MacAddress.format(MacAddress.of(nic.mac())), config.pool(), count);
        if (config.answerArp()) {
            log.info("dsr: answering ARP for {} on {}", vip.getHostAddress(), nic.name());
        }
        return service;
    }

    /** A pool change (health, added, removed, drained, weight) reaches the forwarders at once. On the control thread. */
    private void onEvent(PoolEvent e) {
        switch (e) {
            case PoolEvent.ServerAdded _, PoolEvent.ServerRemoved _, PoolEvent.ServerUp _, PoolEvent.ServerDown _,
                 PoolEvent.ServerEjected _, PoolEvent.ServerDraining _, PoolEvent.ServerEnabled _,
                 PoolEvent.WeightChanged _ -> {
                if (e.pool() == pool) {
                    refresh();
                }
            }
            case PoolEvent.MacLearned _, PoolEvent.MacLost _, PoolEvent.ScaleEvent _, PoolEvent.HaEvent _,
                 PoolEvent.ConfigReloaded _, PoolEvent.ClusterEvent _ -> {
            }
        }
    }

    private void tick() {
        try {
            macs = NeighbourTable.read(NeighbourTable.PROC, nic.name());
        } catch (IOException e) {
            log.warn("dsr: cannot read the neighbour table: {}", e.getMessage());
        }
        registry.control().execute(this::refresh);
        resolveUnknown();
        report();
    }

    /**
     * Makes the kernel ARP for servers whose MAC is not known yet (a pool without health checks,
     * or a server just added): a one-byte datagram to its discard port starts the resolution,
     * and the next read of the neighbour table finds the answer.
     */
    private void resolveUnknown() {
        for (DsrServer s : targets.get().servers()) {
            if (MacAddress.isKnown(s.mac())) {
                continue;
            }
            String host = s.name().substring(0, s.name().lastIndexOf(':'));
            try (java.nio.channels.DatagramChannel udp = java.nio.channels.DatagramChannel.open()) {
                udp.send(java.nio.ByteBuffer.wrap(new byte[1]), new java.net.InetSocketAddress(host, 9));
            } catch (IOException e) {
                log.debug("dsr: cannot prompt ARP for {}: {}", host, e.getMessage());
            }
        }
    }

    /**
     * Publishes the pool's servers, with their MACs and state, to the forwarders. In a cluster the
     * table is the pool's shared one and a change of it starts the grace period
     * ({@code dsr.table-grace}, see {@link DsrTargets}), timed on the forwarders' clock,
     * {@link System#nanoTime()}. On the control thread.
     */
    private void refresh() {
        Map<String, Long> known = macs;
        PoolSnapshot snapshot = pool.snapshot();
        List<DsrServer> servers = DsrServer.of(snapshot, s -> known.getOrDefault(s.address().host(), MacAddress.UNKNOWN));
        DsrTargets before = targets.get();
        targets.set(snapshot.sharedTable() == null ? before.update(servers)
                : before.updateShared(servers, snapshot.sharedTable(), System.nanoTime(), config.tableGrace().toNanos()));
        reportMacChanges(before.servers(), servers);
    }

    /**
     * Events when the forwarders learn a server's MAC ({@code dsr-mac-learned}: it can take
     * flows) or lose it ({@code dsr-mac-lost}: its packets are dropped until it is learned again).
     */
    private void reportMacChanges(List<DsrServer> before, List<DsrServer> after) {
        Map<String, Long> old = new java.util.HashMap<>();
        before.forEach(s -> old.put(s.name(), s.mac()));
        for (DsrServer s : after) {
            long was = old.getOrDefault(s.name(), MacAddress.UNKNOWN);
            if (was == s.mac()) {
                continue;
            }
            Server server = pool.pool().servers().stream().filter(x -> x.id().equals(s.name())).findFirst()
                    .orElse(null);
            if (server == null) {
                continue; // removed meanwhile: its server-removed event says more
            }
            if (MacAddress.isKnown(s.mac())) {
                registry.emit(new PoolEvent.MacLearned(registry.now(), pool, server, "at " + MacAddress.format(s.mac())));
            } else if (MacAddress.isKnown(was)) {
                registry.emit(new PoolEvent.MacLost(registry.now(), pool, server, "was " + MacAddress.format(was)
                        + "; its packets are dropped until it answers ARP again"));
            }
        }
    }

    /**
     * Adds what the forwarders counted since the last report to {@code fulcrum_dsr_packets_total}
     * and {@code fulcrum_dsr_grace_flows_total}.
     */
    private synchronized void report() {
        long[] now = totals();
        metrics.dsrPackets("forwarded", now[0] - forwardedReported);
        metrics.dsrPackets("dropped", now[1] - droppedReported);
        forwardedReported = now[0];
        droppedReported = now[1];
        long graceFlows = 0;
        for (DsrForwarder f : forwarders) {
            graceFlows += f.router().counters().graceFlows();
        }
        metrics.dsrGraceFlows(graceFlows - graceFlowsReported);
        graceFlowsReported = graceFlows;
    }

    /**
     * Packets forwarded and dropped by all forwarders so far: {forwarded, dropped}. Dropped adds to
     * the routers' decisions the packets lost at the socket: frames the kernel dropped because the
     * ring was full (the forwarder fell behind), frames too large to read whole, and frames the
     * router forwarded but the kernel refused to send (those leave the forwarded count).
     */
    private long[] totals() {
        long[] sums = new long[2];
        for (DsrForwarder f : forwarders) {
            DsrCounters c = f.router().counters();
            for (PacketResult r : PacketResult.values()) {
                if (r.forwarded()) {
                    sums[0] += c.packets(r);
                } else if (r.dropped()) {
                    sums[1] += c.packets(r);
                }
            }
            PacketSocketCounters s = f.socket().counters();
            sums[0] -= s.sendErrors();
            sums[1] += s.sendErrors() + s.ringDrops() + s.framesTruncated();
        }
        return sums;
    }

    /** Counts and servers for the dashboard and {@code /api/v1/status}. */
    public DsrStatus status() {
        long[] sums = totals();
        List<DsrStatus.Target> servers = targets.get().servers().stream()
                .map(s -> new DsrStatus.Target(s.name(), MacAddress.isKnown(s.mac()) ? MacAddress.format(s.mac()) : "",
                        s.acceptsNewFlows()))
                .toList();
        return new DsrStatus(config.virtualIp(), config.ports(), nic.name(), config.pool(), forwarders.size(),
                sums[0], sums[1], servers);
    }

    @Override
    public void close() {
        if (arpResponder != null) {
            arpResponder.close();
        }
        forwarders.forEach(DsrForwarder::stop);
        control.shutdownNow();
        report();
    }

    private static int mtu(LinkInterface nic) {
        try {
            NetworkInterface n = NetworkInterface.getByIndex(nic.index());
            return n == null ? 1500 : n.getMTU();
        } catch (SocketException e) {
            return 1500;
        }
    }

    private static Inet4Address ipv4(String text) {
        try {
            return (Inet4Address) InetAddress.getByName(text);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + text, e);
        }
    }
}
