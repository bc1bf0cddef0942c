package dev.fulcrum.core.ratelimit;

/**
 * One segment of a {@link RateLimiter}: key → token bucket, each bucket one long, the time it is
 * full again (GCRA's "theoretical arrival time"). Open addressing over one {@code long[]}, two
 * longs per slot (key, full-at), so a slot is 16 bytes; a key lives within {@value #WINDOW} slots
 * of its home slot, picked by its low bits.
 *
 * <p><b>A full bucket is a free slot.</b> A slot whose full-at is not after now carries no
 * information: the key would start again with a full bucket, exactly as if it had never been
 * seen. So expiry needs no sweeper and no sentinel: such a slot is reused by the next key that
 * needs one, and a zeroed array is all free (times are nanos since the limiter's origin, so never
 * negative).
 *
 * <p><b>Growth and the cap.</b> The array starts at {@value #MIN_SLOTS} slots and doubles (keeping
 * only live buckets) when a new key finds its window full of live buckets, up to {@code maxSlots}.
 * At the cap, a new key takes the slot of the bucket in its window with the least debt — the one
 * nearest to full, which would have expired first — and {@link #evictions()} counts it. The
 * evicted key comes back with a full bucket: it gains at most the debt it had, the smallest of its
 * window. A flood of new keys, each with the debt of one request, therefore evicts other light
 * keys, never a key deep in debt: an abusive client cannot be reset by someone else's flood unless
 * all {@value #WINDOW} buckets of its window are deeper in debt than its own.
 *
 * <p><b>Threads.</b> Every method holds the segment's monitor; the critical section is one window
 * scan (at most {@value #WINDOW} slots, usually one or two cache lines). {@link #evictions()} is
 * read without it.
 */
final class BucketTable {

    /** How many consecutive slots a key may live in, from its home slot. */
    static final int WINDOW = 8;
    /** The smallest array, in slots: two windows. */
    static final int MIN_SLOTS = 2 * WINDOW;

    private final int maxSlots;
    /** Slot i: {@code [2i]} the key, {@code [2i + 1]} when its bucket is full again; guarded by this. */
    private long[] slots = new long[2 * MIN_SLOTS];
    /** Written under the monitor, read by {@link #evictions()} without it. */
    private volatile long evictions;

    /** @param maxSlots the cap: a power of two, at least {@value #MIN_SLOTS} */
    BucketTable(int maxSlots) {
        if (maxSlots < MIN_SLOTS || Integer.bitCount(maxSlots) != 1) {
            throw new IllegalArgumentException("segment size " + maxSlots + " must be a power of two >= " + MIN_SLOTS);
        }
        this.maxSlots = maxSlots;
    }

    /**
     * Takes a token from {@code key}'s bucket if it has one (GCRA: a request passes while the debt,
     * full-at minus now, is at most {@code tolerance}; passing adds {@code interval} to it). A
     * refused request takes nothing.
     *
     * @param now       nanos since the limiter's origin, >= 0
     * @param interval  nanos per token, > 0
     * @param tolerance {@code (burst - 1) × interval}
     * @return 0 when a token was taken, else the nanos until one is available (> 0)
     */
    synchronized long acquire(long key, long now, long interval, long tolerance) {
        int at = slotOf(key, now);
        long fullAt = Math.max(slots[at + 1], now);
        long debt = fullAt - now;
        if (debt > tolerance) {
            return debt - tolerance;
        }
        slots[at + 1] = fullAt + interval;
        return 0;
    }

    /**
     * The index (of the key long) of {@code key}'s live bucket, or of a slot claimed for it with a
     * full bucket (full-at {@code now}): a free one in its window, else one made by growing, else
     * the least indebted one, evicted.
     */
    private int slotOf(long key, long now) {
        long[] s = slots;
        int mask = s.length / 2 - 1;
        int home = (int) key & mask;
        int free = -1;
        int leastDebt = -1;
        for (int i = 0; i < WINDOW; i++) {
            int at = ((home + i) & mask) * 2;
            long fullAt = s[at + 1];
            if (fullAt <= now) {
                if (free < 0) {
                    free = at;
                }
            } else if (s[at] == key) {
                return at;
            } else if (leastDebt < 0 || fullAt < s[leastDebt + 1]) {
                leastDebt = at;
            }
        }
        if (free < 0) {
            if (s.length / 2 < maxSlots) {
                grow(now);
                return slotOf(key, now);
            }
            free = leastDebt;
            evictions++; // only this thread writes (under the monitor): no lost update
        }
        s[free] = key;
        s[free + 1] = now;
        return free;
    }

    /** Doubles the array, moving the live buckets and dropping the full ones. */
    private void grow(long now) {
        long[] old = slots;
        slots = new long[old.length * 2];
        for (int at = 0; at < old.length; at += 2) {
            if (old[at + 1] > now) {
                // slotOf reads the field, so a window full again in the new array grows it further
                int to = slotOf(old[at], now);
                slots[to + 1] = old[at + 1];
            }
        }
    }

    /** Keys whose bucket is not full at {@code now}: the ones the table must remember. */
    synchronized int trackedKeys(long now) {
        int n = 0;
        for (int at = 1; at < slots.length; at += 2) {
            if (slots[at] > now) {
                n++;
            }
        }
        return n;
    }

    /** The slots allocated now: memory is 16 bytes each. */
    synchronized int allocatedSlots() {
        return slots.length / 2;
    }

    /** Keys with a bucket not yet full that lost their slot to a new key, since construction. */
    long evictions() {
        return evictions;
    }
}
