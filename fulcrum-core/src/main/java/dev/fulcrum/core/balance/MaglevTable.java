package dev.fulcrum.core.balance;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;

/**
 * A Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, section 3.4): a prime-sized array of backend indices, filled so that every
 * backend owns a near-equal share (weighted: a share proportional to its weight) and removing one
 * backend moves few keys that were not its own. Used by the {@code maglev} balancer and the DSR
 * forwarder; {@link #lookup(long)} maps a 64-bit key hash to a backend.
 *
 * <p>Population, as in the paper's Pseudocode 1: backend {@code i} (name {@code n}) has
 * {@code offset = h1(n) mod M}, {@code skip = h2(n) mod (M - 1) + 1} and the preference list
 * {@code permutation[j] = (offset + j * skip) mod M} (a full permutation because M is prime);
 * backends take turns claiming the next free slot of their own preference list until the table is
 * full. The hashes are pinned: {@code h1 = Hashing.hash64(name)} and
 * {@code h2 = Hashing.fmix64(h1 ^ 0x9E3779B97F4A7C15L)}; changing either reshuffles every client.
 *
 * <p>Weights follow Envoy's normalized-weight approach rather than giving a backend w turns in a
 * row: every round each backend earns credit equal to its weight and takes a turn when its credit
 * reaches the pool's top weight (paying that much back). The heaviest backends take a turn every
 * round, a backend of weight w in w/top of the rounds, so the table is split in proportion to
 * weight and a partial last round is off by at most one slot per backend. With equal weights this
 * is exactly the paper's algorithm. A backend far lighter than the rest may own no slot at all when
 * the table is small compared with the pool.
 *
 * <p>Immutable after {@link #build}; thread-safe.
 */
public final class MaglevTable {

    /** The table size the paper recommends and Fulcrum uses: a prime, far above any pool's size. */
    public static final int DEFAULT_SIZE = 65537;

    /** Mixed into h1 to derive the independent skip hash h2 (the 64-bit golden ratio). */
    static final long SKIP_SEED = 0x9E3779B97F4A7C15L;
    /** Upper bound on the table size, so that slot arithmetic never overflows an int. */
    private static final int MAX_SIZE = 1 << 30;

    private final int[] table;

    private MaglevTable(int[] table) {
        this.table = table;
    }

    /**
     * Builds the table.
     *
     * @param names   the backends' stable names (a server's {@code host:port}); the order only breaks
     *                ties and gives the indices that {@link #lookup} returns
     * @param weights one per name, each >= 1
     * @param size    the table size M: a prime, at least the number of names (the paper uses
     *                M >> names, e.g. {@link #DEFAULT_SIZE})
     * @throws IllegalArgumentException on an empty pool, a weight below 1 or a bad size
     */
    public static MaglevTable build(List<String> names, int[] weights, int size) {
        if (names.size() != weights.length) {
            throw new IllegalArgumentException(names.size() + " names but " + weights.length + " weights");
        }
        int[] offsets = new int[names.size()];
        int[] skips = new int[names.size()];
        for (int i = 0; i < offsets.length; i++) {
            long h1 = Hashing.hash64(names.get(i));
            long h2 = Hashing.fmix64(h1 ^ SKIP_SEED);
            offsets[i] = (int) Long.remainderUnsigned(h1, size);
            skips[i] = (int) Long.remainderUnsigned(h2, size - 1) + 1;
        }
        return populate(offsets, skips, weights, size);
    }

    /**
     * Fills a table from explicit offsets and skips (the paper's worked example pins these);
     * {@link #build} derives them from the names.
     */
    static MaglevTable populate(int[] offsets, int[] skips, int[] weights, int size) {
        int n = offsets.length;
        if (n == 0 || skips.length != n || weights.length != n) {
            throw new IllegalArgumentException("need one offset, skip and weight per backend, and at least one backend");
        }
        if (size < n || size > MAX_SIZE || !BigInteger.valueOf(size).isProbablePrime(32)) {
            throw new IllegalArgumentException("table size " + size + " must be a prime between "
                    + n + " and " + MAX_SIZE);
        }
        int top = 0;
        for (int i = 0; i < n; i++) {
            if (weights[i] < 1) {
                throw new IllegalArgumentException("weight " + weights[i] + " of backend " + i + " is below 1");
            }
            if (offsets[i] < 0 || offsets[i] >= size || skips[i] < 1 || skips[i] >= size) {
                throw new IllegalArgumentException("backend " + i + ": offset must be in [0, M), skip in [1, M)");
            }
            top = Math.max(top, weights[i]);
        }
        int[] table = new int[size];
        Arrays.fill(table, -1);
        int[] next = offsets.clone(); // permutation[i][j] for each backend's current j, kept incrementally
        long[] credit = new long[n];
        int filled = 0;
        while (filled < size) {
            for (int i = 0; i < n && filled < size; i++) {
                credit[i] += weights[i];
                if (credit[i] < top) {
                    continue;
                }
                credit[i] -= top;
                int slot = next[i];
                while (table[slot] >= 0) {
                    slot = advance(slot, skips[i], size);
                }
                table[slot] = i;
                next[i] = advance(slot, skips[i], size);
                filled++;
            }
        }
        return new MaglevTable(table);
    }

    private static int advance(int slot, int skip, int size) {
        int next = slot + skip; // both < size <= 2^30: no overflow
        return next >= size ? next - size : next;
    }

    /** The index (into the names given to {@link #build}) of the backend owning {@code hash}. */
    public int lookup(long hash) {
        return table[(int) Long.remainderUnsigned(hash, table.length)];
    }

    /**
     * The index of the backend owning {@code hash} when {@code usable[index]}; else of the backend
     * in the first following slot (wrapping) that is usable, so a backend out of use hands its
     * slots to its neighbours in the table and no other key moves. Walks at most {@link #size()}
     * slots; the caller should know at least one backend is usable, or pay the whole walk.
     *
     * @param usable one per backend, in the order given to {@link #build}
     * @return a usable backend's index, or -1 when none is
     */
    public int lookup(long hash, boolean[] usable) {
        int slot = (int) Long.remainderUnsigned(hash, table.length);
        for (int step = 0; step < table.length; step++) {
            int backend = table[slot];
            if (usable[backend]) {
                return backend;
            }
            slot = slot + 1 == table.length ? 0 : slot + 1;
        }
        return -1;
    }

    /** The table size M. */
    public int size() {
        return table.length;
    }

    /** The backend index in slot {@code slot}, {@code 0 <= slot < size()}. */
    int entry(int slot) {
        return table[slot];
    }
}
