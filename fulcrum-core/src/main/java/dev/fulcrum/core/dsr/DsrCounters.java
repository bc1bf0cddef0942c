package dev.fulcrum.core.dsr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One forwarder thread's counters: frames by {@link PacketResult}, and flow events. Written by that
 * thread only, read by the metrics scrape from any thread: single-writer counters with opaque
 * stores and loads (no lock, no atomic read-modify-write, no contention), so a reader sees each
 * value whole and never going backwards. Sum them over the forwarder threads for the metrics.
 */
public final class DsrCounters {

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final PacketResult[] RESULTS = PacketResult.values();
    private static final int NEW_FLOWS = RESULTS.length;
    private static final int MOVED_FLOWS = NEW_FLOWS + 1;
    private static final int GRACE_FLOWS = MOVED_FLOWS + 1;

    private final long[] counts = new long[GRACE_FLOWS + 1];

    void count(PacketResult result) {
        increment(result.ordinal());
    }

    void newFlow() {
        increment(NEW_FLOWS);
    }

    void movedFlow() {
        increment(MOVED_FLOWS);
    }

    void graceFlow() {
        increment(GRACE_FLOWS);
    }

    private void increment(int index) {
        LONGS.setOpaque(counts, index, counts[index] + 1); // the plain read is the writer's own value
    }

    private long read(int index) {
        return (long) LONGS.getOpaque(counts, index);
    }

    /** Frames with this result since the forwarder started. */
    public long packets(PacketResult result) {
        return read(result.ordinal());
    }

    /**
     * Flows given a server by the Maglev pick: new ones, and those the table forgot (idle expiry,
     * eviction) coming back.
     */
    public long newFlows() {
        return read(NEW_FLOWS);
    }

    /** Flows moved to another server because theirs went down or left the pool. */
    public long movedFlows() {
        return read(MOVED_FLOWS);
    }

    /**
     * Flows this thread had not seen, arriving without a SYN during the grace period after a table
     * change, given the server of the previous table (see {@link DsrTargets}): flows the router
     * moved here from a node that picked under that table.
     */
    public long graceFlows() {
        return read(GRACE_FLOWS);
    }
}
