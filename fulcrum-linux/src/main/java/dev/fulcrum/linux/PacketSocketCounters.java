package dev.fulcrum.linux;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One {@link PacketSocket}'s counters since it opened. Written by the socket's owner thread only,
 * read from any thread (a metrics scrape): single-writer counters with opaque stores and loads, so
 * a reader sees each value whole and never going backwards, and the writer pays no atomic
 * instruction.
 */
public final class PacketSocketCounters {

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int RECEIVED = 0;
    private static final int SENT = 1;
    private static final int RING_DROPS = 2;
    private static final int TRUNCATED = 3;
    private static final int SEND_ERRORS = 4;
    /** errno values are below 134 on Linux; anything above is counted under the last slot. */
    private static final int ERRNO_SLOTS = 134;

    private final long[] counts = new long[SEND_ERRORS + ERRNO_SLOTS + 1];

    PacketSocketCounters() {
    }

    void received() {
        add(RECEIVED, 1);
    }

    void sent(int frames) {
        add(SENT, frames);
    }

    void ringDrops(long frames) {
        add(RING_DROPS, frames);
    }

    void truncated() {
        add(TRUNCATED, 1);
    }

    void sendError(int errno) {
        add(SEND_ERRORS, 1);
        add(SEND_ERRORS + 1 + Math.min(Math.max(errno, 0), ERRNO_SLOTS - 1), 1);
    }

    private void add(int index, long n) {
        LONGS.setOpaque(counts, index, counts[index] + n); // the plain read is the writer's own value
    }

    private long read(int index) {
        return (long) LONGS.getOpaque(counts, index);
    }

    /** Frames handed to the {@link FrameHandler}. */
    public long framesReceived() {
        return read(RECEIVED);
    }

    /** Frames the kernel accepted for sending. */
    public long framesSent() {
        return read(SENT);
    }

    /**
     * Frames the kernel dropped because the receive ring was full ({@code PACKET_STATISTICS}
     * {@code tp_drops}); brought up to date when the ring marks a frame {@code TP_STATUS_LOSING} and
     * when a wait times out.
     */
    public long ringDrops() {
        return read(RING_DROPS);
    }

    /**
     * Frames larger than a ring frame that could not be read whole (the socket's receive buffer
     * was full, or larger than the oversize buffer), dropped without reaching the handler.
     */
    public long framesTruncated() {
        return read(TRUNCATED);
    }

    /** Frames the handler asked to send that the kernel refused, all reasons. */
    public long sendErrors() {
        return read(SEND_ERRORS);
    }

    /** Frames refused with this errno, e.g. {@link Errno#EMSGSIZE}. */
    public long sendErrors(int errno) {
        return read(SEND_ERRORS + 1 + Math.min(Math.max(errno, 0), ERRNO_SLOTS - 1));
    }
}
