package dev.fulcrum.server.ha;

import dev.fulcrum.core.net.ArpMessage;
import dev.fulcrum.core.vrrp.Action;
import dev.fulcrum.core.vrrp.AdvertValidator;
import dev.fulcrum.core.vrrp.Decoded;
import dev.fulcrum.core.vrrp.Invalid;
import dev.fulcrum.core.vrrp.VrrpPacket;
import dev.fulcrum.core.vrrp.VrrpSettings;
import dev.fulcrum.core.vrrp.VrrpState;
import dev.fulcrum.core.vrrp.VrrpStateMachine;
import dev.fulcrum.linux.ArpSocket;
import dev.fulcrum.linux.InterfaceAddresses;
import dev.fulcrum.linux.NativeException;
import dev.fulcrum.linux.ThreadScheduling;
import dev.fulcrum.linux.VrrpSocket;
import dev.fulcrum.server.net.StartException;
import dev.fulcrum.server.admin.HaStatus;
import dev.fulcrum.server.admin.HookResult;
import dev.fulcrum.server.config.FulcrumConfig.Ha;
import dev.fulcrum.server.metrics.ControlMetrics;
import dev.fulcrum.server.net.LinkInterface;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The VRRP speaker: runs one virtual router ({@code ha} in the config) on a dedicated platform
 * thread, driving the core {@link VrrpStateMachine} with the linux sockets — adverts on the raw
 * socket, virtual IPs through rtnetlink, gratuitous ARP on a packet socket.
 *
 * <p>Why a platform thread of its own, in SCHED_RR when allowed: a blocking native receive would
 * pin a virtual thread, and a backup that is not scheduled within its master-down interval takes
 * over falsely while the master is alive (keepalived does the same with
 * {@code vrrp_rt_priority}). Its loop allocates little: buffers and encoded adverts are made once.
 *
 * <p>It joins the election only once this instance can serve ({@code /healthz} ok), or after
 * {@code startupGrace} as FAULT; it gives up MASTER with a priority-0 advert when {@code /healthz}
 * fails and on {@link #close()} (where it keeps the addresses until a backup has taken over). Each transition is an event ({@code ha-master}, {@code ha-backup},
 * {@code ha-fault}, which the alerter turns into alerts), the {@code fulcrum_ha_master} gauge and
 * a run of {@code ha.notify}.
 *
 * <p>Thread-safety: {@link #status()} and {@link #close()} from any thread; everything else is
 * confined to the speaker thread.
 */
public final class HaSpeaker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HaSpeaker.class);
    /** As keepalived: 5 gratuitous ARPs on becoming MASTER, 5 more 5 s later. */
    static final int GARP_BURST = 5;
    static final long GARP_REPEAT_NANOS = Duration.ofSeconds(5).toNanos();
    /** How often {@code /healthz} is asked whether this instance can serve. */
    static final long HEALTH_POLL_NANOS = Duration.ofMillis(100).toNanos();
    static final int REALTIME_PRIORITY = 10;

    private final Ha config;
    private final LinkInterface nic;
    private final List<VirtualIp> virtualIps;
    private final VrrpSettings settings;
    private final VrrpStateMachine machine;
    private final AdvertValidator validator;
    private final Registry registry;
    private final ControlMetrics metrics;
    private final Supplier<HookResult> health;
    private final long startupGraceNanos;
    private final VrrpSocket socket;
    private final ArpSocket arp;
    private final InterfaceAddresses addresses;
    private final NotifyRunner notify;
    private final Thread thread;
    /** Encoded adverts per (advert, destination): the machine hands out the same two adverts. */
    private final Map<VrrpPacket, Map<Inet4Address, byte[]>> encoded = new IdentityHashMap<>();

    private volatile VrrpState state = VrrpState.INITIALIZE;
    private volatile boolean running = true;
    private long garpRepeatAt;
    private boolean garpRepeatPending;
    private String lastSendError = "";

    private HaSpeaker(Ha config, LinkInterface nic, List<VirtualIp> virtualIps, Registry registry,
                      ControlMetrics metrics, Supplier<HookResult> health, Duration startupGrace,
                      VrrpSocket socket, ArpSocket arp, InterfaceAddresses addresses) {
        this.config = config;
        this.nic = nic;
        this.virtualIps = virtualIps;
        this.registry = registry;
        this.metrics = metrics;
        this.health = health;
        this.startupGraceNanos = startupGrace.toNanos();
        this.socket = socket;
        this.arp = arp;
        this.addresses = addresses;
        this.settings = new VrrpSettings(config.virtualRouterId(), config.priority(),
                (int) (config.advertInterval().toMillis() / 10), config.preempt(), nic.primaryAddress(),
                virtualIps.stream().map(VirtualIp::address).toList());
        this.machine = new VrrpStateMachine(settings);
        this.validator = new AdvertValidator(settings);
        this.notify = new NotifyRunner(config.notifyCommand());
        this.thread = Thread.ofPlatform().name("fulcrum-vrrp").daemon(true).priority(Thread.MAX_PRIORITY)
                .unstarted(this::run);
    }

    /**
     * Opens the sockets and starts the speaker.
     *
     * @param health       what {@code /healthz} answers: not ok = FAULT
     * @param startupGrace how long to wait for this instance to become healthy before joining the
     *                     election as FAULT
     * @throws StartException with one line: not Linux, missing capabilities, unknown interface, a
     *                        socket that cannot be opened
     */
    public static HaSpeaker start(Ha config, Registry registry, ControlMetrics metrics, Supplier<HookResult> health,
                                  Duration startupGrace) {
        List<VirtualIp> vips = config.virtualIps().stream().map(VirtualIp::parse).toList();
        List<Inet4Address> vipAddresses = vips.stream().map(VirtualIp::address).toList();
        LinkInterface.problem("ha", "ha.interface", config.networkInterface(), vipAddresses).ifPresent(p -> {
            throw new StartException(p);
        });
        LinkInterface nic = LinkInterface.find("ha.interface", config.networkInterface(), vipAddresses);
        List<Inet4Address> peers = config.unicastPeers().stream().map(HaSpeaker::ipv4).toList();
        VrrpSocket socket = null;
        ArpSocket arp = null;
        InterfaceAddresses addresses = null;
        try {
            socket = VrrpSocket.open(nic.name(), nic.index(), nic.primaryAddress(), peers);
            arp = ArpSocket.open(nic.name(), nic.index());
            addresses = InterfaceAddresses.open();
        } catch (NativeException e) {
            closeQuietly(socket, arp, addresses);
            throw new StartException("ha: " + e.getMessage(), e);
        }
        HaSpeaker speaker = new HaSpeaker(config, nic, vips, registry, metrics, health, startupGrace,
                socket, arp, addresses);
        metrics.haMaster(config.virtualRouterId(), false);
        log.info("ha: virtual router {} on {} (source {}), priority {}, advert interval {} ms, {}, virtual IPs {}",
                config.virtualRouterId(), nic.name(), nic.primaryAddress().getHostAddress(), config.priority(),
                config.advertInterval().toMillis(), peers.isEmpty() ? "multicast 224.0.0.18" : "unicast to " + peers,
                vips);
        speaker.thread.start();
        return speaker;
    }

    /**
     * Why {@code ha} cannot run on this host, in one line (not Linux, no CAP_NET_RAW and
     * CAP_NET_ADMIN, unknown interface), or empty. {@code fulcrum run} checks it first and exits 2.
     */
    public static java.util.Optional<String> problem(Ha config) {
        return LinkInterface.problem("ha", "ha.interface", config.networkInterface(),
                config.virtualIps().stream().map(v -> VirtualIp.parse(v).address()).toList());
    }

    /** The dashboard's and {@code /api/v1/status}'s view. */
    public HaStatus status() {
        String word = switch (state) {
            case INITIALIZE -> "init";
            case BACKUP -> "backup";
            case MASTER -> "master";
            case FAULT -> "fault";
        };
        return new HaStatus(word, config.virtualRouterId(), config.priority(), config.virtualIps(), nic.name());
    }

    public VrrpState state() {
        return state;
    }

    private void run() {
        try {
            ThreadScheduling.roundRobinRealtime(REALTIME_PRIORITY);
        } catch (NativeException | RuntimeException e) {
            log.warn("ha: speaker runs without real-time priority ({}); a busy host may cause false takeovers",
                    e.getMessage());
        }
        byte[] packet = new byte[1500];
        ByteBuffer view = ByteBuffer.wrap(packet);
        long started = System.nanoTime();
        long nextHealth = started;
        boolean joined = false;
        try {
            removeVirtualIps(); // a killed instance may have left them on the interface
            while (running) {
                long now = System.nanoTime();
                long wait = Math.min(machine.nanosUntilDeadline(now), Math.max(0, nextHealth - now));
                if (garpRepeatPending) {
                    wait = Math.min(wait, Math.max(0, garpRepeatAt - now));
                }
                int n = socket.receive(packet, wait);
                now = System.nanoTime();
                if (n > 0) {
                    view.clear().limit(n);
                    Decoded decoded = validator.validateIpPacket(view);
                    if (decoded instanceof VrrpPacket advert) {
                        execute(machine.advertReceived(now, advert, source(packet)), now);
                    } else if (decoded instanceof Invalid invalid) {
                        metrics.haAdvertDropped(invalid.reason().name().toLowerCase(java.util.Locale.ROOT));
                        log.debug("ha: dropped an advert: {}", invalid);
                    }
                }
                execute(machine.timerFired(now), now);
                if (garpRepeatPending && now - garpRepeatAt >= 0) {
                    garpRepeatPending = false;
                    sendGratuitousArp();
                }
                if (now - nextHealth >= 0) {
                    nextHealth = now + HEALTH_POLL_NANOS;
                    HookResult h = canServe();
                    if (!joined) {
                        if (h.ok()) {
                            joined = true;
                            execute(machine.startup(now), now);
                        } else if (now - started >= startupGraceNanos) {
                            joined = true;
                            execute(machine.fault(now, h.detail()), now);
                        }
                    } else if (!h.ok()) {
                        execute(machine.fault(now, h.detail()), now);
                    } else {
                        execute(machine.recovered(now), now);
                    }
                }
            }
            handOver(packet, view);
        } catch (NativeException | RuntimeException e) {
            log.error("ha: speaker stopped: {}", e.toString());
            removeVirtualIps();
            state = VrrpState.FAULT;
            metrics.haMaster(config.virtualRouterId(), false);
            registry.emit(new PoolEvent.HaFault(registry.now(), "speaker stopped: " + e.getMessage()));
        } finally {
            socket.close();
            arp.close();
            addresses.close();
        }
    }

    /**
     * Leaves the group. A MASTER sends its priority-0 advert but keeps the virtual IPs — and this
     * instance keeps accepting on them — until a backup's advert shows it has taken over (its skew
     * time, tens of milliseconds at 100 ms adverts), at most one master-down interval; only then
     * are the addresses removed. Removing them first, as RFC 5798 §6.4.3 reads, drops the
     * connections clients open in between, while their ARP entry still points here.
     */
    private void handOver(byte[] packet, ByteBuffer view) throws NativeException {
        long now = System.nanoTime();
        if (machine.state() != VrrpState.MASTER) {
            execute(machine.shutdown(now), now);
            return;
        }
        List<Action> leaving = machine.shutdown(now);
        List<Action> adverts = leaving.stream().filter(a -> a instanceof Action.SendAdvert).toList();
        execute(adverts, now);
        long deadline = now + machine.masterDownIntervalNanos();
        boolean takenOver = false;
        while (!takenOver && deadline - System.nanoTime() > 0) {
            int n = socket.receive(packet, Math.max(0, deadline - System.nanoTime()));
            if (n > 0) {
                view.clear().limit(n);
                takenOver = validator.validateIpPacket(view) instanceof VrrpPacket advert && advert.priority() > 0;
            }
        }
        log.info("ha: {}; removing the virtual IPs", takenOver
                ? "a backup took over after " + (System.nanoTime() - now) / 1_000_000 + " ms"
                : "no backup answered within the master-down interval");
        execute(leaving.stream().filter(a -> !(a instanceof Action.SendAdvert)).toList(), System.nanoTime());
    }

    /**
     * Whether this instance can serve: its interface up with a carrier (a master whose link went
     * down must not keep MASTER, or when the link returns no gratuitous ARP would move clients
     * back to it), then {@code /healthz}.
     */
    private HookResult canServe() {
        if (!nic.isRunning()) {
            return HookResult.failed("interface " + nic.name() + " is down (no carrier)");
        }
        return health.get();
    }

    private void execute(List<Action> actions, long now) throws NativeException {
        for (Action action : actions) {
            switch (action) {
                case Action.SendAdvert a -> sendAdvert(a.advert());
                case Action.AddVirtualIps a -> addVirtualIps();
                case Action.RemoveVirtualIps a -> removeVirtualIps();
                case Action.SendGratuitousArp a -> {
                    sendGratuitousArp();
                    garpRepeatPending = true;
                    garpRepeatAt = now + GARP_REPEAT_NANOS;
                }
                case Action.ArmTimer a -> {
                    // the machine's deadline already says when to wake
                }
                case Action.Transition t -> transition(t);
            }
        }
    }

    private void sendAdvert(VrrpPacket advert) {
        Map<Inet4Address, byte[]> byDestination = encoded.computeIfAbsent(advert, a -> new HashMap<>());
        for (Inet4Address destination : socket.destinations()) {
            byte[] bytes = byDestination.computeIfAbsent(destination,
                    d -> advert.encode(nic.primaryAddress(), d));
            try {
                socket.send(bytes, bytes.length, destination);
                lastSendError = "";
            } catch (NativeException e) {
                // a link that is down fails every send: say so once, not ten times a second
                if (!e.getMessage().equals(lastSendError)) {
                    lastSendError = e.getMessage();
                    log.warn("ha: cannot send an advert: {}", e.getMessage());
                }
            }
        }
    }

    private void addVirtualIps() {
        for (VirtualIp vip : virtualIps) {
            try {
                if (addresses.add(nic.index(), vip.address(), vip.prefixLength())) {
                    log.info("ha: added {} to {}", vip, nic.name());
                }
            } catch (NativeException e) {
                log.error("ha: cannot add {} to {}: {}", vip, nic.name(), e.getMessage());
            }
        }
    }

    private void removeVirtualIps() {
        for (VirtualIp vip : virtualIps) {
            try {
                if (addresses.remove(nic.index(), vip.address(), vip.prefixLength())) {
                    log.info("ha: removed {} from {}", vip, nic.name());
                }
            } catch (NativeException e) {
                log.error("ha: cannot remove {} from {}: {}", vip, nic.name(), e.getMessage());
            }
        }
    }

    private void sendGratuitousArp() {
        if (machine.state() != VrrpState.MASTER) {
            return; // the 5 s repeat of a master that has since stepped down
        }
        for (VirtualIp vip : virtualIps) {
            byte[] announcement = ArpMessage.announcement(nic.mac(), vip.address());
            for (int i = 0; i < GARP_BURST; i++) {
                try {
                    arp.send(announcement, ArpSocket.BROADCAST);
                } catch (NativeException e) {
                    log.warn("ha: cannot send gratuitous ARP for {}: {}", vip, e.getMessage());
                    break;
                }
            }
        }
    }

    private void transition(Action.Transition t) {
        state = t.to();
        if (t.to() != VrrpState.MASTER) {
            garpRepeatPending = false;
        }
        metrics.haMaster(config.virtualRouterId(), t.to() == VrrpState.MASTER);
        String detail = t.from() + " -> " + t.to() + ": " + t.reason();
        switch (t.to()) {
            case MASTER -> registry.emit(new PoolEvent.HaMaster(registry.now(), detail));
            case BACKUP -> registry.emit(new PoolEvent.HaBackup(registry.now(), detail));
            case FAULT -> registry.emit(new PoolEvent.HaFault(registry.now(), detail));
            case INITIALIZE -> log.info("ha: {}", detail);
        }
        if (t.to() != VrrpState.INITIALIZE) {
            notify.run(t.to().name());
        }
    }

    private static Inet4Address source(byte[] ipPacket) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {ipPacket[12], ipPacket[13], ipPacket[14],
                    ipPacket[15]});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static Inet4Address ipv4(String text) {
        return VirtualIp.parse(text).address();
    }

    /**
     * Graceful stop: a MASTER sends a priority-0 advert, so a BACKUP takes over after its skew
     * time, and removes the virtual IPs once it has (see {@link #handOver}). Waits for the speaker
     * to finish: at most one master-down interval plus 3 s.
     */
    @Override
    public void close() {
        running = false;
        socket.wakeup();
        try {
            thread.join(config.advertInterval().multipliedBy(4).plusSeconds(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        notify.close();
    }

    private static void closeQuietly(AutoCloseable... closeables) {
        for (AutoCloseable c : closeables) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // already failing: the first error is the one reported
                }
            }
        }
    }
}
