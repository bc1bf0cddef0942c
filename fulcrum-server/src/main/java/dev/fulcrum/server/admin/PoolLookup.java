package dev.fulcrum.server.admin;

import dev.fulcrum.core.balance.Hashing;
import dev.fulcrum.core.balance.Pick;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.registry.PoolRuntime;

import java.util.NoSuchElementException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a hash key goes in one published snapshot of a hashing pool (admin-api.md, "Lookup"): K
 * is the value the pool's {@code hash-key} takes (a source IP, a header or cookie value, a path),
 * hashed as the data plane hashes it, and picked with no exclusion, as a first attempt is. In a
 * cluster every node answers alike while they agree on health: the table is shared
 * ({@code tableHash} says so). Immutable; one per request.
 */
final class PoolLookup {

    private final PoolRuntime pool;
    private final PoolSnapshot snapshot;

    private PoolLookup(PoolRuntime pool, PoolSnapshot snapshot) {
        this.pool = pool;
        this.snapshot = snapshot;
    }

    /** @throws IllegalStateException when the pool's algorithm does not hash (a lookup means nothing) */
    static PoolLookup of(PoolRuntime pool) {
        PoolSnapshot snapshot = pool.snapshot();
        if (!snapshot.algorithm().usesHashKey()) {
            throw new IllegalStateException("pool " + Escape.quote(pool.name()) + " does not hash (algorithm "
                    + snapshot.algorithm().configName() + ")");
        }
        return new PoolLookup(pool, snapshot);
    }

    /** @throws NoSuchElementException when no server of the pool is in rotation */
    Views.Lookup one(String key) {
        Server server = snapshot.pick(Pick.of(Hashing.hash64(key), ThreadLocalRandom.current()));
        if (server == null) {
            throw new NoSuchElementException("pool " + Escape.quote(pool.name()) + " has no server in rotation");
        }
        return new Views.Lookup(key, server.id(), snapshot.balancer().tableHash());
    }
}
