package dev.fulcrum.server.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one HTTP listener (which serves one pool), for the metrics endpoint:
 * {@code fulcrum_retries_total{pool}} and friends. Bumped by every event loop at once, so
 * {@link LongAdder}s; reads are a sum and may be a moment stale. Thread-safe.
 */
public final class ProxyStats {

    private final String pool;
    private final LongAdder retries = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder localErrors = new LongAdder();

    ProxyStats(String pool) {
        this.pool = pool;
    }

    /** The pool these counters are about. */
    public String pool() {
        return pool;
    }

    /** Extra tries on another server after a failed attempt. */
    public long retries() {
        return retries.sum();
    }

    /** Client requests that were decoded (whatever became of them). */
    public long requests() {
        return requests.sum();
    }

    /** Responses Fulcrum made itself (400, 408, 413, 431, 502, 503, 504). */
    public long localErrors() {
        return localErrors.sum();
    }

    void retried() {
        retries.increment();
    }

    void requestReceived() {
        requests.increment();
    }

    void localError() {
        localErrors.increment();
    }
}
