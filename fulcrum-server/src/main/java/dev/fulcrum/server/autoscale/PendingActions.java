package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.registry.PoolRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;

/**
 * In a cluster, the {@link PendingAction}s one auto-scaler's node owes, and the leader's
 * leftovers (spec cluster.md: "a new leader picks up leftovers"): scale-ins to finish by stopping
 * their server, scale-outs nobody runs any more, and the {@code process} servers of nodes that
 * left the member list. Which pending action this node is running itself is known here
 * ({@link #begun}, {@link #ended}), so a leader never drops its own scale-out in progress.
 *
 * <p>Threads: {@link #finish} on the control thread, once per step; the etcd writes and the
 * stops it starts run on the provisioning thread.
 */
final class PendingActions {

    private static final Logger log = LoggerFactory.getLogger(PendingActions.class);

    /** How a failure is reported: an event and the {@code FulcrumScaleFailed} alert (AutoScaler#failed). */
    interface Failures {
        void report(String type, String server, String detail);
    }

    private final Autoscale config;
    private final Provisioner provisioner;
    private final ExecutorService provisioning;
    private final Clock clock;
    private final Failures failures;
    private final BooleanSupplier closed;

    /** Pending actions (by id) this node is carrying out now. */
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    /** Pending actions this node finished, until etcd's copy is gone from its view. */
    private final Set<String> finished = ConcurrentHashMap.newKeySet();
    /** Pending scale-ins whose stop failed: when to try again. */
    private final Map<String, Instant> retryAt = new ConcurrentHashMap<>();
    /** When this node first saw each pending scale-in (its drain-timeout counts from then). Control thread. */
    private final Map<String, Instant> firstSeen = new HashMap<>();
    /** Servers whose owner left, being taken over or removed now. */
    private final Set<String> orphans = ConcurrentHashMap.newKeySet();
    /** This node's process servers known to be in the shared pool (added, taken over, or seen there). */
    private final Set<String> inPool = ConcurrentHashMap.newKeySet();
    /**
     * Of those, when each was first seen gone without a scale-in. Both forget a server once this
     * node stopped it, before the provisioning thread can start another on its port.
     */
    private final Map<String, Instant> goneSince = new ConcurrentHashMap<>();
    /** Servers that left the shared pool without a scale-in, being stopped now. */
    private final Set<String> strays = ConcurrentHashMap.newKeySet();

    PendingActions(Autoscale config, Provisioner provisioner, ExecutorService provisioning, Clock clock,
                   Failures failures, BooleanSupplier closed) {
        this.config = config;
        this.provisioner = provisioner;
        this.provisioning = provisioning;
        this.clock = clock;
        this.failures = failures;
        this.closed = closed;
    }

    /** This node begins pending action {@code id} (before it is recorded): not a leftover. */
    void begun(String id) {
        running.add(id);
    }

    /** {@code address}, a server of this node's provisioner, is in the shared pool now (added, or taken over). */
    void inPool(String address) {
        inPool.add(address);
    }

    /** This node is done with {@code id}, whatever came of it. */
    void ended(String id) {
        running.remove(id);
    }

    /**
     * In a cluster, each step on every node, before deciding: the pending actions this node owes.
     * A scale-in's server is stopped once it is gone from this node's pool and {@code drain-timeout}
     * has passed since this node saw the removal (each node drains it that long at most), by the
     * node that owns its process, by the leader when that node left the cluster (the process is
     * taken over by its id, on this machine), or by the leader for {@code exec}. The leader also
     * drops pending scale-outs it is not running (their node died or lost the lead mid-way: it
     * cannot add its server any more), and takes over, or removes when their process is gone, the
     * {@code process} servers of nodes that left the member list. On the control thread; the
     * etcd writes and the stops go to the provisioning thread.
     */
    void finish(ScalingLeadership cluster, PoolRuntime pool) {
        Instant now = clock.instant();
        boolean leading = cluster.leading();
        Set<String> live = cluster.members();
        Set<String> seen = new HashSet<>();
        for (PendingAction p : cluster.pending(config.pool())) {
            seen.add(p.id());
            if (running.contains(p.id()) || finished.contains(p.id())) {
                continue;
            }
            if (p.out()) {
                if (leading) {
                    running.add(p.id());
                    provisioning.execute(() -> abandon(cluster, p));
                }
                continue;
            }
            Instant first = firstSeen.computeIfAbsent(p.id(), _ -> now);
            Instant retry = retryAt.get(p.id());
            boolean drained = pool.pool().find(p.server().address()).isEmpty()
                    && !now.isBefore(first.plus(pool.settings().drainTimeout()));
            if (drained && (retry == null || !now.isBefore(retry)) && stopsHere(cluster, p.server(), leading, live)) {
                running.add(p.id());
                provisioning.execute(() -> stopShared(cluster, p));
            }
        }
        firstSeen.keySet().retainAll(seen);
        retryAt.keySet().retainAll(seen);
        finished.retainAll(seen);
        stopStrays(cluster, pool, now);
        if (leading) {
            for (ScaledServer s : cluster.scaled(config.pool()).values()) {
                if (s.isProcess() && !live.contains(s.node()) && orphans.add(s.address())) {
                    provisioning.execute(() -> takeOver(cluster, s));
                }
            }
        }
    }

    /**
     * This node's process servers that left the shared pool without a scale-in (an operator's
     * removal through the admin API, a {@code cluster push} without them): stopped as a scale-in's
     * server is, once gone from this node's pool and {@code drain-timeout} after this node saw
     * them go. Only servers known to have been in the shared pool count, so one just provisioned and not
     * added yet is never taken for one.
     */
    private void stopStrays(ScalingLeadership cluster, PoolRuntime pool, Instant now) {
        Map<String, ScaledServer> scaled = cluster.scaled(config.pool());
        Set<String> pendingIn = new HashSet<>();
        cluster.pending(config.pool()).forEach(p -> {
            if (!p.out()) {
                pendingIn.add(p.server().address());
            }
        });
        Set<String> mine = new HashSet<>();
        provisioner.running().forEach(a -> mine.add(a.toString()));
        inPool.retainAll(mine);
        goneSince.keySet().retainAll(mine);
        for (String address : mine) {
            ScaledServer record = scaled.get(address);
            if (record != null) {
                inPool.add(address);
                goneSince.remove(address);
                if (!record.node().equals(cluster.node()) && !orphans.contains(address)) {
                    // taken over by the leader while this node was out of the member list (a pause): its process now
                    provisioner.release(HostPort.parse(address));
                    log.info("pool {}: {} is node {}'s now", config.pool(), address, record.node());
                }
                continue;
            }
            if (!inPool.contains(address) || pendingIn.contains(address) || strays.contains(address)) {
                continue;
            }
            Instant gone = goneSince.computeIfAbsent(address, _ -> now);
            if (pool.pool().find(address).isEmpty() && !now.isBefore(gone.plus(pool.settings().drainTimeout()))) {
                strays.add(address);
                provisioning.execute(() -> stopStray(address));
            }
        }
    }

    /** Forgets a server this node stopped: a later one on its port is another server. Provisioning thread. */
    private void stopped(String address) {
        inPool.remove(address);
        goneSince.remove(address);
    }

    private void stopStray(String address) {
        try {
            if (!closed.getAsBoolean()) {
                provisioner.deprovision(HostPort.parse(address));
                stopped(address);
                log.info("pool {}: stopped {}: it left the shared pool without a scale-in", config.pool(), address);
            }
        } catch (Provisioner.ProvisionException | RuntimeException e) {
            log.warn("pool {}: could not stop {}, which left the shared pool: {}", config.pool(), address, e.getMessage());
        } finally {
            strays.remove(address);
        }
    }

    /** Whether this node stops {@code s}: its process's owner, or the leader (exec, or an owner that left). */
    private static boolean stopsHere(ScalingLeadership cluster, ScaledServer s, boolean leading, Set<String> live) {
        if (!s.isProcess()) {
            return leading;
        }
        return s.node().equals(cluster.node()) || leading && !live.contains(s.node());
    }

    private void stopShared(ScalingLeadership cluster, PendingAction p) {
        ScaledServer s = p.server();
        try {
            if (closed.getAsBoolean()) {
                return;
            }
            HostPort address = HostPort.parse(s.address());
            // a process this node does not hold: its owner left, or this node's earlier life started it
            boolean running = !s.isProcess() || provisioner.process(address) != null
                    || provisioner.adopt(address, s.pid(), s.started());
            if (running) {
                provisioner.deprovision(address);
                stopped(s.address());
            }
            cluster.done(config.pool(), p.id());
            finished.add(p.id());
            log.info("pool {}: scale-in of {} finished: {}", config.pool(), s.address(),
                    running ? "stopped" : "its process was gone already");
        } catch (Provisioner.ProvisionException e) {
            retryAt.put(p.id(), clock.instant().plus(config.cooldown()));
            failures.report("scale-in-failed", s.address(), "could not stop " + s.address() + ": " + e.getMessage()
                    + " (retry after cooldown)");
        } catch (RuntimeException e) {
            retryAt.put(p.id(), clock.instant().plus(config.cooldown()));
            log.warn("pool {}: finishing the scale-in of {} failed (retry after cooldown): {}", config.pool(),
                    s.address(), e.toString());
        } finally {
            running.remove(p.id());
        }
    }

    private void abandon(ScalingLeadership cluster, PendingAction p) {
        try {
            if (!closed.getAsBoolean() && cluster.abandon(config.pool(), p.id())) {
                finished.add(p.id());
                log.info("pool {}: dropped the scale-out node {} began at {} and did not finish; deciding again"
                        + " after the cooldown", config.pool(), p.node(), p.since());
            }
        } catch (RuntimeException e) {
            log.warn("pool {}: dropping a pending scale-out failed: {}", config.pool(), e.toString());
        } finally {
            running.remove(p.id());
        }
    }

    /** A {@code process} server of a node that left: taken over when its process runs, removed when it is gone. */
    private void takeOver(ScalingLeadership cluster, ScaledServer s) {
        try {
            if (closed.getAsBoolean()) {
                return;
            }
            HostPort address = HostPort.parse(s.address());
            if (provisioner.adopt(address, s.pid(), s.started())) {
                if (cluster.adopt(config.pool(), s)) {
                    inPool.add(s.address());
                    log.info("pool {}: took over {} (pid {}) from node {}, which left the cluster", config.pool(),
                            s.address(), s.pid(), s.node());
                } else {
                    provisioner.release(address);
                }
            } else if (cluster.forget(config.pool(), s)) {
                log.info("pool {}: removed {}: node {}, which started it, left the cluster and its process is gone",
                        config.pool(), s.address(), s.node());
            }
        } catch (RuntimeException e) {
            log.warn("pool {}: taking over {} failed: {}", config.pool(), s.address(), e.toString());
        } finally {
            orphans.remove(s.address());
        }
    }

    /** Ends a pending action this node began, whatever came of it; etcd trouble leaves it to the leader. */
    void done(ScalingLeadership cluster, String id) {
        try {
            cluster.done(config.pool(), id);
        } catch (RuntimeException e) {
            log.debug("pool {}: pending action {} left for the leader: {}", config.pool(), id, e.toString());
        }
    }
}
