package dev.fulcrum.server.metrics;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The last five minutes of traffic, from the cumulative {@code fulcrum_request_duration_seconds}
 * buckets: a sample of the bucket counts (summed over routes and pools, per listener and in all)
 * at most once a second. From two samples come a request rate (count difference over time) and a
 * latency quantile of the requests that finished between them (bucket differences, see
 * {@link BucketQuantile}); quantiles use a window of about {@link #WINDOW_NANOS}, long enough to
 * hold a few hundred requests at modest rates.
 *
 * <p>Sampling happens on {@link #sampleIfDue()}: the admin server calls it every second so the
 * dashboard can draw the past at once; readers call it too, so it also works without a timer.
 *
 * <p>Thread-safe (synchronized; a few calls a second).
 */
final class TrafficHistory {

    static final long WINDOW_NANOS = 10_000_000_000L;
    private static final long SPACING_NANOS = 950_000_000L; // a 1 s timer may fire a little early
    private static final long KEEP_NANOS = 310_000_000_000L; // 5 minutes and one window
    /** The key of the all-listeners sum. */
    static final String ALL = "";

    private record Sample(long nanos, long epochMillis, Map<String, long[]> counts) {
        long total() {
            long[] all = counts.get(ALL);
            long sum = 0;
            if (all != null) {
                for (long c : all) {
                    sum += c;
                }
            }
            return sum;
        }
    }

    private final Histogram histogram;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private double[] bounds = new double[0];

    TrafficHistory(Histogram histogram, Clock clock, LongSupplier nanoTime) {
        this.histogram = histogram;
        this.clock = clock;
        this.nanoTime = nanoTime;
    }

    /** The {@code q} quantile in seconds over the latest window for {@code listener} ({@link #ALL}); NaN when unknown. */
    synchronized double quantile(String listener, double q) {
        sampleIfDue();
        if (samples.size() < 2) {
            return Double.NaN;
        }
        Sample newest = samples.peekLast();
        return quantileBetween(windowStart(samples.descendingIterator(), newest), newest, listener, q);
    }

    /**
     * One point per sample after the first, oldest first: its time, the request rate since the
     * sample before it, and the p99 of the window ending at it (null when no request finished in it).
     */
    synchronized List<TrafficStats.Point> points() {
        sampleIfDue();
        List<Sample> list = new ArrayList<>(samples);
        List<TrafficStats.Point> points = new ArrayList<>(list.size());
        for (int i = 1; i < list.size(); i++) {
            Sample s = list.get(i);
            Sample previous = list.get(i - 1);
            double seconds = (s.nanos() - previous.nanos()) / 1e9;
            double rate = seconds <= 0 ? 0 : (s.total() - previous.total()) / seconds;
            Sample base = list.getFirst();
            for (int j = i - 1; j >= 0; j--) {
                if (s.nanos() - list.get(j).nanos() >= WINDOW_NANOS) {
                    base = list.get(j);
                    break;
                }
            }
            double p99 = quantileBetween(base, s, ALL, 0.99);
            points.add(new TrafficStats.Point(s.epochMillis(), rate, Double.isNaN(p99) ? null : p99));
        }
        return points;
    }

    /** Takes a sample unless the last one is under a second old. */
    synchronized void sampleIfDue() {
        long now = nanoTime.getAsLong();
        Sample last = samples.peekLast();
        if (last != null && now - last.nanos() < SPACING_NANOS) {
            return;
        }
        Map<String, long[]> counts = new HashMap<>();
        HistogramSnapshot snapshot = histogram.collect();
        for (HistogramSnapshot.HistogramDataPointSnapshot point : snapshot.getDataPoints()) {
            ClassicHistogramBuckets buckets = point.getClassicBuckets();
            if (bounds.length != buckets.size()) {
                bounds = new double[buckets.size()];
                for (int i = 0; i < bounds.length; i++) {
                    bounds[i] = buckets.getUpperBound(i);
                }
            }
            add(counts, point.getLabels().get("listener"), buckets);
            add(counts, ALL, buckets);
        }
        samples.addLast(new Sample(now, clock.millis(), counts));
        while (now - samples.peekFirst().nanos() > KEEP_NANOS) {
            samples.removeFirst();
        }
    }

    /** The newest sample at least a window older than {@code newest}, else the oldest. */
    private static Sample windowStart(Iterator<Sample> newestFirst, Sample newest) {
        Sample base = null;
        while (newestFirst.hasNext()) {
            base = newestFirst.next();
            if (newest.nanos() - base.nanos() >= WINDOW_NANOS) {
                break;
            }
        }
        return base;
    }

    private double quantileBetween(Sample base, Sample newest, String listener, double q) {
        long[] now = newest.counts().get(listener);
        if (now == null || base == newest) {
            return Double.NaN;
        }
        long[] before = base.counts().get(listener);
        long[] delta = new long[now.length];
        for (int i = 0; i < now.length; i++) {
            delta[i] = now[i] - (before != null && i < before.length ? before[i] : 0);
        }
        return BucketQuantile.estimate(bounds, delta, q);
    }

    private static void add(Map<String, long[]> counts, String key, ClassicHistogramBuckets buckets) {
        long[] sum = counts.computeIfAbsent(key, k -> new long[buckets.size()]);
        for (int i = 0; i < buckets.size() && i < sum.length; i++) {
            sum[i] += buckets.getCount(i);
        }
    }
}
