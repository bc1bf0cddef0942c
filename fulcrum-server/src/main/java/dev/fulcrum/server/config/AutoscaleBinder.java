package dev.fulcrum.server.config;

import dev.fulcrum.core.text.Durations;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.config.FulcrumConfig.Provisioner;
import dev.fulcrum.server.config.FulcrumConfig.ProvisionerType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Binds {@code autoscale[]}: the metric, the thresholds and bounds, and the provisioner. At most one
 * entry per pool; the pool reference itself is checked by {@link ConfigBinder}. Confined to one
 * thread, used for one load.
 */
final class AutoscaleBinder {

    static final List<String> AUTOSCALE_KEYS = List.of("pool", "metric", "scale-out-above", "scale-in-below",
            "window", "cooldown", "min-servers", "max-servers", "provisioner");
    static final List<String> METRIC_KEYS = List.of("path", "name", "scale", "interval");
    static final List<String> PROVISIONER_KEYS = List.of("type", "command", "ports", "scale-out", "scale-in");

    static final Metric DEFAULT_METRIC = new Metric("/metrics", "process_cpu_usage", 1, Duration.ofSeconds(5));

    /** Prometheus metric names. */
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private final FirstSeen<String> pools = new FirstSeen<>("autoscale entry for pool");

    /** Binds every entry; {@code poolRefs} is told of each {@code pool:} to check it exists. */
    List<Autoscale> autoscale(Section root, PoolReferences poolRefs) {
        List<Autoscale> out = new ArrayList<>();
        root.eachItem("autoscale", AUTOSCALE_KEYS, (s, i) -> out.add(entry(s, poolRefs)));
        return out;
    }

    private Autoscale entry(Section s, PoolReferences poolRefs) {
        String pool = s.require("pool", ConfigValues::name);
        poolRefs.add(pool, s, "pool");
        poolRefs.addPlainText(pool, s, "pool", "the auto-scaler scrapes its metric from the servers over plain"
                + " HTTP (not built over TLS yet)");
        pools.add(pool, s, "pool");
        Section metricSection = s.section("metric", METRIC_KEYS);
        Metric metric = metricSection == null ? DEFAULT_METRIC : metric(metricSection);
        double out = s.get("scale-out-above", 0.80, text -> ConfigValues.number(text, 0, Double.MAX_VALUE));
        double in = s.get("scale-in-below", 0.30, text -> ConfigValues.number(text, 0, Double.MAX_VALUE));
        if (in >= out) {
            s.error(s.has("scale-in-below") || !s.has("scale-out-above") ? "scale-in-below" : "scale-out-above",
                    "scale-in-below " + ConfigValues.plain(in) + " must be less than scale-out-above " + ConfigValues.plain(out));
        }
        Duration window = s.get("window", Duration.ofSeconds(30), ConfigValues::positiveDuration);
        if (window.compareTo(metric.interval()) < 0) {
            s.error("window", "window " + Durations.format(window) + " is shorter than the metric interval "
                    + Durations.format(metric.interval()) + "; it would hold no sample");
        }
        Duration cooldown = s.get("cooldown", Duration.ofSeconds(60), ConfigValues::duration);
        int min = s.integer("min-servers", 2, 1, Integer.MAX_VALUE);
        int max = s.integer("max-servers", 10, 1, Integer.MAX_VALUE);
        if (min > max) {
            s.error(s.has("min-servers") || !s.has("max-servers") ? "min-servers" : "max-servers",
                    "min-servers " + min + " must be at most max-servers " + max);
        }
        Provisioner provisioner = null;
        if (!s.has("provisioner")) {
            s.error("provisioner", "required key is missing");
        } else {
            Section p = s.section("provisioner", PROVISIONER_KEYS);
            provisioner = p == null ? null : provisioner(p);
        }
        return new Autoscale(pool, metric, out, in, window, cooldown, min, max, provisioner);
    }

    private static Metric metric(Section s) {
        Metric d = DEFAULT_METRIC;
        String path = s.get("path", d.path(), ConfigValues::urlPath);
        String name = s.get("name", d.name(), text -> {
            if (!METRIC_NAME.matcher(text).matches()) {
                throw new IllegalArgumentException("invalid metric name " + ConfigValues.quote(text)
                        + "; expected letters, digits, '_' and ':', not starting with a digit");
            }
            return text;
        });
        double scale = s.get("scale", d.scale(), ConfigValues::positiveNumber);
        Duration interval = s.get("interval", d.interval(), ConfigValues::positiveDuration);
        return new Metric(path, name, scale, interval);
    }

    private static Provisioner provisioner(Section s) {
        ProvisionerType type = s.require("type", text -> ConfigValues.choice(text, ProvisionerType.values()));
        if (type == null) {
            return null;
        }
        return switch (type) {
            case PROCESS -> {
                s.notAllowed("scale-out", "for type process (only for type exec)");
                s.notAllowed("scale-in", "for type process (only for type exec)");
                List<String> command = command(s, "command");
                if (!command.isEmpty() && command.stream().noneMatch(arg -> arg.contains("{port}"))) {
                    // Without it every new server would try to listen on the same port.
                    s.error("command", "must contain {port}, replaced by the new server's port");
                }
                int[] ports = s.require("ports", ConfigValues::portRange);
                yield ports == null ? null : new Provisioner(type, command, ports[0], ports[1], List.of(), List.of());
            }
            case EXEC -> {
                s.notAllowed("command", "for type exec (only for type process)");
                s.notAllowed("ports", "for type exec (only for type process)");
                yield new Provisioner(type, List.of(), 0, 0, command(s, "scale-out"), command(s, "scale-in"));
            }
        };
    }

    /** A required, non-empty list of program and arguments. */
    private static List<String> command(Section s, String key) {
        if (!s.has(key)) {
            s.error(key, "required key is missing");
            return List.of();
        }
        List<String> command = s.values(key, List.of(), Function.identity());
        if (s.isEmptyList(key)) {
            s.error(key, "expected a program and its arguments, like [\"./prog\", \"arg\"], got an empty list");
        }
        return command;
    }
}
