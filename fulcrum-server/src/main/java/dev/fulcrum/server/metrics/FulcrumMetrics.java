package dev.fulcrum.server.metrics;

import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.Registry;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Every metric of the instance in one Prometheus registry of its own (not the library's global
 * one, so two instances in one JVM, as in tests, do not mix): {@link #proxy()} for the data plane,
 * {@link #control()} for health checks, auto-scaling, HA and DSR, and the server and pool gauges
 * read from the {@link Registry} at scrape time. {@link #writeText} is the {@code /metrics} body
 * (text format 0.0.4, written by the Prometheus client); {@link #stats()} and {@link #history()}
 * feed the dashboard.
 *
 * <p>Create one per process, before the listeners, and hand {@link #proxy()} to them. Thread-safe.
 */
public final class FulcrumMetrics {

    /** The {@code Content-Type} of {@link #writeText}. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final ProxyMetrics proxy;
    private final ControlMetrics control;
    private final TrafficHistory history;
    private final Clock clock;

    public FulcrumMetrics(Registry registry) {
        this(registry, Clock.systemUTC(), System::nanoTime);
    }

    FulcrumMetrics(Registry registry, Clock clock, LongSupplier nanoTime) {
        this.clock = clock;
        this.proxy = new ProxyMetrics(prometheus);
        this.control = new ControlMetrics(prometheus);
        ServerGauges.register(prometheus, registry);
        this.history = new TrafficHistory(proxy.durationHistogram(), clock, nanoTime);
        registry.onEvent(this::onEvent);
    }

    /** A removed server's series leave the scrape. On the control thread. */
    private void onEvent(PoolEvent event) {
        switch (event) {
            case PoolEvent.ServerRemoved removed -> {
                proxy.forget(removed.pool().name(), removed.server().id());
                control.forget(removed.pool().name(), removed.server().id());
            }
            case PoolEvent.ServerAdded _, PoolEvent.ServerUp _, PoolEvent.ServerDown _, PoolEvent.ServerEjected _,
                 PoolEvent.ServerDraining _, PoolEvent.ServerEnabled _, PoolEvent.WeightChanged _,
                 PoolEvent.MacLearned _, PoolEvent.MacLost _, PoolEvent.ScaleEvent _, PoolEvent.HaEvent _,
                 PoolEvent.ConfigReloaded _, PoolEvent.ClusterEvent _ -> {
            }
        }
    }

    public ProxyMetrics proxy() {
        return proxy;
    }

    public ControlMetrics control() {
        return control;
    }

    /**
     * Registers {@code fulcrum_access_log_lines_total} and {@code fulcrum_access_log_dropped_total},
     * read from the access log's own counters at scrape time (the access log counts on its writer
     * thread and, for a full queue, on the event loops; nothing is updated here). Once per instance.
     */
    public void accessLog(LongSupplier linesWritten, LongSupplier dropped) {
        CounterWithCallback.builder()
                .name("fulcrum_access_log_lines_total")
                .help("Access-log lines written.")
                .callback(cb -> cb.call(linesWritten.getAsLong()))
                .register(prometheus);
        CounterWithCallback.builder()
                .name("fulcrum_access_log_dropped_total")
                .help("Access-log lines dropped: the queue to the writer was full, or the file could not be written.")
                .callback(cb -> cb.call(dropped.getAsLong()))
                .register(prometheus);
    }

    /**
     * Registers {@code fulcrum_tls_certificate_expiry_seconds} over the listeners running at each
     * scrape ({@link TlsCertificateGauges}). Once per instance.
     */
    public void tlsCertificates(Supplier<List<ListenerRuntime>> listeners) {
        TlsCertificateGauges.register(prometheus, listeners);
    }

    /**
     * Registers the cluster's gauges (spec cluster.md), read at scrape time from the node's own
     * state: {@code fulcrum_cluster_members} (live members in etcd's member list, as last seen),
     * {@code fulcrum_cluster_applied_revision} and {@code fulcrum_cluster_etcd_up} (1 or 0). Once per
     * instance, only in a cluster.
     */
    public void cluster(LongSupplier members, LongSupplier appliedRevision, java.util.function.BooleanSupplier etcdUp) {
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
                .name("fulcrum_cluster_members")
                .help("Live members of the cluster, as this node last saw etcd's member list.")
                .callback(cb -> cb.call(members.getAsLong()))
                .register(prometheus);
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
                .name("fulcrum_cluster_applied_revision")
                .help("The etcd revision whose shared config this node has applied.")
                .callback(cb -> cb.call(appliedRevision.getAsLong()))
                .register(prometheus);
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
                .name("fulcrum_cluster_etcd_up")
                .help("1 while this node reaches etcd, 0 while it serves its last applied state without it.")
                .callback(cb -> cb.call(etcdUp.getAsBoolean() ? 1 : 0))
                .register(prometheus);
    }

    /** Writes a scrape in the Prometheus text format 0.0.4. */
    public void writeText(OutputStream out) throws IOException {
        writer.write(out, prometheus.scrape());
    }

    /** Per-listener totals and the recent p99 latency (see {@link TrafficStats}). */
    public TrafficStats stats() {
        Map<String, long[]> totals = new TreeMap<>(); // requests, in, out, connections
        for (CounterSnapshot.CounterDataPointSnapshot p : proxy.requestsCounter().collect().getDataPoints()) {
            totals.computeIfAbsent(p.getLabels().get("listener"), k -> new long[4])[0] += (long) p.getValue();
        }
        for (CounterSnapshot.CounterDataPointSnapshot p : proxy.bytesCounter().collect().getDataPoints()) {
            long[] t = totals.computeIfAbsent(p.getLabels().get("listener"), k -> new long[4]);
            t["in".equals(p.getLabels().get("direction")) ? 1 : 2] += (long) p.getValue();
        }
        for (GaugeSnapshot.GaugeDataPointSnapshot p : proxy.connectionsGauge().collect().getDataPoints()) {
            totals.computeIfAbsent(p.getLabels().get("listener"), k -> new long[4])[3] += (long) p.getValue();
        }
        List<TrafficStats.Listener> listeners = new ArrayList<>();
        long all = 0;
        for (Map.Entry<String, long[]> e : totals.entrySet()) {
            long[] t = e.getValue();
            all += t[0];
            listeners.add(new TrafficStats.Listener(e.getKey(), t[0], t[1], t[2], t[3],
                    orNull(history.quantile(e.getKey(), 0.99))));
        }
        return new TrafficStats(clock.instant().toString(), TrafficHistory.WINDOW_NANOS / 1e9, all,
                orNull(history.quantile(TrafficHistory.ALL, 0.99)), listeners);
    }

    /** {@code fulcrum_requests_total} by listener and route, read back from the scrape's series. */
    public RouteResponses routeResponses() {
        return RouteResponses.collect(proxy.requestsCounter());
    }

    /**
     * Requests per second and p99 latency, one point a second for the last five minutes, oldest
     * first (see {@link TrafficStats.Point}); what the dashboard's chart starts from.
     */
    public List<TrafficStats.Point> history() {
        return history.points();
    }

    /**
     * Takes a traffic sample when one is due; call it every second (the admin server does) so
     * {@link #history()} has no gaps. Cheap: one collection of the latency histogram.
     */
    public void tick() {
        history.sampleIfDue();
    }

    private static Double orNull(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
