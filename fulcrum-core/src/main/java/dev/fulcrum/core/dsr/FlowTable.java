package dev.fulcrum.core.dsr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The connection table: flow key → target (a server, as a {@link DsrTargets} handle), so that a
 * flow keeps its server when the pool changes. Bounded: the capacity is fixed at construction, no
 * allocation after it, one primitive array.
 *
 * <p><b>Layout.</b> Open addressing over one {@code long[]}, four longs per entry — key high, key
 * low, target, deadline — so an entry is 32 bytes and two share a cache line. A flow lives within
 * {@value #WINDOW} entries of its home entry (picked by the top bits of the flow hash). Entries
 * are never cleared, only overwritten, so a lookup may stop at the first empty entry (key low 0).
 *
 * <p><b>Expiry.</b> Each entry holds a deadline ({@code lastSeen + idle timeout}, in the caller's
 * {@link System#nanoTime()} scale, compared by subtraction so the scale may wrap). Every packet
 * pushes it out. An expired entry is free for reuse; an expired flow that comes back counts as
 * new. Expiry costs nothing until a slot is needed: there is no sweeper.
 *
 * <p><b>Eviction.</b> When a new flow finds neither its key, an empty entry nor an expired one in
 * its window, it overwrites the entry with the earliest deadline (least recently seen, nearest
 * to expiring) and {@link #evictions()} counts it. An evicted flow is not lost: its next packet is
 * hashed again and reaches the same server as long as the pool did not change since the flow
 * started; only flows pinned across a pool change can break.
 *
 * <p><b>Threads.</b> Single-threaded: one table per forwarder thread, no locks. The packet
 * socket's fanout (PACKET_FANOUT_HASH) sends all packets of a flow to the same thread; a flow that
 * lands on another thread (fanout membership changed) is hashed there to the same server while the
 * pool is unchanged. Only {@link #evictions()} may be read from other threads.
 */
public final class FlowTable {

    /** How many consecutive entries a flow may live in, from its home entry. */
    public static final int WINDOW = 8;
    /** The target of an entry just claimed for a new flow: none yet. */
    public static final long NO_TARGET = -1L;

    private static final int STRIDE = 4;
    private static final int KEY_HIGH = 0;
    private static final int KEY_LOW = 1;
    private static final int TARGET = 2;
    private static final int DEADLINE = 3;
    private static final VarHandle EVICTIONS;

    static {
        try {
            EVICTIONS = MethodHandles.lookup().findVarHandle(FlowTable.class, "evictions", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long[] entries;
    private final int mask;
    private final int homeShift;
    @SuppressWarnings("unused") // read and written through EVICTIONS
    private long evictions;

    /**
     * @param capacity how many flows the table holds: a power of two, at least {@value #WINDOW};
     *                 memory is 32 bytes per flow
     */
    public FlowTable(int capacity) {
        if (capacity < WINDOW || Integer.bitCount(capacity) != 1 || capacity > 1 << 26) {
            throw new IllegalArgumentException("flow table capacity " + capacity
                    + " must be a power of two between " + WINDOW + " and 2^26");
        }
        this.entries = new long[capacity * STRIDE];
        this.mask = capacity - 1;
        this.homeShift = 64 - Integer.numberOfTrailingZeros(capacity);
    }

    /**
     * Finds the flow's entry, or claims one for it, and pushes its deadline to
     * {@code nowNanos + idleNanos}.
     *
     * @param keyLow    never 0 (see {@code FlowKey})
     * @param flowHash  the flow hash ({@code FlowKey.hash}) of the key
     * @return the entry of a live flow (its {@link #target} is the one set before), or
     *         {@code -(entry + 1)} for a flow new to the table — unknown or expired — whose entry
     *         was claimed with {@link #NO_TARGET}: set it with {@link #setTarget} or give it up
     *         with {@link #forget}
     */
    public int lookupOrInsert(long keyHigh, long keyLow, long flowHash, long nowNanos, long idleNanos) {
        long[] e = entries;
        int home = (int) (flowHash >>> homeShift);
        int free = -1;
        int oldest = -1;
        long oldestDeadline = 0;
        for (int i = 0; i < WINDOW; i++) {
            int at = ((home + i) & mask) * STRIDE;
            long low = e[at + KEY_LOW];
            if (low == 0) {
                return claim(free >= 0 ? free : at, keyHigh, keyLow, nowNanos + idleNanos);
            }
            long deadline = e[at + DEADLINE];
            boolean expired = nowNanos - deadline > 0;
            if (low == keyLow && e[at + KEY_HIGH] == keyHigh) {
                if (expired) {
                    return claim(at, keyHigh, keyLow, nowNanos + idleNanos);
                }
                e[at + DEADLINE] = nowNanos + idleNanos;
                return at / STRIDE;
            }
            if (expired) {
                if (free < 0) {
                    free = at;
                }
            } else if (oldest < 0 || deadline - oldestDeadline < 0) {
                oldest = at;
                oldestDeadline = deadline;
            }
        }
        if (free < 0) {
            free = oldest;
            EVICTIONS.setOpaque(this, (long) EVICTIONS.get(this) + 1);
        }
        return claim(free, keyHigh, keyLow, nowNanos + idleNanos);
    }

    /** The entry of a live flow, or -1; changes nothing (an ICMP error looking up its flow, tests). */
    public int find(long keyHigh, long keyLow, long flowHash, long nowNanos) {
        int home = (int) (flowHash >>> homeShift);
        for (int i = 0; i < WINDOW; i++) {
            int at = ((home + i) & mask) * STRIDE;
            if (entries[at + KEY_LOW] == 0) {
                return -1;
            }
            if (entries[at + KEY_LOW] == keyLow && entries[at + KEY_HIGH] == keyHigh) {
                return nowNanos - entries[at + DEADLINE] > 0 ? -1 : at / STRIDE;
            }
        }
        return -1;
    }

    private int claim(int at, long keyHigh, long keyLow, long deadline) {
        long[] e = entries;
        e[at + KEY_HIGH] = keyHigh;
        e[at + KEY_LOW] = keyLow;
        e[at + TARGET] = NO_TARGET;
        e[at + DEADLINE] = deadline;
        return -(at / STRIDE) - 1;
    }

    /** The target stored for an entry returned by {@link #lookupOrInsert}. */
    public long target(int entry) {
        return entries[entry * STRIDE + TARGET];
    }

    public void setTarget(int entry, long target) {
        entries[entry * STRIDE + TARGET] = target;
    }

    /**
     * Gives up an entry (no server could be picked): it becomes expired as of {@code nowNanos},
     * free for the next flow, and the flow counts as new when it comes back.
     */
    public void forget(int entry, long nowNanos) {
        entries[entry * STRIDE + TARGET] = NO_TARGET;
        entries[entry * STRIDE + DEADLINE] = nowNanos - 1;
    }

    /** How many flows fit. */
    public int capacity() {
        return mask + 1;
    }

    /** Live flows overwritten because their window was full, since construction. Any thread. */
    public long evictions() {
        return (long) EVICTIONS.getOpaque(this);
    }
}
