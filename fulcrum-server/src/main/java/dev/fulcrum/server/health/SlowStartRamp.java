package dev.fulcrum.server.health;

import dev.fulcrum.core.health.SlowStart;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.RegistryEvent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Slow start at run time (spec {@code slow-start}): when a server of a pool with a slow-start
 * window comes up ({@code server-up}: first pass, recovery, end of an ejection), its weight in the
 * balancer ramps from about 10% to 100% over the window ({@link SlowStart}). The pool's snapshot is
 * republished {@link #STEPS} times over the window, so the balancer sees the weight grow in steps.
 * Servers up when Fulcrum started take their full weight at once.
 *
 * <p>The {@code server-up} event comes after the snapshot that put the server in rotation, so
 * that snapshot still carries the full weight; the ramped one replaces it straight away, on the
 * same thread, before any later event.
 *
 * <p>Thread-safe; republishing runs on the given control executor.
 */
public final class SlowStartRamp {

    /** Republications per slow-start window (at most; never more often than every 100 ms). */
    public static final int STEPS = 20;

    private final Registry registry;
    private final Clock clock;
    private final ScheduledExecutorService control;
    private final Map<Server, Instant> upSince = new ConcurrentHashMap<>();
    private final Set<String> installed = ConcurrentHashMap.newKeySet();

    public SlowStartRamp(Registry registry, Clock clock, ScheduledExecutorService control) {
        this.registry = registry;
        this.clock = clock;
        this.control = control;
        registry.onEvent(this::onEvent);
    }

    private void onEvent(RegistryEvent e) {
        if (!e.type().equals("server-up") && !e.type().equals("server-removed")) {
            return;
        }
        PoolRuntime pool;
        try {
            pool = registry.pool(e.pool());
        } catch (NoSuchElementException gone) {
            return;
        }
        if (e.type().equals("server-removed")) {
            upSince.keySet().removeIf(Server::isRemoved);
            return;
        }
        Duration window = pool.settings().slowStart();
        if (window == null || window.toMillis() <= 0) {
            return;
        }
        Server server = pool.pool().find(e.server()).orElse(null);
        if (server == null) {
            return;
        }
        upSince.put(server, clock.instant());
        if (installed.add(pool.name())) {
            pool.pool().setEffectiveWeight(s -> effectiveWeight(pool, s));
        } else {
            pool.pool().republish();
        }
        long step = Math.max(100, window.toMillis() / STEPS);
        scheduleStep(pool, server, step);
    }

    /** The weight the balancer uses for {@code server} now. Called under the pool's lock. */
    private int effectiveWeight(PoolRuntime pool, Server server) {
        Instant since = upSince.get(server);
        Duration window = pool.settings().slowStart();
        if (since == null || window == null) {
            return server.weight();
        }
        Duration sinceUp = Duration.between(since, clock.instant());
        if (!SlowStart.ramping(sinceUp, window)) {
            upSince.remove(server, since);
        }
        return SlowStart.effectiveWeight(server.weight(), sinceUp, window);
    }

    private void scheduleStep(PoolRuntime pool, Server server, long stepMs) {
        try {
            control.schedule(() -> {
                if (server.isRemoved() || server.health() != dev.fulcrum.core.pool.ServerState.UP) {
                    upSince.remove(server); // out of rotation: its next server-up starts a new ramp
                    return;
                }
                if (!upSince.containsKey(server)) {
                    return;
                }
                pool.pool().republish();
                if (upSince.containsKey(server)) {
                    scheduleStep(pool, server, stepMs);
                }
            }, stepMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // shutting down: the server keeps the weight it has
        }
    }
}
