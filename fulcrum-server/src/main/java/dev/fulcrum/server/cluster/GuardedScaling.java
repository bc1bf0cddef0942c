package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.autoscale.ScalingLeadership;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The auto-scaler's actions as etcd transactions guarded by the election (spec cluster.md): each
 * applies only while {@link KeyLayout#leader} still holds this node's record (its name and current
 * lease), so a node that lost the lease — paused, cut off — cannot act even if it still believes it
 * leads; each also records the action's time under {@link KeyLayout#scaling}, the cooldown every
 * later leader honours. Server entries are written as the admin API writes them, so every node
 * applies the change.
 *
 * <p>Thread-safe; the actions block (etcd, then this node applying the revision, bounded).
 */
final class GuardedScaling implements ScalingLeadership {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long an action waits for this node to apply it (so the auto-scaler sees the server at once). */
    private static final Duration APPLY_WAIT = Duration.ofSeconds(5);

    private final EtcdStore store;
    private final KeyLayout layout;
    private final String node;
    /** This node's leader record while it leads (by its last applied revision); null otherwise. */
    private final Supplier<LeaderRecord> holding;
    /** The last action per pool as recorded in etcd (by the last applied revision). */
    private final Function<String, Instant> recorded;
    private final BiFunction<Long, Boolean, CompletableFuture<Void>> applied;

    GuardedScaling(EtcdStore store, KeyLayout layout, String node, Supplier<LeaderRecord> holding,
                  Function<String, Instant> recorded, BiFunction<Long, Boolean, CompletableFuture<Void>> applied) {
        this.store = store;
        this.layout = layout;
        this.node = node;
        this.holding = holding;
        this.recorded = recorded;
        this.applied = applied;
    }

    @Override
    public boolean leading() {
        return holding.get() != null;
    }

    @Override
    public Instant lastAction(String pool) {
        return recorded.apply(pool);
    }

    @Override
    public boolean scaleOut(String pool, HostPort address, Instant at) {
        String key = layout.server(pool, address.toString());
        String entry = SharedConfig.json(JSON.createObjectNode().put("address", address.toString()).put("weight", 1));
        return act(pool, at, List.of(key), Map.of(key, entry), List.of());
    }

    @Override
    public boolean scaleIn(String pool, String address, Instant at) {
        return act(pool, at, List.of(), Map.of(), List.of(layout.server(pool, address)));
    }

    private boolean act(String pool, Instant at, List<String> absent, Map<String, String> puts, List<String> deletes) {
        LeaderRecord me = holding.get();
        if (me == null) {
            return false;
        }
        Map<String, String> writes = new java.util.HashMap<>(puts);
        writes.put(layout.scaling(pool), SharedConfig.json(JSON.createObjectNode()
                .put("lastAction", at.toString()).put("node", node)));
        long revision = store.commitWhile(layout.leader(), me.json(), absent, writes, deletes);
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

    /** The time recorded in a {@link KeyLayout#scaling} value; null when unreadable. */
    static Instant recordedAt(String json) {
        try {
            return json == null ? null : Instant.parse(JSON.readTree(json).path("lastAction").asText());
        } catch (java.io.IOException | java.time.format.DateTimeParseException e) {
            return null;
        }
    }
}
