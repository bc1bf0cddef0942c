package dev.fulcrum.server.health;

import dev.fulcrum.core.health.HealthCounter;
import dev.fulcrum.core.health.HealthTransition;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.Scheduler;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;

/**
 * Runs the active health checks ({@code health-check} of each pool) for every server of a
 * {@link Registry}, and moves servers between {@code checking}, {@code up} and {@code down} through
 * {@link Registry#setCheck}, which publishes the pool's new snapshot before it reports the
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
 * <p>Threads: scheduling, counters and transitions run on the registry's control thread
 * ({@link ControlPlane}), in its time, so health transitions, ejections and admin commands never
 * race; the probes' I/O runs on the {@link Prober}'s own event loop ({@code fulcrum-health}), whose
 * outcomes come back to the control thread as commands. The query methods are thread-safe.
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final Registry registry;
    private final ControlPlane control;
    private final RandomGenerator random;
    private final Prober prober;
    private final CheckListener onCheck;
    private final Map<Server, Target> targets = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** One checked server; fields without volatile are confined to the control thread. */
    private static final class Target {
        final PoolRuntime pool;
        final Server server;
        HealthCounter counter;
        volatile CheckResult last;
        Scheduler.Scheduled next;
        /** When the current check started, in the control thread's time. */
        Instant checkStarted;
        boolean stopped;

        Target(PoolRuntime pool, Server server, HealthCounter counter) {
            this.pool = pool;
            this.server = server;
            this.counter = counter;
        }
    }

    /** Told of every check's result (metrics); called on the control thread, must be quick. */
    @FunctionalInterface
    public interface CheckListener {
        void checked(String pool, Server server, boolean pass);
    }

    /** A checker with a random spread; starts checking at once. */
    public HealthChecker(Registry registry) {
        this(registry, RandomGenerator.of("L64X128MixRandom"));
    }

    /** A checker that reports every result to {@code onCheck} (e.g. the health-check counter). */
    public HealthChecker(Registry registry, CheckListener onCheck) {
        this(registry, RandomGenerator.of("L64X128MixRandom"), onCheck, Prober.netty(registry.control()));
    }

    /** @param random the source of the spread (seed it in tests); used on the control thread only */
    public HealthChecker(Registry registry, RandomGenerator random) {
        this(registry, random, (pool, server, pass) -> { }, Prober.netty(registry.control()));
    }

    /**
     * Starts checking every server of {@code registry}, and from now on every server added to it.
     * Calls {@link Registry#enableHealthChecking()} first, so servers added from now on wait in
     * {@code checking} for their first pass.
     */
    HealthChecker(Registry registry, RandomGenerator random, CheckListener onCheck, Prober prober) {
        this.registry = registry;
        this.control = registry.control();
        this.random = random;
        this.onCheck = onCheck;
        this.prober = prober;
        registry.enableHealthChecking();
        registry.onEvent(this::onEvent);
        control.execute(this::trackAll);
    }

    /** Tracks every server not tracked yet (start, and a reload that turned checks on). On the control thread. */
    private void trackAll() {
        for (PoolRuntime pool : registry.pools()) {
            for (Server server : pool.pool().servers()) {
                track(pool, server, server.check() == CheckState.CHECKING);
            }
        }
    }

    /** The last check of a server, empty before its first one (or when its pool is not checked). */
    public Optional<CheckResult> lastCheck(Server server) {
        Target t = targets.get(server);
        return t == null ? Optional.empty() : Optional.ofNullable(t.last);
    }


    /**
     * Whether a server's active checks say it may take traffic: their verdict is up (an ejection
     * does not overwrite it) and its last check passed. True for servers that are not checked
     * ({@code type: none}). The {@link OutlierEjector} asks this when an ejection ends.
     */
    public boolean passing(Server server) {
        Target t = targets.get(server);
        if (t == null) {
            return true;
        }
        CheckResult last = t.last;
        return server.check() == CheckState.UP && (last == null || last.ok());
    }

    /** On the control thread. */
    private void onEvent(PoolEvent event) {
        if (closed) {
            return;
        }
        switch (event) {
            case PoolEvent.ServerAdded added -> track(added.pool(), added.server(), true);
            case PoolEvent.ServerRemoved removed -> {
                Target t = targets.remove(removed.server());
                if (t != null) {
                    stop(t);
                }
            }
            case PoolEvent.ConfigReloaded _ -> trackAll();
            case PoolEvent.ClusterEvent _ -> {
            }
            case PoolEvent.ServerUp _, PoolEvent.ServerDown _, PoolEvent.ServerEjected _, PoolEvent.ServerDraining _,
                 PoolEvent.ServerEnabled _, PoolEvent.WeightChanged _, PoolEvent.MacLearned _,
                 PoolEvent.MacLost _, PoolEvent.ScaleEvent _, PoolEvent.HaEvent _ -> {
            }
        }
    }

    /** Starts checking a server, at once or at a random point of the first interval. On the control thread. */
    private void track(PoolRuntime pool, Server server, boolean now) {
        HealthCheck check = pool.settings().healthCheck();
        if (closed || server.isRemoved() || check == null || check.type() == CheckType.NONE
                || targets.containsKey(server)) {
            return;
        }
        Target target = new Target(pool, server, counter(server.check(), check));
        targets.put(server, target);
        long delay = now ? 0 : (long) (random.nextDouble() * check.interval().toNanos());
        schedule(target, Duration.ofNanos(delay));
    }

    private static HealthCounter counter(CheckState state, HealthCheck check) {
        return switch (state) {
            case CHECKING -> HealthCounter.checking(check.rise(), check.fall());
            case DOWN -> HealthCounter.down(check.rise(), check.fall());
            case UP -> HealthCounter.up(check.rise(), check.fall());
        };
    }

    private static CheckState verdict(ServerState counterState) {
        return switch (counterState) {
            case CHECKING -> CheckState.CHECKING;
            case DOWN -> CheckState.DOWN;
            case UP -> CheckState.UP;
            case EJECTED, DRAINING -> throw new IllegalStateException("not a counter state: " + counterState);
        };
    }

    private void schedule(Target t, Duration delay) {
        if (closed || t.stopped) {
            return;
        }
        t.next = control.schedule(delay, () -> check(t));
    }

    private void check(Target t) {
        HealthCheck check = t.pool.settings().healthCheck();
        if (closed || t.stopped) {
            return;
        }
        if (t.server.isRemoved() || check == null || check.type() == CheckType.NONE) {
            targets.remove(t.server, t);
            stop(t);
            if (!t.server.isRemoved() && t.server.check() != CheckState.UP) {
                // a reload turned checks off: nothing will ever bring it up otherwise
                registry.setCheck(t.pool, t.server, CheckState.UP, "health checks turned off");
            }
            return;
        }
        if (check.rise() != t.counter.rise() || check.fall() != t.counter.fall()) {
            // a reload changed rise/fall: keep the state, restart the counter at that state's edge
            t.counter = counter(verdict(t.counter.state()), check);
        }
        t.checkStarted = control.now();
        prober.probe(t.server.address(), check, t.pool.settings().protocol(), t.pool.tls(),
                outcome -> onOutcome(t, outcome));
    }

    /** On the control thread. */
    private void onOutcome(Target t, Probe.Result outcome) {
        if (closed || t.stopped) {
            return;
        }
        t.last = new CheckResult(control.now(), outcome.ok(), outcome.detail());
        onCheck.checked(t.pool.name(), t.server, outcome.ok());
        Optional<HealthTransition> transition = outcome.ok() ? t.counter.pass() : t.counter.fail(outcome.detail());
        transition.ifPresent(tr -> apply(t, tr));
        HealthCheck check = t.pool.settings().healthCheck();
        if (check != null) {
            long took = Duration.between(t.checkStarted, control.now()).toNanos();
            schedule(t, Duration.ofNanos(Math.max(1, nextDelay(check) - took)));
        }
    }

    private void apply(Target t, HealthTransition tr) {
        if (t.server.isRemoved()) {
            return;
        }
        // A down verdict also ends an ejection: failing active checks is the stronger verdict.
        registry.setCheck(t.pool, t.server, verdict(tr.to()), tr.reason());
    }

    /** {@code interval × (1 ± jitter)}, uniformly. */
    private long nextDelay(HealthCheck check) {
        double spread = check.jitter() <= 0 ? 0 : (random.nextDouble() * 2 - 1) * check.jitter();
        return Math.max(1, (long) (check.interval().toNanos() * (1 + spread)));
    }

    private static void stop(Target t) {
        t.stopped = true;
        if (t.next != null) {
            t.next.cancel();
        }
    }

    @Override
    public void close() {
        closed = true;
        prober.close();
        log.debug("health checks stopped");
    }
}
