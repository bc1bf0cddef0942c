package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.admin.SharedWrites;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;

/**
 * The admin API's server changes as etcd transactions (spec cluster.md, "Admin API mutations on
 * any node write to etcd"). Each change reads the keys it depends on, then commits only if their
 * mod revisions are still those it read: a change that raced another one is read and tried
 * again, and a retried request cannot apply twice (a second add finds the server there, 409).
 * The reads are linearizable, so they need quorum: their failure within {@link #READ_DEADLINE}
 * is "no quorum, nothing written" (503 within 2 s); a failure of the transaction itself, sent
 * already, is "outcome unknown".
 *
 * <p>A server's shared entry is {@code {"address","weight"}} plus {@code "drain": true} while an
 * operator has it drained; every node applies that flag after each revision.
 *
 * <p>Thread-safe (stateless over a thread-safe {@link EtcdStore}); calls block up to a few seconds.
 */
final class ClusterWrites implements SharedWrites {

    /** Short enough that "no quorum" answers within 2 s. */
    static final Duration READ_DEADLINE = Duration.ofMillis(1500);
    /** Compare failures in a row before giving up (each means another writer changed the key meanwhile). */
    private static final int ATTEMPTS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EtcdStore store;
    private final KeyLayout layout;
    private final BiFunction<Long, Boolean, CompletableFuture<Void>> applied;

    ClusterWrites(EtcdStore store, KeyLayout layout, BiFunction<Long, Boolean, CompletableFuture<Void>> applied) {
        this.store = store;
        this.layout = layout;
        this.applied = applied;
    }

    @Override
    public long addServer(String pool, String address, int weight) {
        ObjectNode entry = JSON.createObjectNode().put("address", address).put("weight", weight);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            EtcdStore.Entry poolEntry = read(layout.pool(pool));
            if (poolEntry.value() == null) {
                throw new NoSuchElementException("no pool " + Escape.quote(pool) + " in the shared config");
            }
            EtcdStore.Entry server = read(layout.server(pool, address));
            if (server.value() != null) {
                throw new IllegalStateException("server " + Escape.quote(address) + " is already in pool "
                        + Escape.quote(pool));
            }
            long revision = commit(Map.of(layout.pool(pool), poolEntry.modRevision(), layout.server(pool, address), 0L),
                    Map.of(layout.server(pool, address), SharedConfig.json(entry)), List.of());
            if (revision > 0) {
                return revision;
            }
        }
        throw raced(pool, address);
    }

    @Override
    public long removeServer(String pool, String address) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            EtcdStore.Entry server = existing(pool, address);
            long revision = commit(Map.of(layout.server(pool, address), server.modRevision()), Map.of(),
                    List.of(layout.server(pool, address)));
            if (revision > 0) {
                return revision;
            }
        }
        throw raced(pool, address);
    }

    @Override
    public long drainServer(String pool, String address, boolean drain) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            EtcdStore.Entry server = existing(pool, address);
            ObjectNode entry;
            try {
                entry = JSON.readTree(server.value()) instanceof ObjectNode o ? o : JSON.createObjectNode();
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("server " + Escape.quote(address) + " has an entry in etcd that is not JSON");
            }
            if (entry.path("drain").asBoolean(false) == drain) {
                return server.modRevision(); // already so: the revision that made it so
            }
            if (drain) {
                entry.put("drain", true);
            } else {
                entry.remove("drain");
            }
            long revision = commit(Map.of(layout.server(pool, address), server.modRevision()),
                    Map.of(layout.server(pool, address), SharedConfig.json(entry)), List.of());
            if (revision > 0) {
                return revision;
            }
        }
        throw raced(pool, address);
    }

    @Override
    public CompletableFuture<Void> applied(long revision, boolean everyMember) {
        return applied.apply(revision, everyMember);
    }

    private EtcdStore.Entry existing(String pool, String address) {
        EtcdStore.Entry server = read(layout.server(pool, address));
        if (server.value() == null) {
            throw new NoSuchElementException("no server " + Escape.quote(address) + " in pool " + Escape.quote(pool)
                    + " of the shared config");
        }
        return server;
    }

    private EtcdStore.Entry read(String key) {
        try {
            return store.get(key, READ_DEADLINE);
        } catch (EtcdUnavailableException e) {
            throw new NoQuorum("etcd has no quorum or does not answer; nothing written (" + e.getMessage() + ")");
        }
    }

    private long commit(Map<String, Long> expected, Map<String, String> puts, List<String> deletes) {
        try {
            return store.commitIf(expected, puts, deletes);
        } catch (EtcdUnavailableException e) {
            throw new OutcomeUnknown("outcome unknown: " + e.getMessage());
        }
    }

    private static IllegalStateException raced(String pool, String address) {
        return new IllegalStateException("server " + Escape.quote(address) + " of pool " + Escape.quote(pool)
                + " kept changing under " + ATTEMPTS + " attempts; try again");
    }
}
