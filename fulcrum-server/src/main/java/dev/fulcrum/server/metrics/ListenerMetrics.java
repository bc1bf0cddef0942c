package dev.fulcrum.server.metrics;

import dev.fulcrum.core.pool.Server;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The metrics of one listener, bound to its label once: a listener (HTTP or TCP) takes its
 * {@code ListenerMetrics} from {@link ProxyMetrics#listener(String)} when it starts and keeps it, so
 * per request the only lookup is one {@link ConcurrentHashMap#get} keyed by the {@link Server}
 * object (identity hash; no string is built or hashed).
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
    private final Map<Server, ServerSeries> servers = new ConcurrentHashMap<>();
    /** Answers Fulcrum made itself (400, 502, 503, 504...), by pool; server label "". */
    private final Map<String, ServerSeries> ownAnswers = new ConcurrentHashMap<>();

    ListenerMetrics(String listener, Counter requests, Histogram duration, Counter bytes, io.prometheus.metrics.core.metrics.Gauge connections) {
        this.listener = listener;
        this.requests = requests;
        this.duration = duration;
        this.bytesIn = bytes.labelValues(listener, "in");
        this.bytesOut = bytes.labelValues(listener, "out");
        this.connections = connections.labelValues(listener);
    }

    public String name() {
        return listener;
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
        if (server == null) {
            ownAnswers.computeIfAbsent(pool, p -> new ServerSeries(requests, duration.labelValues(listener, p),
                    listener, p, "")).completed(status, durationNanos);
            return;
        }
        ServerSeries series = servers.get(server);
        if (series == null) {
            if (server.isRemoved()) {
                // finished after its drain-timeout, once the registry (and the scrape) forgot the
                // server: its latency still counts, but no series is brought back to life for it
                duration.labelValues(listener, pool).observe(durationNanos / 1e9);
                return;
            }
            series = servers.computeIfAbsent(server, s -> new ServerSeries(requests,
                    duration.labelValues(listener, pool), listener, pool, s.id()));
        }
        series.completed(status, durationNanos);
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
     * server id, {@code ""} for Fulcrum's own answers, and status class (element 0 = 1xx ... 4 = 5xx).
     */
    public Map<String, long[]> responsesByServer() {
        Map<String, long[]> out = new java.util.HashMap<>();
        servers.forEach((server, series) -> out.merge(server.id(), series.counts(), ListenerMetrics::add));
        ownAnswers.values().forEach(series -> out.merge("", series.counts(), ListenerMetrics::add));
        return out;
    }

    private static long[] add(long[] a, long[] b) {
        long[] sum = a.clone();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += b[i];
        }
        return sum;
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
    void forget(String pool, String serverId) {
        servers.keySet().removeIf(s -> s.isRemoved() && s.id().equals(serverId));
    }
}
