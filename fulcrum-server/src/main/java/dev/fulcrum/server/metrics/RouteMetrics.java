package dev.fulcrum.server.metrics;

import dev.fulcrum.core.pool.Server;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The request series of one route of a listener ({@code fulcrum_requests_total} and
 * {@code fulcrum_request_duration_seconds} with its {@code listener} and {@code route} labels),
 * bound once: the route at run time holds it, so per request the only lookup is one
 * {@link ConcurrentHashMap#get} keyed by the {@link Server} object (identity hash; no string is
 * built or hashed). Route names come from the config ({@link #NO_ROUTE} for answers to
 * requests that matched no route), never from requests, so the series stay bounded.
 *
 * <p>A reload that drops the route retires it ({@link ListenerMetrics#keepRoutes}): its series
 * leave the scrape, and requests that finish afterwards on the draining listener are not counted,
 * so no series of a route gone is brought back to life.
 *
 * <p>Thread-safe; every method may be called from any event loop.
 */
public final class RouteMetrics {

    /** The route label of answers to requests that matched no route or could not be read. */
    public static final String NO_ROUTE = "";

    private final String listener;
    private final String route;
    private final Counter requests;
    private final Histogram duration;
    private final Map<Server, ServerSeries> servers = new ConcurrentHashMap<>();
    /** Answers Fulcrum made itself (400, 502, 503, 504...), by pool; server label "". */
    private final Map<String, ServerSeries> ownAnswers = new ConcurrentHashMap<>();
    private volatile boolean retired;

    RouteMetrics(String listener, String route, Counter requests, Histogram duration) {
        this.listener = listener;
        this.route = route;
        this.requests = requests;
        this.duration = duration;
    }

    /**
     * Counts one finished request (a response was sent, or the proxy answered an error itself):
     * {@code fulcrum_requests_total} by status class and {@code fulcrum_request_duration_seconds}.
     *
     * @param pool          the pool's name, read only the first time this server is seen
     * @param server        null for an answer Fulcrum made itself (label server="")
     * @param status        the status sent to the client
     * @param durationNanos from the request's first byte to the response's last, in nanoseconds
     */
    public void requestCompleted(String pool, Server server, int status, long durationNanos) {
        if (retired) {
            return;
        }
        if (server == null) {
            ownAnswers.computeIfAbsent(pool, p -> series(p, "")).completed(status, durationNanos);
            return;
        }
        ServerSeries series = servers.get(server);
        if (series == null) {
            if (server.isRemoved()) {
                // finished after its drain-timeout, once the registry (and the scrape) forgot the
                // server: its latency still counts, but no series is brought back to life for it
                duration.labelValues(listener, route, pool).observe(durationNanos / 1e9);
                return;
            }
            series = servers.computeIfAbsent(server, s -> series(pool, s.id()));
        }
        series.completed(status, durationNanos);
    }

    private ServerSeries series(String pool, String server) {
        return new ServerSeries(requests, duration.labelValues(listener, route, pool), listener, route, pool, server);
    }

    /** Adds this route's responses so far to {@code out}, by server id ({@code ""} for Fulcrum's own). */
    void addResponsesByServer(Map<String, long[]> out) {
        servers.forEach((server, series) -> out.merge(server.id(), series.counts(), ServerSeries::add));
        ownAnswers.values().forEach(series -> out.merge("", series.counts(), ServerSeries::add));
    }

    /** Drops the cached series of a server the registry forgot (the metric's series go separately). */
    void forget(String serverId) {
        servers.keySet().removeIf(s -> s.isRemoved() && s.id().equals(serverId));
    }

    /** The route left the config: nothing more is counted, and its series leave the scrape. */
    void retire() {
        retired = true;
        requests.removeIf(labels -> labels.get(0).equals(listener) && labels.get(1).equals(route));
        duration.removeIf(labels -> labels.get(0).equals(listener) && labels.get(1).equals(route));
    }
}
