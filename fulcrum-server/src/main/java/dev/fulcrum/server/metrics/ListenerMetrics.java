package dev.fulcrum.server.metrics;

import dev.fulcrum.core.pool.Server;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The metrics of one listener, bound to its label once: a listener (HTTP or TCP) takes its
 * {@code ListenerMetrics} from {@link ProxyMetrics#listener(String)} when it starts and keeps it,
 * and an HTTP listener's routes each keep their {@link RouteMetrics} ({@link #route(String)}), so
 * per request the only lookup is the route's one map get keyed by the {@link Server} object.
 *
 * <p>Thread-safe; every method may be called from any event loop.
 */
public final class ListenerMetrics {

    private final String listener;
    private final Counter requests;
    private final Histogram duration;
    private final CounterDataPoint bytesIn;
    private final CounterDataPoint bytesOut;
    private final GaugeDataPoint connections;
    /** By {@link Http2Refusal#ordinal()}. */
    private final CounterDataPoint[] http2Refused;
    /** The routes in force by name; a retired one leaves, so one of that name added later starts afresh. */
    private final Map<String, RouteMetrics> routes = new ConcurrentHashMap<>();

    ListenerMetrics(String listener, Counter requests, Histogram duration, Counter bytes,
                    io.prometheus.metrics.core.metrics.Gauge connections, Counter http2Refused) {
        this.listener = listener;
        this.requests = requests;
        this.duration = duration;
        this.bytesIn = bytes.labelValues(listener, "in");
        this.bytesOut = bytes.labelValues(listener, "out");
        this.connections = connections.labelValues(listener);
        Http2Refusal[] reasons = Http2Refusal.values();
        this.http2Refused = new CounterDataPoint[reasons.length];
        for (Http2Refusal r : reasons) {
            this.http2Refused[r.ordinal()] = http2Refused.labelValues(listener, r.label());
        }
    }

    /** Counts one HTTP/2 connection closed or stream reset for {@code reason}. */
    public void http2Refused(Http2Refusal reason) {
        http2Refused[reason.ordinal()].inc();
    }

    /** HTTP/2 refusals counted so far for {@code reason} ({@code fulcrum_http2_refused_total}). */
    public long http2Refusals(Http2Refusal reason) {
        return (long) http2Refused[reason.ordinal()].get();
    }

    public String name() {
        return listener;
    }

    /**
     * The series of the route {@code name} (the config's name; {@link RouteMetrics#NO_ROUTE} for
     * answers to requests that matched no route), created on first use; keep the result.
     */
    public RouteMetrics route(String name) {
        RouteMetrics m = routes.get(name);
        return m != null ? m : routes.computeIfAbsent(name, n -> new RouteMetrics(listener, n, requests, duration));
    }

    /** Adds bytes read from clients ({@code in}) and written to them ({@code out}). */
    public void bytes(long in, long out) {
        if (in > 0) {
            bytesIn.inc(in);
        }
        if (out > 0) {
            bytesOut.inc(out);
        }
    }

    /**
     * Responses counted so far (the {@code fulcrum_requests_total} series this object feeds), by
     * server id, {@code ""} for Fulcrum's own answers, and status class (element 0 = 1xx ... 4 = 5xx),
     * over all routes.
     */
    public Map<String, long[]> responsesByServer() {
        Map<String, long[]> out = new HashMap<>();
        routes.values().forEach(route -> route.addResponsesByServer(out));
        return out;
    }

    /** Bytes read from clients so far ({@code fulcrum_bytes_total{direction="in"}}). */
    public long bytesIn() {
        return (long) bytesIn.get();
    }

    /** Bytes written to clients so far ({@code fulcrum_bytes_total{direction="out"}}). */
    public long bytesOut() {
        return (long) bytesOut.get();
    }

    public void connectionOpened() {
        connections.inc();
    }

    public void connectionClosed() {
        connections.dec();
    }

    /** Drops the cached series of a server the registry forgot (the metric's series go separately). */
    void forget(String serverId) {
        routes.values().forEach(route -> route.forget(serverId));
    }

    /**
     * Retires every route not in {@code inForce} (the route names this listener has in the config
     * now and {@link RouteMetrics#NO_ROUTE}; none when the listener left it): their series leave
     * the scrape.
     */
    void keepRoutes(Set<String> inForce) {
        routes.entrySet().removeIf(e -> {
            boolean gone = !inForce.contains(e.getKey());
            if (gone) {
                e.getValue().retire();
            }
            return gone;
        });
    }
}
