package dev.fulcrum.server.health;

import dev.fulcrum.core.text.Durations;
import dev.fulcrum.core.health.OutlierDetector;
import dev.fulcrum.core.health.OutlierDetector.Decision;
import dev.fulcrum.core.health.OutlierDetector.History;
import dev.fulcrum.core.health.RequestOutcome;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Passive outlier detection at run time (spec {@code outlier-detection}): the proxy reports every
 * request's {@link RequestOutcome} with {@link #onResult}; when a server's streak of gateway failures or
 * 5xx reaches the pool's threshold it is ejected ({@code server-ejected}) for
 * {@code base-ejection × n} (at most 10×), within {@code max-ejection-percent} of the pool — the
 * rules live in {@link OutlierDetector}.
 *
 * <p>When an ejection ends, the server returns ({@code server-up}) if its active checks pass
 * ({@code activeChecksPass}, usually {@link HealthChecker#passing}); otherwise it stays ejected and
 * is looked at again one check interval later. If its active checks take it {@code down}
 * meanwhile, the ejection is over and the health checks decide its return. The ejection is a
 * flag of its own ({@link Server#ejectedUntil()}), so it never overwrites the checks' verdict.
 *
 * <p>Threads: {@link #onResult} is on the request path and costs a map lookup and one or two
 * atomic operations; the decision, the ejection and its end are commands on the registry's control
 * thread ({@link ControlPlane}), in its time, sent once per trip thanks to a CAS flag, so no
 * request thread ever waits for the registry and two threads never eject the same server.
 */
public final class OutlierEjector {

    private static final Logger log = LoggerFactory.getLogger(OutlierEjector.class);

    private final Registry registry;
    private final ControlPlane control;
    private final Predicate<Server> activeChecksPass;
    private final Map<Server, Tracker> trackers = new ConcurrentHashMap<>();
    private final Map<OutlierDetection, OutlierDetector> detectors = new ConcurrentHashMap<>();
    /** Stands for invalid settings: no detection. */
    private static final OutlierDetector DISABLED = new OutlierDetector(0, 0, Duration.ofSeconds(1), 0);

    /** Per-server streaks (request threads) and ejection history (control thread only). */
    private static final class Tracker {
        final AtomicInteger gateway = new AtomicInteger();
        final AtomicInteger fivexx = new AtomicInteger();
        final AtomicBoolean decisionPending = new AtomicBoolean();
        History history = History.NONE;
    }

    /** @param activeChecksPass whether a server's active checks let it back when its ejection ends */
    public OutlierEjector(Registry registry, Predicate<Server> activeChecksPass) {
        this.registry = registry;
        this.control = registry.control();
        this.activeChecksPass = activeChecksPass;
        registry.onEvent(this::onEvent);
    }

    /** Wires an ejector to a health checker's verdict on return. */
    public static OutlierEjector on(Registry registry, HealthChecker checker) {
        return new OutlierEjector(registry, checker::passing);
    }

    /** On the control thread. */
    private void onEvent(PoolEvent event) {
        switch (event) {
            case PoolEvent.ServerRemoved removed -> trackers.remove(removed.server());
            case PoolEvent.ServerAdded _, PoolEvent.ServerUp _, PoolEvent.ServerDown _, PoolEvent.ServerEjected _,
                 PoolEvent.ServerDraining _, PoolEvent.ServerEnabled _, PoolEvent.WeightChanged _,
                 PoolEvent.MacLearned _, PoolEvent.MacLost _, PoolEvent.ScaleEvent _, PoolEvent.HaEvent _,
                 PoolEvent.ConfigReloaded _, PoolEvent.ClusterEvent _ -> {
            }
        }
    }

    /**
     * Reports one request's outcome for {@code server} of {@code pool}. Cheap and non-blocking;
     * a no-op when the pool has no {@code outlier-detection}.
     */
    public void onResult(PoolRuntime pool, Server server, RequestOutcome outcome) {
        OutlierDetection settings = pool.settings().outlierDetection();
        if (settings == null) {
            return;
        }
        Tracker t = trackers.get(server);
        if (t == null) {
            if (outcome == RequestOutcome.SUCCESS || server.isRemoved()) {
                return; // nothing to reset; keeps the common path allocation-free
            }
            t = trackers.computeIfAbsent(server, s -> new Tracker());
        }
        int gateway;
        int fivexx;
        switch (outcome) {
            case SUCCESS -> {
                // read before write: a healthy server's counters stay shared-clean across cores
                if (t.gateway.get() != 0) {
                    t.gateway.set(0);
                }
                if (t.fivexx.get() != 0) {
                    t.fivexx.set(0);
                }
                return;
            }
            case GATEWAY_FAILURE -> {
                gateway = t.gateway.incrementAndGet();
                fivexx = t.fivexx.incrementAndGet();
            }
            case SERVER_5XX -> {
                t.gateway.set(0);
                gateway = 0;
                fivexx = t.fivexx.incrementAndGet();
            }
            default -> throw new IllegalArgumentException(outcome.name());
        }
        OutlierDetector detector = detectors.computeIfAbsent(settings, OutlierEjector::detector);
        if (detector == DISABLED) {
            return;
        }
        String reason = detector.tripReason(gateway, fivexx);
        if (reason != null && t.decisionPending.compareAndSet(false, true)) {
            Tracker tracker = t;
            control.execute(() -> decide(pool, server, tracker, detector, reason));
        }
    }

    /** One detector per distinct settings (a reload brings new ones); a failure path never allocates it twice. */
    private static OutlierDetector detector(OutlierDetection s) {
        try {
            return new OutlierDetector(s.consecutiveGatewayFailures(), s.consecutive5xx(), s.baseEjection(),
                    s.maxEjectionPercent());
        } catch (IllegalArgumentException e) {
            // the config loader validates these; should it not, detection is off rather than the request failing
            log.warn("outlier detection off, invalid settings {}: {}", s, e.getMessage());
            return DISABLED;
        }
    }

    /** On the control thread. */
    private void decide(PoolRuntime pool, Server server, Tracker t, OutlierDetector detector, String reason) {
        try {
            // Whatever the decision, the streak that tripped is used up: a held or already-out
            // server needs a fresh streak before it is looked at again.
            t.gateway.set(0);
            t.fivexx.set(0);
            if (server.isRemoved() || server.health() != ServerState.UP) {
                return;
            }
            var servers = pool.pool().servers();
            int ejected = (int) servers.stream().filter(Server::isEjected).count();
            Decision decision = detector.decide(control.now(), t.history, ejected, servers.size());
            switch (decision) {
                case Decision.Eject eject -> {
                    t.history = eject.next();
                    registry.eject(pool, server, control.now().plus(eject.time()),
                            reason + ", ejected for " + Durations.format(eject.time()));
                    schedule(() -> endEjection(pool, server, t, eject.time()), eject.time());
                }
                case Decision.Hold hold -> log.warn("outlier {} of pool {} not ejected ({}): {}",
                        server.id(), pool.name(), reason, hold.why());
            }
        } finally {
            t.decisionPending.set(false);
        }
    }

    /** On the control thread, at the ejection's deadline (and every check interval after it). */
    private void endEjection(PoolRuntime pool, Server server, Tracker t, Duration time) {
        if (server.isRemoved()) {
            trackers.remove(server, t);
            return;
        }
        if (!server.isEjected()) {
            return; // active checks took it down meanwhile; they decide its return
        }
        if (activeChecksPass.test(server)) {
            t.gateway.set(0);
            t.fivexx.set(0);
            t.history = t.history.returned(control.now());
            registry.endEjection(pool, server,
                    "ejection of " + Durations.format(time) + " ended, health checks pass");
        } else {
            // still out until its checks pass: looked at again one check interval later
            Duration next = interval(pool);
            registry.eject(pool, server, control.now().plus(next), "ejection extended, health checks fail");
            schedule(() -> endEjection(pool, server, t, time), next);
        }
    }

    private void schedule(Runnable task, Duration delay) {
        control.schedule(delay, task);
    }

    private static Duration interval(PoolRuntime pool) {
        HealthCheck check = pool.settings().healthCheck();
        return check == null || check.type() == CheckType.NONE ? Duration.ofSeconds(1) : check.interval();
    }
}
