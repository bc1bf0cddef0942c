package dev.fulcrum.server.metrics;

import dev.fulcrum.server.config.FulcrumConfig.Listener;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The data plane's door to metrics: {@code fulcrum_requests_total},
 * {@code fulcrum_request_duration_seconds}, {@code fulcrum_connections_active},
 * {@code fulcrum_bytes_total}, {@code fulcrum_retries_total} and {@code fulcrum_http2_refused_total}.
 *
 * <p>On the request path, hold the {@link ListenerMetrics} of your listener (from
 * {@link #listener(String)}, once) and call it: one map get per request. The methods here that take
 * a listener name are conveniences that add one more map get.
 *
 * <p>Nothing here is updated from the registry: server and pool gauges are computed at scrape time
 * (see {@link ServerGauges}). Thread-safe.
 */
public final class ProxyMetrics {

    /** Fit for a balancer: from a cached response on loopback (0.5 ms) to a slow upstream (10 s). */
    static final double[] DURATION_BUCKETS = {
            .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

    private final Counter requests;
    private final Histogram duration;
    private final Gauge connections;
    private final Counter bytes;
    private final Counter retries;
    private final Counter http2Refused;
    private final Map<String, ListenerMetrics> listeners = new ConcurrentHashMap<>();
    private final Map<String, CounterDataPoint> retriesByPool = new ConcurrentHashMap<>();

    ProxyMetrics(PrometheusRegistry registry) {
        requests = Counter.builder()
                .name("fulcrum_requests_total")
                .help("Requests answered, by listener, route, pool, server and status class.")
                .labelNames("listener", "route", "pool", "server", "code")
                .withoutExemplars()
                .register(registry);
        duration = Histogram.builder()
                .name("fulcrum_request_duration_seconds")
                .help("Time from a request's arrival to its response's head (what the balancer and the server add before the first byte).")
                .labelNames("listener", "route", "pool")
                .classicOnly()
                .classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars()
                .register(registry);
        connections = Gauge.builder()
                .name("fulcrum_connections_active")
                .help("Open client connections, by listener.")
                .labelNames("listener")
                .withoutExemplars()
                .register(registry);
        bytes = Counter.builder()
                .name("fulcrum_bytes_total")
                .help("Bytes read from clients (in) and written to them (out), by listener.")
                .labelNames("listener", "direction")
                .withoutExemplars()
                .register(registry);
        http2Refused = Counter.builder()
                .name("fulcrum_http2_refused_total")
                .help("HTTP/2 connections closed and streams reset for an attack or a broken request, by listener and reason.")
                .labelNames("listener", "reason")
                .withoutExemplars()
                .register(registry);
        retries = Counter.builder()
                .name("fulcrum_retries_total")
                .help("Requests sent again to another server after a failure, by pool.")
                .labelNames("pool")
                .withoutExemplars()
                .register(registry);
    }

    /**
     * Metrics registered nowhere: for a listener built without the instance's metrics (tests of a
     * listener alone); it counts the same way, nothing scrapes it.
     */
    public static ProxyMetrics unregistered() {
        return new ProxyMetrics(new PrometheusRegistry());
    }

    /** Retries counted so far in {@code pool} ({@code fulcrum_retries_total}). */
    public long retries(String pool) {
        CounterDataPoint point = retriesByPool.get(pool);
        return point == null ? 0 : (long) point.get();
    }

    /** The metrics of one listener, created on first use; keep the result. */
    public ListenerMetrics listener(String name) {
        ListenerMetrics m = listeners.get(name);
        return m != null ? m : listeners.computeIfAbsent(name,
                n -> new ListenerMetrics(n, requests, duration, bytes, connections, http2Refused));
    }

    public void bytes(String listener, long in, long out) {
        listener(listener).bytes(in, out);
    }

    public void connectionOpened(String listener) {
        listener(listener).connectionOpened();
    }

    public void connectionClosed(String listener) {
        listener(listener).connectionClosed();
    }

    /** Counts one retry in {@code pool} (rare: a map get is fine here). */
    public void retry(String pool) {
        CounterDataPoint point = retriesByPool.get(pool);
        if (point == null) {
            point = retriesByPool.computeIfAbsent(pool, retries::labelValues);
        }
        point.inc();
    }

    /** The listeners seen so far, for the stats endpoint. */
    java.util.Collection<ListenerMetrics> listeners() {
        return listeners.values();
    }

    Counter requestsCounter() {
        return requests;
    }

    Histogram durationHistogram() {
        return duration;
    }

    Counter bytesCounter() {
        return bytes;
    }

    Gauge connectionsGauge() {
        return connections;
    }

    /** A server the registry forgot: its request series leave the scrape. */
    void forget(String pool, String serverId) {
        for (ListenerMetrics m : listeners.values()) {
            m.forget(serverId);
        }
        requests.removeIf(labels -> labels.get(2).equals(pool) && labels.get(3).equals(serverId));
    }

    /**
     * The config in force has these listeners (after a reload): the series of every route no longer
     * in it, and of every route of a listener gone, leave the scrape. Route names are the config's,
     * so this is what keeps their number bounded across reloads.
     */
    public void keepRoutes(List<Listener> inForce) {
        Map<String, Set<String>> names = new HashMap<>();
        for (Listener listener : inForce) {
            Set<String> routes = new HashSet<>();
            routes.add(RouteMetrics.NO_ROUTE);
            listener.routes().forEach(r -> routes.add(r.name()));
            names.put(listener.name(), routes);
        }
        listeners.forEach((name, m) -> m.keepRoutes(names.getOrDefault(name, Set.of())));
    }
}
