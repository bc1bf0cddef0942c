package dev.fulcrum.server.http;

/**
 * {@code idle-timeout} of a client connection: asks {@code onIdle} once nothing was read from or
 * written to the client for that long ({@link #touch()} on every read and write). {@code onIdle}
 * decides whether the connection is idle in the sense that matters (between requests, a stalled
 * upload or download) and closes it; otherwise a new period starts. What Netty's
 * {@code IdleStateHandler} did, without a handler or a task of its own, and without a listener on
 * every write.
 *
 * <p>A part of the connection's {@link ConnectionClock}: {@link #touch()} writes one field, the
 * clock asks when the period may have passed. Confined to the client channel's event loop.
 */
final class IdleTimer implements ConnectionClock.Timed {

    private final ConnectionClock clock;
    private final long idleNanos;
    private final Runnable onIdle;
    private long lastActivityNanos;

    IdleTimer(ConnectionClock clock, long idleNanos, Runnable onIdle) {
        this.clock = clock;
        this.idleNanos = idleNanos;
        this.onIdle = onIdle;
        clock.add(this);
    }

    /** The connection opened: the first period starts. */
    void start() {
        if (idleNanos > 0) {
            lastActivityNanos = clock.now();
            clock.armed(lastActivityNanos + idleNanos);
        }
    }

    /** Something was read or written: the period starts again (the clock only moves later, no re-schedule). */
    void touch() {
        lastActivityNanos = clock.now();
    }

    @Override
    public long dueNanos() {
        return idleNanos > 0 ? lastActivityNanos + idleNanos : ConnectionClock.NONE;
    }

    @Override
    public void expire(long nowNanos) {
        lastActivityNanos = nowNanos; // not idle in the sense that closes: another full period
        onIdle.run();
    }
}
