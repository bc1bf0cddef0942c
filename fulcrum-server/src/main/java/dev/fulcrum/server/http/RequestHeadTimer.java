package dev.fulcrum.server.http;

/**
 * Enforces {@code request-header-timeout} (slowloris): a request head must be complete within it.
 * The clock starts when the connection opens (first request) or at the first byte of a later
 * request on a keep-alive connection ({@link #start()}); an idle keep-alive connection is the idle
 * timeout's business. When time runs out, {@code onTimeout} runs (the frontend answers 408 if some
 * of the head arrived, else just closes).
 *
 * <p>A part of the connection's {@link ConnectionClock}: starting and stopping only write a field.
 * Confined to the client channel's event loop.
 */
final class RequestHeadTimer implements ConnectionClock.Timed {

    private final ConnectionClock clock;
    private final long timeoutNanos;
    private final Runnable onTimeout;
    /** When the awaited head must be complete; {@link ConnectionClock#NONE} when no head is awaited. */
    private long deadlineNanos = ConnectionClock.NONE;

    RequestHeadTimer(ConnectionClock clock, long timeoutNanos, Runnable onTimeout) {
        this.clock = clock;
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
        clock.add(this);
    }

    /** A head is awaited from now on. */
    void start() {
        if (timeoutNanos > 0) {
            deadlineNanos = clock.now() + timeoutNanos;
            clock.armed(deadlineNanos);
        }
    }

    /** True while a head is awaited. */
    boolean running() {
        return deadlineNanos != ConnectionClock.NONE;
    }

    /** The head arrived, or none is awaited any more. */
    void stop() {
        deadlineNanos = ConnectionClock.NONE;
    }

    @Override
    public long dueNanos() {
        return deadlineNanos;
    }

    @Override
    public void expire(long nowNanos) {
        deadlineNanos = ConnectionClock.NONE;
        onTimeout.run();
    }
}
