package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The inputs of one pick: the request's 64-bit hash key (only hashing balancers read it), the
 * servers already tried for this request (never picked again: a retry lands elsewhere), and the
 * random source (seeded in tests).
 *
 * @param hash     the request key hashed with {@link Hashing#hash64}; 0 when the pool does not hash
 * @param excluded servers already tried; usually empty, at most {@code retries} long
 * @param random   randomness for random and least-request; thread-confined or thread-safe
 */
public record Pick(long hash, List<Server> excluded, RandomGenerator random) {

    public Pick {
        excluded = excluded == null ? List.of() : excluded;
    }

    public static Pick of(long hash, RandomGenerator random) {
        return new Pick(hash, List.of(), random);
    }

    /** The same pick with one more server excluded. */
    public Pick excluding(Server tried) {
        var more = new java.util.ArrayList<Server>(excluded.size() + 1);
        more.addAll(excluded);
        more.add(tried);
        return new Pick(hash, List.copyOf(more), random);
    }

    public boolean isExcluded(Server server) {
        // identity compare: lists are tiny (retries + 1), a loop beats hashing
        for (int i = 0; i < excluded.size(); i++) {
            if (excluded.get(i) == server) {
                return true;
            }
        }
        return false;
    }
}
