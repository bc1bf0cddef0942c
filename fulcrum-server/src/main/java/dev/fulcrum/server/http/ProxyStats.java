package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.metrics.ProxyMetrics;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one HTTP listener (which serves one pool), for the metrics endpoint:
 * {@code fulcrum_retries_total{pool}}, {@code fulcrum_requests_total{listener,pool,server,code}}
 * (server {@code ""} for answers Fulcrum made itself) and {@code fulcrum_bytes_total{listener,
 * direction}} (bytes on the client sockets, TLS included). Bumped by every event loop at once, so
 * {@link LongAdder}s; a read is a sum and may be a moment stale. Thread-safe.
 */
public final class ProxyStats {

    /** The server label of responses Fulcrum made itself (502, 503, 504, 4xx). */
    public static final String NO_SERVER = "";

    private final String pool;
    /** Where the Prometheus series live; null when the listener runs without metrics (tests). */
    private final ListenerMetrics metrics;
    private final ProxyMetrics proxyMetrics;
    private final LongAdder retries = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final Map<String, LongAdder[]> responses = new ConcurrentHashMap<>();

    ProxyStats(String pool, ProxyMetrics proxyMetrics, ListenerMetrics metrics) {
        this.pool = pool;
        this.proxyMetrics = proxyMetrics;
        this.metrics = metrics;
    }

    /** The pool these counters are about. */
    public String pool() {
        return pool;
    }

    /** Extra tries on another server after a failed attempt. */
    public long retries() {
        return retries.sum();
    }

    /** Bytes read from clients. */
    public long bytesIn() {
        return bytesIn.sum();
    }

    /** Bytes written to clients. */
    public long bytesOut() {
        return bytesOut.sum();
    }

    /**
     * Responses sent to clients so far, by server id ({@link #NO_SERVER} for Fulcrum's own) and
     * status class: element 0 counts 1xx... element 4 counts 5xx (interim 1xx are not counted).
     */
    public Map<String, long[]> responsesByServer() {
        Map<String, long[]> out = new HashMap<>();
        responses.forEach((server, byClass) -> {
            long[] counts = new long[5];
            for (int i = 0; i < 5; i++) {
                counts[i] = byClass[i].sum();
            }
            out.put(server, counts);
        });
        return out;
    }

    void retried() {
        retries.increment();
        if (proxyMetrics != null) {
            proxyMetrics.retry(pool);
        }
    }

    void read(long bytes) {
        bytesIn.add(bytes);
        if (metrics != null) {
            metrics.bytes(bytes, 0);
        }
    }

    void written(long bytes) {
        bytesOut.add(bytes);
        if (metrics != null) {
            metrics.bytes(0, bytes);
        }
    }

    void connectionOpened() {
        if (metrics != null) {
            metrics.connectionOpened();
        }
    }

    void connectionClosed() {
        if (metrics != null) {
            metrics.connectionClosed();
        }
    }

    /**
     * A final response started towards the client; {@code server} null for Fulcrum's own.
     * {@code durationNanos} runs from the request's arrival to the response head (time to first
     * byte, what a balancer adds; a long download does not stretch it).
     */
    void responded(Server server, int status, long durationNanos) {
        if (metrics != null) {
            metrics.requestCompleted(pool, server, status, durationNanos);
        }
        int statusClass = Math.min(5, Math.max(1, status / 100)) - 1;
        responses.computeIfAbsent(server == null ? NO_SERVER : server.id(), s -> newCounters())[statusClass]
                .increment();
    }

    private static LongAdder[] newCounters() {
        LongAdder[] counters = new LongAdder[5];
        for (int i = 0; i < 5; i++) {
            counters[i] = new LongAdder();
        }
        return counters;
    }
}
