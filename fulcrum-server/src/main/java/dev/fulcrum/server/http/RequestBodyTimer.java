package dev.fulcrum.server.http;

/**
 * {@code request-body-timeout} with {@code request-body-min-rate}: how slowly a client may send a
 * request body while a server connection waits for it (a slow body pins that connection; HAProxy's
 * {@code timeout http-request}, nginx's {@code client_body_timeout}, Apache's
 * {@code RequestReadTimeout body=...,MinRate=...}).
 *
 * <p>The client has an allowance of time, at most {@code timeout}: waiting for its body bytes
 * spends it, and each read gives back one second per {@code minRate} bytes received (all of it when
 * {@code minRate} is 0). So a client never stays silent longer than {@code timeout}, and a client
 * that trickles bytes slower than {@code minRate} runs out after about {@code timeout} too. Only
 * time spent waiting on the client counts: while the server is not taking the body (backpressure,
 * no read is asked of the client) the clock stands still. When the allowance is gone,
 * {@code onTimeout} runs (the frontend answers 408).
 *
 * <p>A part of the connection's {@link ConnectionClock}: starting, waiting and stopping only write
 * fields. Confined to the client channel's event loop.
 */
final class RequestBodyTimer implements ConnectionClock.Timed {

    private final ConnectionClock clock;
    private final long timeoutNanos;
    private final long minRate;
    private final Runnable onTimeout;
    private long allowanceNanos;
    /** When the current wait for the client began ({@link ConnectionClock#now()}); -1 = not waiting. */
    private long waitingSinceNanos = -1;

    /**
     * @param minRate bytes per second that keep the allowance full; 0 = silence alone is bounded
     */
    RequestBodyTimer(ConnectionClock clock, long timeoutNanos, long minRate, Runnable onTimeout) {
        this.clock = clock;
        this.timeoutNanos = timeoutNanos;
        this.minRate = minRate;
        this.onTimeout = onTimeout;
        clock.add(this);
    }

    /** A request with a body begins: a full allowance, not waiting yet. */
    void start() {
        allowanceNanos = timeoutNanos;
        waitingSinceNanos = -1;
    }

    /** A read of body bytes was asked of the client: the clock runs until {@link #received}. */
    void waiting() {
        if (waitingSinceNanos >= 0 || timeoutNanos <= 0) {
            return;
        }
        waitingSinceNanos = clock.now();
        clock.armed(waitingSinceNanos + Math.max(0, allowanceNanos));
    }

    /** {@code bytes} of body arrived: the wait ends, and they earn time back. */
    void received(int bytes) {
        if (waitingSinceNanos >= 0) {
            allowanceNanos -= clock.now() - waitingSinceNanos;
            waitingSinceNanos = -1;
        }
        long credit = minRate == 0 ? timeoutNanos : (long) (bytes * (1e9 / minRate));
        allowanceNanos = Math.min(timeoutNanos, allowanceNanos + credit);
    }

    /** The body is complete, or the request is gone: nothing to time until the next wait. */
    void stop() {
        waitingSinceNanos = -1;
    }

    @Override
    public long dueNanos() {
        return waitingSinceNanos < 0 ? ConnectionClock.NONE : waitingSinceNanos + Math.max(0, allowanceNanos);
    }

    @Override
    public void expire(long nowNanos) {
        waitingSinceNanos = -1;
        onTimeout.run();
    }
}
