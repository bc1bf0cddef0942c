package dev.fulcrum.server.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Metrics of the control side: health checks ({@code fulcrum_health_checks_total}), auto-scaling
 * ({@code fulcrum_autoscale_actions_total}), HA ({@code fulcrum_ha_master}) and DSR
 * ({@code fulcrum_dsr_packets_total}, {@code fulcrum_dsr_grace_flows_total}). Their callers (prober, auto-scaler, VRRP speaker, DSR
 * forwarder) are not on the HTTP request path, so a label lookup per call is fine here, except for
 * DSR packets, whose two series are bound once.
 *
 * <p>Thread-safe.
 */
public final class ControlMetrics {

    private final Counter healthChecks;
    private final Counter autoscaleActions;
    private final Gauge haMaster;
    private final Counter haAdvertsDropped;
    private final io.prometheus.metrics.core.datapoints.CounterDataPoint dsrForwarded;
    private final io.prometheus.metrics.core.datapoints.CounterDataPoint dsrDropped;
    private final Counter dsrGraceFlows;

    ControlMetrics(PrometheusRegistry registry) {
        healthChecks = Counter.builder()
                .name("fulcrum_health_checks_total")
                .help("Active health checks run, by pool, server and result (pass/fail).")
                .labelNames("pool", "server", "result")
                .withoutExemplars()
                .register(registry);
        autoscaleActions = Counter.builder()
                .name("fulcrum_autoscale_actions_total")
                .help("Servers added (out) or removed (in) by the auto-scaler, by pool.")
                .labelNames("pool", "direction")
                .withoutExemplars()
                .register(registry);
        haMaster = Gauge.builder()
                .name("fulcrum_ha_master")
                .help("1 while this instance is the VRRP master of the virtual router, else 0.")
                .labelNames("virtual_router_id")
                .withoutExemplars()
                .register(registry);
        haAdvertsDropped = Counter.builder()
                .name("fulcrum_ha_adverts_dropped_total")
                .help("VRRP packets received and dropped as invalid, by reason (ttl_not_255, bad_checksum, wrong_vrid, ...).")
                .labelNames("reason")
                .withoutExemplars()
                .register(registry);
        Counter dsr = Counter.builder()
                .name("fulcrum_dsr_packets_total")
                .help("Packets seen by the Direct Server Return forwarder, by result (forwarded/dropped).")
                .labelNames("result")
                .withoutExemplars()
                .register(registry);
        dsrForwarded = dsr.labelValues("forwarded");
        dsrDropped = dsr.labelValues("dropped");
        dsrGraceFlows = Counter.builder()
                .name("fulcrum_dsr_grace_flows_total")
                .help("Flows this node had not seen, arriving without SYN within dsr.table-grace of a change of a"
                        + " cluster's DSR table, sent to the server of the previous table.")
                .withoutExemplars()
                .register(registry);
    }

    /** One health check of {@code server} ({@code host:port}) in {@code pool} ended. */
    public void healthCheck(String pool, String server, boolean pass) {
        healthChecks.labelValues(pool, server, pass ? "pass" : "fail").inc();
    }

    /** Checks of one server counted so far, as {@code fulcrum_health_checks_total} has them. */
    public record Checks(long passed, long failed) {
    }

    /**
     * Reads {@code fulcrum_health_checks_total} of {@code server} in {@code pool} back (no series is
     * created by asking): the admin side and the tests read the count Prometheus scrapes.
     */
    public Checks checks(String pool, String server) {
        long passed = 0;
        long failed = 0;
        for (var point : healthChecks.collect().getDataPoints()) {
            var labels = point.getLabels();
            if (pool.equals(labels.get("pool")) && server.equals(labels.get("server"))) {
                if ("pass".equals(labels.get("result"))) {
                    passed += (long) point.getValue();
                } else {
                    failed += (long) point.getValue();
                }
            }
        }
        return new Checks(passed, failed);
    }

    /** Metrics registered nowhere: for parts built alone (tests); they count the same way. */
    public static ControlMetrics unregistered() {
        return new ControlMetrics(new PrometheusRegistry());
    }

    /** {@link #healthCheck(String, String, boolean)} for a registered server. */
    public void healthCheck(String pool, dev.fulcrum.core.pool.Server server, boolean pass) {
        healthCheck(pool, server.id(), pass);
    }

    /** The auto-scaler acted. @param direction {@code "out"} or {@code "in"} */
    public void autoscaleAction(String pool, String direction) {
        if (!direction.equals("out") && !direction.equals("in")) {
            throw new IllegalArgumentException("direction must be out or in, not " + direction);
        }
        autoscaleActions.labelValues(pool, direction).inc();
    }

    /** This instance became master ({@code true}) or left that state for the virtual router. */
    public void haMaster(int virtualRouterId, boolean master) {
        haMaster.labelValues(Integer.toString(virtualRouterId)).set(master ? 1 : 0);
    }

    /** A received VRRP packet dropped as invalid; {@code reason} in snake case. */
    public void haAdvertDropped(String reason) {
        haAdvertsDropped.labelValues(reason).inc();
    }

    /** @param result {@code "forwarded"} or {@code "dropped"} */
    public void dsrPackets(String result, long packets) {
        switch (result) {
            case "forwarded" -> dsrForwarded.inc(packets);
            case "dropped" -> dsrDropped.inc(packets);
            default -> throw new IllegalArgumentException("result must be forwarded or dropped, not " + result);
        }
    }

    /** DSR flows given the previous table's server during a grace period (see {@code DsrTargets}). */
    public void dsrGraceFlows(long flows) {
        dsrGraceFlows.inc(flows);
    }

    /** A server the registry forgot: its health-check series leave the scrape. */
    void forget(String pool, String serverId) {
        healthChecks.removeIf(labels -> labels.get(0).equals(pool) && labels.get(1).equals(serverId));
    }
}
