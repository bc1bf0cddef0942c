package dev.fulcrum.core.autoscale;

import dev.fulcrum.core.text.Durations;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The auto-scaling policy: turns the metric's recent samples and the pool's size into "add k
 * servers", "remove k" or "hold", with the reason. Pure: time comes in as {@code now}.
 *
 * <p>The rules, in order:
 * <ol>
 *   <li><b>Cooldown</b>: within {@code cooldown} of the last action (a failed one included), hold,
 *       whatever else holds: a failing provisioner is retried once per cooldown, not every step.</li>
 *   <li><b>Bounds</b> come next, with or without samples: fewer servers than {@code min-servers} →
 *       out to the minimum; more than {@code max-servers} → in to the maximum.</li>
 *   <li><b>Average</b>: each server's samples taken in {@code (now - window, now]} are averaged, then
 *       the pool's average is the mean of those per-server averages (each server counts once, however
 *       many scrapes succeeded). Servers still starting are left out: their load is not yet
 *       representative. A server whose scrapes failed has no sample: it is unknown, not zero. No
 *       fresh sample at all → hold.</li>
 *   <li><b>Hysteresis</b>: out only when the average is above {@code scale-out-above}, in only when it
 *       is below {@code scale-in-below}; in between, hold.</li>
 *   <li><b>Step</b>, as the Kubernetes HPA computes it, with {@code scale-out-above} as the target:
 *       {@code desired = ceil(current × average / scale-out-above)}, clamped to the bounds. Scaling
 *       out, servers without a reading (starting or unknown) count with no load, which is the HPA's
 *       treatment of not-ready pods: {@code desired = ceil(sum of per-server averages /
 *       scale-out-above)}; so a server still starting is capacity that is coming, and the pool does
 *       not ask for it twice. Scaling in waits until no server is starting.</li>
 * </ol>
 * Scaling in to {@code desired} leaves an average of at most {@code scale-out-above} on the
 * remaining servers, so an in never triggers the next out by itself.
 *
 * <p>Immutable and thread-safe.
 */
public final class ScalingPolicy {

    /** Absorbs floating-point noise in {@code ceil}, so that 3 × 0.8 / 0.8 is 3, not 4. */
    private static final double EPSILON = 1e-9;

    private final ScalingRules rules;

    public ScalingPolicy(ScalingRules rules) {
        this.rules = rules;
    }

    public ScalingRules rules() {
        return rules;
    }

    /**
     * Decides one step.
     *
     * @param samples    recent samples of any age (older ones than the window are ignored)
     * @param now        the time of the decision
     * @param servers    the pool's servers now, counting the ones still starting (being provisioned
     *                   or in {@code checking}) and not counting the ones draining towards removal
     * @param starting   ids of the servers still starting (may hold placeholders for servers being
     *                   provisioned that have no address yet); at most {@code servers} of them
     * @param lastAction when the last scale-out or scale-in (or failed attempt) happened; null if never
     */
    public Decision decide(List<Sample> samples, Instant now, int servers, Set<String> starting, Instant lastAction) {
        if (starting.size() > servers) {
            throw new IllegalArgumentException(starting.size() + " starting out of " + servers + " servers");
        }
        Double average = windowAverage(samples, now, starting);
        if (lastAction != null && now.isBefore(lastAction.plus(rules.cooldown()))) {
            return Decision.hold(average, "cooldown until " + lastAction.plus(rules.cooldown()));
        }
        if (servers < rules.minServers()) {
            return Decision.out(rules.minServers() - servers, average,
                    servers + " servers, below min-servers " + rules.minServers());
        }
        if (servers > rules.maxServers()) {
            return Decision.in(servers - rules.maxServers(), average,
                    servers + " servers, above max-servers " + rules.maxServers());
        }
        if (average == null) {
            return Decision.hold(null, "no fresh sample in the last " + Durations.format(rules.window()));
        }
        PerServer measured = perServer(samples, now, starting);
        // four decimals, as precise as a typical gauge: "0.80 above 0.80" would read as a bug
        String avg = "average " + String.format(Locale.ROOT, "%.4f", average) + " over " + Durations.format(rules.window()) + " of " + measured.count()
                + " server" + (measured.count() == 1 ? "" : "s");
        if (average > rules.scaleOutAbove()) {
            int desired = Math.min(rules.maxServers(), ceil(measured.sum() / rules.scaleOutAbove()));
            if (desired <= servers) {
                String why = servers == rules.maxServers() ? "at max-servers " + rules.maxServers()
                        : (servers - measured.count()) + " server(s) starting or without a reading"
                        + " count as capacity";
                return Decision.hold(average, avg + " above " + fmt(rules.scaleOutAbove()) + " but " + why);
            }
            return Decision.out(desired - servers, average, avg + " above " + fmt(rules.scaleOutAbove())
                    + ": " + servers + " -> " + desired + " servers");
        }
        if (average < rules.scaleInBelow()) {
            if (!starting.isEmpty()) {
                return Decision.hold(average, avg + " below " + fmt(rules.scaleInBelow()) + " but "
                        + starting.size() + " server(s) still starting");
            }
            int desired = Math.max(rules.minServers(), ceil(servers * average / rules.scaleOutAbove()));
            if (desired >= servers) {
                return Decision.hold(average, avg + " below " + fmt(rules.scaleInBelow())
                        + " but at min-servers " + rules.minServers());
            }
            return Decision.in(servers - desired, average, avg + " below " + fmt(rules.scaleInBelow())
                    + ": " + servers + " -> " + desired + " servers");
        }
        return Decision.hold(average, avg + " within " + fmt(rules.scaleInBelow()) + ".." + fmt(rules.scaleOutAbove()));
    }

    /** The pool's average over the window as {@link #decide} uses it; null when no fresh sample. */
    public Double windowAverage(List<Sample> samples, Instant now, Set<String> starting) {
        PerServer measured = perServer(samples, now, starting);
        return measured.count() == 0 ? null : measured.sum() / measured.count();
    }

    private record PerServer(int count, double sum) {
    }

    private PerServer perServer(List<Sample> samples, Instant now, Set<String> starting) {
        Instant from = now.minus(rules.window());
        Map<String, double[]> sums = new HashMap<>(); // server -> {sum, count}
        for (Sample s : samples) {
            if (s.at().isAfter(from) && !s.at().isAfter(now) && !starting.contains(s.server())) {
                double[] acc = sums.computeIfAbsent(s.server(), k -> new double[2]);
                acc[0] += s.value();
                acc[1]++;
            }
        }
        double sum = 0;
        for (double[] acc : sums.values()) {
            sum += acc[0] / acc[1];
        }
        return new PerServer(sums.size(), sum);
    }

    private static int ceil(double x) {
        return (int) Math.ceil(x - EPSILON);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

}
