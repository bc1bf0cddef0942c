package dev.fulcrum.server.http;

/**
 * The {@code response-timeout} of the requests of one client connection: fires when the server made
 * no progress for that long before the response head started. Progress is the request head or a
 * body part flushed to the server ({@link #progress()}); time spent waiting for the client's next
 * body part does not count against the server ({@link ProxyExchange#wantsBody()}).
 *
 * <p>One per connection, bound to each request in turn ({@link #bind}), and a part of the
 * connection's {@link ConnectionClock}: arming and stopping only write fields; when the clock asks
 * and the window passed, the exchange times out (or, when the client is the slow one, the window
 * starts again).
 *
 * <p>Confined to the connection's event loop.
 */
final class ResponseTimer implements ConnectionClock.Timed {

    private final ConnectionClock clock;
    private ProxyExchange exchange;
    private long windowNanos;
    private boolean armed;
    private long lastProgressNanos;

    ResponseTimer(ConnectionClock clock) {
        this.clock = clock;
        clock.add(this);
    }

    /** The timer now times {@code exchange}'s tries, {@code windowNanos} at a time (0 = never). */
    void bind(ProxyExchange exchange, long windowNanos) {
        this.exchange = exchange;
        this.windowNanos = windowNanos;
        this.armed = false;
    }

    /** The server took something: the wait for its answer starts again. */
    void progress() {
        if (windowNanos <= 0) {
            return;
        }
        lastProgressNanos = clock.now();
        armed = true;
        clock.armed(lastProgressNanos + windowNanos);
    }

    /** The response started, the try failed or the request ended: nothing to time until the next progress. */
    void stop() {
        armed = false;
    }

    /**
     * The request ended: the timer forgets it, so that an idle keep-alive connection does not keep
     * its last request (head, choice, exchange) alive until the next one.
     */
    void unbind() {
        armed = false;
        exchange = null;
    }

    @Override
    public long dueNanos() {
        return armed ? lastProgressNanos + windowNanos : ConnectionClock.NONE;
    }

    @Override
    public void expire(long nowNanos) {
        if (exchange.wantsBody() || exchange.awaitingBudget()) {
            // the client is slow, not the server (sending its body: the body timeout's business; or
            // taking the responses of its HTTP/2 connection: Http2ResponseBudget)
            lastProgressNanos = nowNanos;
            return;
        }
        armed = false;
        exchange.responseTimedOut();
    }
}
