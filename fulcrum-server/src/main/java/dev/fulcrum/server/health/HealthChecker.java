package dev.fulcrum.server.health;

import dev.fulcrum.core.health.HealthCounter;
import dev.fulcrum.core.health.Transition;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.RegistryEvent;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;

/**
 * Runs the active health checks ({@code health-check} of each pool) for every server of a
 * {@link Registry}, and moves servers between {@code checking}, {@code up} and {@code down} through
 * {@link Registry#setHealth}, which publishes the pool's new snapshot before it reports the
 * {@code server-up}/{@code server-down} event. Each server has one {@link HealthCounter}.
 *
 * <p>Scheduling: servers registered before the checker started are taken as up and get their first
 * check at a random offset within the interval; a server added later ({@code server-added}) starts
 * {@code checking} and is checked at once. Each next check starts {@code interval ± jitter} after
 * the previous one started, so a server that times out is still checked every interval and goes
 * down within {@code interval × fall + timeout}; checks of one server never overlap (the next one
 * is scheduled when the previous one ended, at once if that is already late), so they never
 * pile up on a slow server, and the jitter spreads the servers' checks out. A removed
 * server stops being checked. Pools with {@code type: none} (or no health check) are not checked
 * and their servers stay up. A reload's new {@code health-check} applies from each server's next
 * check (a changed rise/fall restarts its counter at the edge of its current state); on
 * {@code config-reloaded} servers of pools that just got checks are picked up.
 *
 * <p>Threads: all checks, counters and transitions run on one event loop of the checker's own
 * ({@code fulcrum-health}), never on the data plane's loops, so a slow server or a flood of checks
 * cannot delay requests. The same loop is the control thread of the {@link OutlierEjector}
 * ({@link #controlExecutor()}), so health transitions and ejections never race. The query methods
 * are thread-safe.
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final Registry registry;
    private final Clock clock;
    private final RandomGenerator random;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Map<Server, Target> targets = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** One checked server; fields without volatile are confined to {@link #loop}. */
    private static final class Target {
        final PoolRuntime pool;
        final Server server;
        HealthCounter counter;
        final LongAdder passed = new LongAdder();
        final LongAdder failed = new LongAdder();
        volatile CheckResult last;
        volatile ServerState activeState;
        ScheduledFuture<?> next;
        /** {@link System#nanoTime()} when the current check started. */
        long checkStarted;
        boolean stopped;

        Target(PoolRuntime pool, Server server, HealthCounter counter) {
            this.pool = pool;
            this.server = server;
            this.counter = counter;
            this.activeState = counter.state();
        }
    }

    /** Told of every check's result (metrics); called on the checker's loop, must be quick. */
    @FunctionalInterface
    public interface CheckListener {
        void checked(String pool, Server server, boolean pass);
    }

    private volatile CheckListener onCheck = (pool, server, pass) -> { };

    /** A checker with a random spread; starts checking at once. */
    public HealthChecker(Registry registry, Clock clock) {
        this(registry, clock, RandomGenerator.of("L64X128MixRandom"));
    }

    /** A checker that reports every result to {@code onCheck} (e.g. the health-check counter). */
    public HealthChecker(Registry registry, Clock clock, CheckListener onCheck) {
        this(registry, clock, RandomGenerator.of("L64X128MixRandom"));
        this.onCheck = onCheck;
    }

    /**
     * Starts checking every server of {@code registry}, and from now on every server added to it.
     * Calls {@link Registry#enableHealthChecking()} first, so servers added from now on wait in
     * {@code checking} for their first pass.
     *
     * @param random the source of the spread (seed it in tests); used on the checker's loop only
     */
    public HealthChecker(Registry registry, Clock clock, RandomGenerator random) {
        this.registry = registry;
        this.clock = clock;
        this.random = random;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-health", true),
                NioIoHandler.newFactory());
        this.loop = group.next();
        registry.enableHealthChecking();
        registry.onEvent(this::onEvent);
        loop.execute(this::trackAll);
    }

    /** Tracks every server not tracked yet (start, and a reload that turned checks on). On the loop. */
    private void trackAll() {
        for (PoolRuntime pool : registry.pools()) {
            for (Server server : pool.pool().servers()) {
                track(pool, server, server.health() == ServerState.CHECKING);
            }
        }
    }

    /**
     * The single control thread the checks run on; the {@link OutlierEjector} decides and ejects on
     * it too. Tasks must be short and must not block.
     */
    public ScheduledExecutorService controlExecutor() {
        return loop;
    }

    /** The last check of a server, empty before its first one (or when its pool is not checked). */
    public Optional<CheckResult> lastCheck(Server server) {
        Target t = targets.get(server);
        return t == null ? Optional.empty() : Optional.ofNullable(t.last);
    }

    /** Checks of a server so far, passed and failed. */
    public CheckCounts counts(Server server) {
        Target t = targets.get(server);
        return t == null ? new CheckCounts(0, 0) : new CheckCounts(t.passed.sum(), t.failed.sum());
    }

    /**
     * Whether a server's active checks say it may take traffic: its counter is on the up side and
     * its last check passed. True for servers that are not checked ({@code type: none}). The
     * {@link OutlierEjector} asks this when an ejection ends.
     */
    public boolean passing(Server server) {
        Target t = targets.get(server);
        if (t == null) {
            return true;
        }
        CheckResult last = t.last;
        return t.activeState == ServerState.UP && (last == null || last.ok());
    }

    private void onEvent(RegistryEvent event) {
        if (closed) {
            return;
        }
        switch (event.type()) {
            case "server-added" -> loop.execute(() -> {
                PoolRuntime pool = poolOrNull(event.pool());
                if (pool != null) {
                    pool.pool().find(event.server()).ifPresent(s -> track(pool, s, true));
                }
            });
            case "config-reloaded" -> loop.execute(this::trackAll);
            case "server-removed" -> loop.execute(() -> targets.values().removeIf(t -> {
                boolean gone = t.server.isRemoved();
                if (gone) {
                    stop(t);
                }
                return gone;
            }));
            default -> {
            }
        }
    }

    private PoolRuntime poolOrNull(String name) {
        try {
            return registry.pool(name);
        } catch (java.util.NoSuchElementException e) {
            return null;
        }
    }

    /** Starts checking a server, at once or at a random point of the first interval. On the loop. */
    private void track(PoolRuntime pool, Server server, boolean now) {
        HealthCheck check = pool.settings().healthCheck();
        if (closed || server.isRemoved() || check == null || check.type() == CheckType.NONE
                || targets.containsKey(server)) {
            return;
        }
        Target target = new Target(pool, server, counter(server.health(), check));
        targets.put(server, target);
        long delay = now ? 0 : (long) (random.nextDouble() * check.interval().toNanos());
        schedule(target, delay);
    }

    private static HealthCounter counter(ServerState state, HealthCheck check) {
        return switch (state) {
            case CHECKING -> HealthCounter.checking(check.rise(), check.fall());
            case DOWN -> HealthCounter.down(check.rise(), check.fall());
            default -> HealthCounter.up(check.rise(), check.fall());
        };
    }

    private void schedule(Target t, long delayNanos) {
        if (closed || t.stopped) {
            return;
        }
        t.next = loop.schedule(() -> check(t), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(Target t) {
        HealthCheck check = t.pool.settings().healthCheck();
        if (closed || t.stopped) {
            return;
        }
        if (t.server.isRemoved() || check == null || check.type() == CheckType.NONE) {
            targets.remove(t.server, t);
            stop(t);
            ServerState health = t.server.health();
            if (!t.server.isRemoved() && (health == ServerState.DOWN || health == ServerState.CHECKING)) {
                // a reload turned checks off: nothing will ever bring it up otherwise
                registry.setHealth(t.pool, t.server, ServerState.UP, "server-up", "health checks turned off");
            }
            return;
        }
        if (check.rise() != t.counter.rise() || check.fall() != t.counter.fall()) {
            // a reload changed rise/fall: keep the state, restart the counter at that state's edge
            t.counter = counter(t.counter.state(), check);
        }
        t.checkStarted = System.nanoTime();
        Probe.run(loop, NioSocketChannel.class, t.server.address(), check, outcome -> onOutcome(t, outcome));
    }

    private void onOutcome(Target t, Probe.Outcome outcome) {
        if (closed || t.stopped) {
            return;
        }
        t.last = new CheckResult(clock.instant(), outcome.ok(), outcome.detail());
        (outcome.ok() ? t.passed : t.failed).increment();
        onCheck.checked(t.pool.name(), t.server, outcome.ok());
        Optional<Transition> transition = outcome.ok() ? t.counter.pass() : t.counter.fail(outcome.detail());
        t.activeState = t.counter.state();
        transition.ifPresent(tr -> apply(t, tr));
        HealthCheck check = t.pool.settings().healthCheck();
        if (check != null) {
            long took = System.nanoTime() - t.checkStarted;
            schedule(t, Math.max(1, nextDelay(check) - took));
        }
    }

    private void apply(Target t, Transition tr) {
        if (t.server.isRemoved()) {
            return;
        }
        if (tr.to() == ServerState.UP) {
            registry.setHealth(t.pool, t.server, ServerState.UP, "server-up", tr.reason());
        } else if (tr.to() == ServerState.DOWN) {
            // Also ends an ejection: failing active checks is the stronger verdict.
            registry.setHealth(t.pool, t.server, ServerState.DOWN, "server-down", tr.reason());
        }
    }

    /** {@code interval × (1 ± jitter)}, uniformly. */
    private long nextDelay(HealthCheck check) {
        double spread = check.jitter() <= 0 ? 0 : (random.nextDouble() * 2 - 1) * check.jitter();
        return Math.max(1, (long) (check.interval().toNanos() * (1 + spread)));
    }

    private static void stop(Target t) {
        t.stopped = true;
        if (t.next != null) {
            t.next.cancel(false);
        }
    }

    @Override
    public void close() {
        closed = true;
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        log.debug("health checks stopped");
    }
}
