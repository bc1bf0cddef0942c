package dev.fulcrum.server.health;

import dev.fulcrum.core.health.SlowStart;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slow start at run time (spec {@code slow-start}): when a server of a pool with a slow-start
 * window comes up ({@code server-up}: first pass, recovery, end of an ejection), its weight in the
 * balancer ramps from about 10% to 100% over the window ({@link SlowStart}). The pool's snapshot is
 * republished {@link #STEPS} times over the window, so the balancer sees the weight grow in steps.
 * Servers up when Fulcrum started take their full weight at once.
 *
 * <p>The ramp is a flag of the server's own ({@link Server#rampingSince()}), set when it comes up
 * and cleared at the step that ends the window or when it leaves rotation; the pool's
 * effective-weight function is a pure function of that flag, the window and the time. The
 * {@code server-up} event comes after the snapshot that put the server in rotation, so that
 * snapshot still carries the full weight; the ramped one replaces it straight away, in the same
 * command, before any later event.
 *
 * <p>Threads: everything runs on the registry's control thread ({@link ControlPlane}), in its
 * time: the event, each step (a scheduled command) and the weight function, which the pool calls
 * while it publishes (which only commands do).
 */
public final class SlowStartRamp {

    /** Republications per slow-start window (at most; never more often than every 100 ms). */
    public static final int STEPS = 20;

    private final ControlPlane control;
    /** Pools whose effective-weight function is this ramp's; control thread only. */
    private final Set<PoolRuntime> installed = ConcurrentHashMap.newKeySet();

    public SlowStartRamp(Registry registry) {
        this.control = registry.control();
        registry.onEvent(this::onEvent);
    }

    /** On the control thread. */
    private void onEvent(PoolEvent e) {
        switch (e) {
            case PoolEvent.ServerUp up -> ramp(up.pool(), up.server());
            case PoolEvent.ServerAdded _, PoolEvent.ServerRemoved _, PoolEvent.ServerDown _,
                 PoolEvent.ServerEjected _, PoolEvent.ServerDraining _, PoolEvent.ServerEnabled _,
                 PoolEvent.WeightChanged _, PoolEvent.MacLearned _, PoolEvent.MacLost _, PoolEvent.ScaleEvent _,
                 PoolEvent.HaEvent _, PoolEvent.ConfigReloaded _, PoolEvent.ClusterEvent _ -> {
            }
        }
    }

    private void ramp(PoolRuntime pool, Server server) {
        Duration window = pool.settings().slowStart();
        if (window == null || window.toMillis() <= 0 || server.isRemoved()) {
            return;
        }
        Instant since = control.now();
        pool.pool().setRampingSince(server, since);
        if (installed.add(pool)) {
            pool.pool().setEffectiveWeight(s -> effectiveWeight(pool, s));
        }
        Duration step = Duration.ofMillis(Math.max(100, window.toMillis() / STEPS));
        scheduleStep(pool, server, since, step);
    }

    /** The weight the balancer uses for {@code server} now. Called by the pool while it publishes. */
    private int effectiveWeight(PoolRuntime pool, Server server) {
        Instant since = server.rampingSince();
        Duration window = pool.settings().slowStart();
        if (since == null || window == null) {
            return server.weight();
        }
        return SlowStart.effectiveWeight(server.weight(), Duration.between(since, control.now()), window);
    }

    /** The ramp that began at {@code since} takes its next step; a newer ramp has its own steps. */
    private void scheduleStep(PoolRuntime pool, Server server, Instant since, Duration step) {
        control.schedule(step, () -> {
            if (!since.equals(server.rampingSince())) {
                return; // ended, or replaced by a newer ramp
            }
            Duration window = pool.settings().slowStart();
            boolean outOfRotation = server.isRemoved() || server.health() != ServerState.UP;
            if (outOfRotation || window == null || !SlowStart.ramping(Duration.between(since, control.now()), window)) {
                // done, or out of rotation: its next server-up starts a new ramp
                pool.pool().setRampingSince(server, null);
                return;
            }
            pool.pool().republish();
            scheduleStep(pool, server, since, step);
        });
    }
}
