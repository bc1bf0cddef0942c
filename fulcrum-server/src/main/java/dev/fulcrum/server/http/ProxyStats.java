package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.metrics.Http2Refusal;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.metrics.ProxyMetrics;
import dev.fulcrum.server.metrics.RouteMetrics;

import java.util.Map;

/**
 * What one HTTP listener counts, written once into the metrics store:
 * {@code fulcrum_retries_total{pool}}, {@code fulcrum_requests_total{listener,route,pool,server,code}}
 * (server {@code ""} for answers Fulcrum made itself; route {@code ""} for requests no route took)
 * and {@code fulcrum_bytes_total{listener,direction}} (bytes on the client sockets, TLS
 * included). The readers here read those series back: the admin API, the dashboard and the tests
 * see the numbers Prometheus scrapes, not a second count. Thread-safe (the series are).
 */
public final class ProxyStats {

    /** The server label of responses Fulcrum made itself (502, 503, 504, 4xx). */
    public static final String NO_SERVER = "";
    /** The pool label of answers to requests no pool was chosen for. */
    public static final String NO_POOL = "";

    private final ProxyMetrics proxyMetrics;
    private final ListenerMetrics metrics;
    /** The series of answers to requests that matched no route or could not be read. */
    private final RouteMetrics noRoute;

    ProxyStats(ProxyMetrics proxyMetrics, ListenerMetrics metrics) {
        this.proxyMetrics = proxyMetrics;
        this.metrics = metrics;
        this.noRoute = metrics.route(RouteMetrics.NO_ROUTE);
    }

    /** The series of the route {@code name}, for the route to hold. */
    RouteMetrics route(String name) {
        return metrics.route(name);
    }

    /** Extra tries on another server after a failed attempt, in {@code pool}. */
    public long retries(String pool) {
        return proxyMetrics.retries(pool);
    }

    /** Bytes read from clients. */
    public long bytesIn() {
        return metrics.bytesIn();
    }

    /** Bytes written to clients. */
    public long bytesOut() {
        return metrics.bytesOut();
    }

    /**
     * Responses sent to clients so far, by server id ({@link #NO_SERVER} for Fulcrum's own) and
     * status class: element 0 counts 1xx... element 4 counts 5xx (interim 1xx are not counted).
     */
    public Map<String, long[]> responsesByServer() {
        return metrics.responsesByServer();
    }

    void retried(String pool) {
        proxyMetrics.retry(pool);
    }

    void read(long bytes) {
        metrics.bytes(bytes, 0);
    }

    void written(long bytes) {
        metrics.bytes(0, bytes);
    }

    void connectionOpened() {
        metrics.connectionOpened();
    }

    void connectionClosed() {
        metrics.connectionClosed();
    }

    /**
     * A final response started towards the client; {@code route} null for an answer to a request
     * that matched no route or could not be read, {@code server} null for Fulcrum's own, and
     * {@code pool} {@link #NO_POOL} for an answer to a request no pool was chosen for (no route, a
     * redirect, a refused head). {@code durationNanos} runs from the request's arrival to the
     * response head (time to first byte, what a balancer adds; a long download does not stretch it).
     */
    void responded(ProxyRoute route, String pool, Server server, int status, long durationNanos) {
        (route == null ? noRoute : route.metrics()).requestCompleted(pool, server, status, durationNanos);
    }

    /** Counts one HTTP/2 connection closed or stream reset for {@code reason}. */
    void http2Refused(Http2Refusal reason) {
        metrics.http2Refused(reason);
    }

    /** HTTP/2 refusals counted so far for {@code reason}. */
    public long http2Refusals(Http2Refusal reason) {
        return metrics.http2Refusals(reason);
    }
}
