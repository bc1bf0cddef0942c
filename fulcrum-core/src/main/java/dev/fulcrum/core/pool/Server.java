package dev.fulcrum.core.pool;

import dev.fulcrum.core.HostPort;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend server of a pool: its identity (the address), its configured weight, its state
 * and its live load counters. The state is separate flags, each with one owner: the admin drain
 * ({@code draining}, the API and removals), the active checks' verdict ({@link CheckState}, the
 * health checker), the outlier ejection ({@code ejectedUntil}, passive detection), the slow-start
 * ramp ({@code rampingSince}), a pending removal ({@code removalDeadline}, the registry's drain
 * timer ends it) and removal; {@link #state()} derives what the API shows from them
 * ({@link ServerState#of}; a ramping server shows {@code up}, one being removed {@code draining}).
 *
 * <p>A {@code Server} object lives as long as the server is registered; immutable
 * {@link PoolSnapshot}s refer to it, so load counters bumped by the data plane are visible to
 * load-aware balancers (least-connections, least-request) without republishing. State and weight
 * are changed only by the {@link Pool} that owns the server, which then publishes a new snapshot;
 * the request path must read them from the snapshot, not from here.
 *
 * <p>Thread-safe: counters are atomic, fields are volatile. Equality is identity: two registrations
 * of the same address are two servers.
 */
public final class Server {

    private final HostPort address;
    private final String id;
    private volatile int weight;
    private volatile CheckState check;
    /** When the current ejection ends; null when not ejected. */
    private volatile java.time.Instant ejectedUntil;
    /** When its slow-start ramp began; null when it takes its full weight. */
    private volatile java.time.Instant rampingSince;
    private volatile boolean draining;
    /**
     * When its removal's drain-timeout passes; null when it is not being removed. Set only together
     * with {@code draining} ({@link Pool#startRemoval}), so a server being removed takes no new requests.
     */
    private volatile java.time.Instant removalDeadline;
    private volatile boolean removed;

    private final AtomicInteger activeConnections = new AtomicInteger();
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    /**
     * @param health where health checking starts: {@link ServerState#CHECKING} when the pool has
     *               health checks, {@link ServerState#UP} when it has none ({@code down} too, for
     *               tests; not {@code ejected} or {@code draining}, which are not check verdicts)
     */
    public Server(HostPort address, int weight, ServerState health) {
        this.check = switch (health) {
            case CHECKING -> CheckState.CHECKING;
            case UP -> CheckState.UP;
            case DOWN -> CheckState.DOWN;
            case EJECTED, DRAINING -> throw new IllegalArgumentException(health + " is not a check verdict");
        };
        checkWeight(weight);
        this.address = address;
        this.id = address.toString();
        this.weight = weight;
    }

    public HostPort address() {
        return address;
    }

    /** The canonical {@code host:port} text: the server's name in the API, metrics and events. */
    public String id() {
        return id;
    }

    /**
     * The largest weight a server may have, everywhere it is set (config, admin API, DSR): weights
     * are small so that weighted round-robin's cycle and the slow-start arithmetic stay in ints.
     */
    public static final int MAX_WEIGHT = 256;

    /** @throws IllegalArgumentException when {@code weight} is outside 0..{@value #MAX_WEIGHT} */
    public static void checkWeight(int weight) {
        if (weight < 0 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight " + weight + " is outside 0.." + MAX_WEIGHT);
        }
    }

    /** Configured weight, 0..{@value #MAX_WEIGHT}; 0 means no new traffic. */
    public int weight() {
        return weight;
    }

    /**
     * The state the API reports: {@code draining} when an operator or a removal drains it, else its
     * health ({@link #health()}).
     */
    public ServerState state() {
        return ServerState.of(draining, check, ejectedUntil != null);
    }

    /**
     * Its health, whatever the drain flag says: {@code down} when the checks fail, else
     * {@code ejected} while ejected, else the checks' {@code checking} or {@code up}.
     */
    public ServerState health() {
        return ServerState.of(false, check, ejectedUntil != null);
    }

    /** The active checks' verdict alone. */
    public CheckState check() {
        return check;
    }

    /** Whether passive outlier detection has it out of rotation now. */
    public boolean isEjected() {
        return ejectedUntil != null;
    }

    /** When its ejection ends; null when not ejected. */
    public java.time.Instant ejectedUntil() {
        return ejectedUntil;
    }

    /** When its slow-start ramp began; null when it takes its full weight. */
    public java.time.Instant rampingSince() {
        return rampingSince;
    }

    public boolean isDraining() {
        return draining;
    }

    /**
     * Whether it is draining towards removal: it is forgotten once idle or at
     * {@link #removalDeadline()}, unless the removal is cancelled first. False once removed.
     */
    public boolean isBeingRemoved() {
        return removalDeadline != null;
    }

    /** When its removal's drain-timeout passes; null when it is not being removed. */
    public java.time.Instant removalDeadline() {
        return removalDeadline;
    }

    /** In rotation: its checks pass, not ejected, not draining, weight above 0. */
    public boolean isInRotation() {
        return !draining && check == CheckState.UP && ejectedUntil == null && weight > 0 && !removed;
    }

    /** True once the pool has forgotten this server; idle connections to it must be closed. */
    public boolean isRemoved() {
        return removed;
    }

    void setWeight(int weight) {
        this.weight = weight;
    }

    void setCheck(CheckState check) {
        this.check = check;
    }

    void setEjectedUntil(java.time.Instant until) {
        this.ejectedUntil = until;
    }

    void setRampingSince(java.time.Instant since) {
        this.rampingSince = since;
    }

    void setDraining(boolean draining) {
        this.draining = draining;
    }

    void setRemovalDeadline(java.time.Instant deadline) {
        this.removalDeadline = deadline;
    }

    void markRemoved() {
        this.removalDeadline = null; // the removal is done, not pending
        this.removed = true;
    }

    /** Open connections from the balancer to this server (pooled idle ones included). */
    public int activeConnections() {
        return activeConnections.get();
    }

    /** Requests (or TCP sessions) sent to this server that have not finished yet: its in-flight work. */
    public int activeRequests() {
        return activeRequests.get();
    }

    /** Requests sent to this server since it was registered. */
    public long requests() {
        return requests.sum();
    }

    /** Requests to this server that failed (connect error, reset, timeout, invalid response). */
    public long failures() {
        return failures.sum();
    }

    public void connectionOpened() {
        activeConnections.incrementAndGet();
    }

    public void connectionClosed() {
        activeConnections.decrementAndGet();
    }

    /** Called when a request (or TCP session) is sent to this server; pair with {@link #requestFinished()}. */
    public void requestStarted() {
        requests.increment();
        activeRequests.incrementAndGet();
    }

    public void requestFinished() {
        activeRequests.decrementAndGet();
    }

    public void failed() {
        failures.increment();
    }

    @Override
    public String toString() {
        return id + "(" + state() + ", weight " + weight + ")";
    }
}
