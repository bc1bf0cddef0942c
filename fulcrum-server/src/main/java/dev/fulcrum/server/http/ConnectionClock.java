package dev.fulcrum.server.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * The one timer of a client connection. Every timeout a connection has — the request head's, the
 * request body's, the response's, the idle one — is a {@link Timed} part that only keeps its due
 * time in a field; the clock holds at most one scheduled task, for the earliest due time it was
 * told of. Arming a part later than the task changes nothing (the task, when it fires, asks every
 * part again and schedules itself for what is left); arming one earlier moves the task. On a busy
 * keep-alive connection that is about one schedule per timeout period for all its timeouts
 * together, instead of a schedule and a cancel per request per timeout, and one task object per
 * connection instead of one per timer.
 *
 * <p>Time is the executor's {@link Ticker}, so an {@code EmbeddedChannel}'s
 * {@code advanceTimeBy} drives it in tests.
 *
 * <p>Confined to the connection's event loop.
 */
final class ConnectionClock {

    /** Due time of a part that has nothing to time. */
    static final long NONE = Long.MAX_VALUE;

    /** One timeout of the connection. */
    interface Timed {
        /** When the part must be looked at ({@link #now()} time), or {@link #NONE}. */
        long dueNanos();

        /** Called on the loop once {@code nowNanos} reached {@link #dueNanos()}; may arm again. */
        void expire(long nowNanos);
    }

    private final EventExecutor executor;
    private final Ticker ticker;
    private Timed[] parts = new Timed[0];
    private ScheduledFuture<?> task;
    private long taskAtNanos;
    private boolean closed;
    /** The task is asking the parts: arming is noted by asking them again at the end. */
    private boolean firing;

    ConnectionClock(EventExecutor executor) {
        this.executor = executor;
        this.ticker = executor.ticker();
    }

    /** Adds a part; parts are asked in the order they were added. */
    void add(Timed part) {
        Timed[] more = java.util.Arrays.copyOf(parts, parts.length + 1);
        more[parts.length] = part;
        parts = more;
    }

    long now() {
        return ticker.nanoTime();
    }

    /** A part's due time became {@code dueNanos}: the task moves only if that is earlier than it. */
    void armed(long dueNanos) {
        if (closed || firing || dueNanos == NONE) {
            return; // (while firing, the parts are asked for their due times afterwards)
        }
        if (task == null) {
            schedule(dueNanos);
        } else if (dueNanos - taskAtNanos < 0) {
            task.cancel(false);
            schedule(dueNanos);
        }
    }

    /** The connection is gone: no part fires any more. */
    void close() {
        closed = true;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void schedule(long atNanos) {
        taskAtNanos = atNanos;
        task = executor.schedule(this::fire, Math.max(0, atNanos - now()), TimeUnit.NANOSECONDS);
    }

    private void fire() {
        task = null;
        if (closed) {
            return;
        }
        long now = now();
        firing = true;
        try {
            for (Timed part : parts) {
                long due = part.dueNanos();
                if (due != NONE && due - now <= 0 && !closed) {
                    part.expire(now);
                }
            }
        } finally {
            firing = false;
        }
        if (closed) {
            return; // an expiry closed the connection
        }
        long next = NONE;
        for (Timed part : parts) {
            long due = part.dueNanos();
            if (due != NONE && (next == NONE || due - next < 0)) {
                next = due;
            }
        }
        if (next != NONE) {
            schedule(next);
        }
    }
}
