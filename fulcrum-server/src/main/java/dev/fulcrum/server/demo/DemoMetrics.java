package dev.fulcrum.server.demo;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo server's counters and their Prometheus text (exposition format 0.0.4):
 * {@code process_cpu_usage} (from {@link CpuWorkers}), {@code demo_requests_total} by kind of
 * request, {@code demo_work_rejected_total}, and gauges for the work queue and health.
 *
 * <p>Thread-safe: counters are {@link LongAdder}s, read without a lock when rendering.
 */
final class DemoMetrics {

    /** What a request asked for; the {@code kind} label of {@code demo_requests_total}. */
    enum Kind { HELLO, HEALTH, METRICS, WORK, BYTES, UPLOAD, ADMIN }

    private final Map<Kind, LongAdder> requests = new EnumMap<>(Kind.class);
    private final LongAdder rejected = new LongAdder();

    DemoMetrics() {
        for (Kind kind : Kind.values()) {
            requests.put(kind, new LongAdder());
        }
    }

    void request(Kind kind) {
        requests.get(kind).increment();
    }

    void rejected() {
        rejected.increment();
    }

    String render(CpuWorkers workers, int cpus, boolean healthy) {
        StringBuilder out = new StringBuilder(1024);
        gauge(out, "process_cpu_usage",
                "Share of the last 5 s that the --cpus workers spent working (0..1).",
                String.format(Locale.ROOT, "%.4f", workers.usage()));
        out.append("# HELP demo_requests_total Requests answered, by kind.\n")
                .append("# TYPE demo_requests_total counter\n");
        for (Map.Entry<Kind, LongAdder> e : requests.entrySet()) {
            out.append("demo_requests_total{kind=\"").append(e.getKey().name().toLowerCase(Locale.ROOT))
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        }
        out.append("# HELP demo_work_rejected_total Work requests refused with 503 because the queue was full.\n")
                .append("# TYPE demo_work_rejected_total counter\n")
                .append("demo_work_rejected_total ").append(rejected.sum()).append('\n');
        gauge(out, "demo_work_busy", "Workers burning CPU now.", Integer.toString(workers.busy()));
        gauge(out, "demo_work_queued", "Work requests waiting for a free worker.", Integer.toString(workers.queued()));
        gauge(out, "demo_cpus", "Modelled CPUs (--cpus).", Integer.toString(cpus));
        gauge(out, "demo_healthy", "1 while GET /health answers 200, 0 after POST /admin/fail.", healthy ? "1" : "0");
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, String value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(value).append('\n');
    }
}
