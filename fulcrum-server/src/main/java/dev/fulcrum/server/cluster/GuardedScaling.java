package dev.fulcrum.server.cluster;

import dev.fulcrum.server.autoscale.PendingAction;
import dev.fulcrum.server.autoscale.ScaledServer;
import dev.fulcrum.server.autoscale.ScalingLeadership;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The auto-scaler's actions as etcd transactions guarded by the election (spec cluster.md): each
 * applies only while {@link KeyLayout#leader} still holds this node's record (its name and current
 * lease), so a node that lost the lease — paused, cut off — cannot act even if it still believes it
 * leads. A decision is recorded under {@link KeyLayout#scaling} (the cooldown every later leader
 * honours) in the same transaction as its first step, and an action of two steps is recorded as
 * pending ({@link KeyLayout#pending}) until its last one ({@link PendingAction}). Server entries
 * are written as the admin API writes them, plus their {@code scaled} record, so every node
 * applies the change and knows which servers the auto-scaler started.
 *
 * <p>Thread-safe; the actions block (etcd, then this node applying the revision, bounded).
 */
final class GuardedScaling implements ScalingLeadership {

    /** How long an action waits for this node to apply it (so the auto-scaler sees the change at once). */
    private static final Duration APPLY_WAIT = Duration.ofSeconds(5);

    private final EtcdStore store;
    private final KeyLayout layout;
    private final String node;
    /** This node's leader record while it leads (by its last applied revision); null otherwise. */
    private final Supplier<LeaderRecord> holding;
    /** What etcd records about scaling, by the last applied revision. */
    private final Supplier<ScalingState> state;
    private final BiFunction<Long, Boolean, CompletableFuture<Void>> applied;
    private final List<Runnable> leadListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    GuardedScaling(EtcdStore store, KeyLayout layout, String node, Supplier<LeaderRecord> holding,
                   Supplier<ScalingState> state, BiFunction<Long, Boolean, CompletableFuture<Void>> applied) {
        this.store = store;
        this.layout = layout;
        this.node = node;
        this.holding = holding;
        this.state = state;
        this.applied = applied;
    }

    @Override
    public boolean leading() {
        return holding.get() != null;
    }

    @Override
    public void onLead(Runnable listener) {
        leadListeners.add(listener);
    }

    /** This node has just started to lead (ClusterNode, on its thread). */
    void started() {
        leadListeners.forEach(Runnable::run);
    }

    @Override
    public String node() {
        return node;
    }

    @Override
    public Set<String> members() {
        return state.get().members();
    }

    @Override
    public Instant lastAction(String pool) {
        return state.get().lastAction().get(pool);
    }

    @Override
    public Map<String, ScaledServer> scaled(String pool) {
        return state.get().scaled().getOrDefault(pool, Map.of());
    }

    @Override
    public List<PendingAction> pending(String pool) {
        return state.get().pending().getOrDefault(pool, List.of());
    }

    @Override
    public boolean beginScaleOut(String pool, String id, Instant at) {
        String key = layout.pending(pool, id);
        return act(expect(key, null), Map.of(key, ScalingState.pendingJson(new PendingAction(id, true, node, at, null)),
                layout.scaling(pool), ScalingState.lastActionJson(at, node)), List.of());
    }

    @Override
    public boolean scaleOut(String pool, ScaledServer server, String id) {
        String key = layout.server(pool, server.address());
        String pending = layout.pending(pool, id);
        // the pending record as this node wrote it: gone when a leader that took over meanwhile dropped it
        String mine = ScalingState.pendingJson(new PendingAction(id, true, node, server.at(), null));
        Map<String, String> expected = expect(key, null);
        expected.put(pending, mine);
        return act(expected, Map.of(key, ScalingState.serverJson(server)), List.of(pending));
    }

    @Override
    public boolean scaleIn(String pool, ScaledServer server, String id, Instant at) {
        String pending = layout.pending(pool, id);
        return act(expect(pending, null), Map.of(pending, ScalingState.pendingJson(new PendingAction(id, false, node, at,
                        server)), layout.scaling(pool), ScalingState.lastActionJson(at, node)),
                List.of(layout.server(pool, server.address())));
    }

    @Override
    public boolean abandon(String pool, String id) {
        return act(new HashMap<>(), Map.of(), List.of(layout.pending(pool, id)));
    }

    @Override
    public void done(String pool, String id) {
        store.commit(Map.of(), List.of(layout.pending(pool, id)));
    }

    @Override
    public boolean adopt(String pool, ScaledServer was) {
        String key = layout.server(pool, was.address());
        String entry = state.get().entries().get(key);
        if (entry == null) {
            return false;
        }
        return act(expect(key, entry), Map.of(key, ScalingState.withScaled(entry, was.ownedBy(node))), List.of());
    }

    @Override
    public boolean forget(String pool, ScaledServer server) {
        String key = layout.server(pool, server.address());
        String entry = state.get().entries().get(key);
        return entry != null && act(expect(key, entry), Map.of(), List.of(key));
    }

    private static Map<String, String> expect(String key, String value) {
        Map<String, String> expected = new HashMap<>();
        expected.put(key, value);
        return expected;
    }

    private boolean act(Map<String, String> expected, Map<String, String> puts, List<String> deletes) {
        LeaderRecord me = holding.get();
        if (me == null) {
            return false;
        }
        long revision = store.commitWhile(layout.leader(), me.json(), expected, puts, deletes);
        if (revision < 0) {
            return false;
        }
        CompletableFuture<Void> done = applied.apply(revision, false);
        try {
            done.get(APPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            done.cancel(false); // written all the same; this node applies it when it can
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }
}
