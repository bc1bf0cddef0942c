package dev.fulcrum.server.metrics;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Recent latency quantiles from the cumulative {@code fulcrum_request_duration_seconds} buckets:
 * it keeps a sample of the bucket counts (summed over pools, per listener and in all) at most once
 * a second, for a minute, and answers a quantile of the requests that finished between the newest
 * sample and the one about {@link #WINDOW_NANOS} older. Sampling is lazy (when asked), so nothing
 * runs when nobody looks; the first answer after a quiet time is therefore {@code NaN}.
 *
 * <p>Thread-safe (synchronized; called about once a second per open dashboard).
 */
final class LatencyWindow {

    static final long WINDOW_NANOS = 10_000_000_000L;
    private static final long SPACING_NANOS = 1_000_000_000L;
    private static final long KEEP_NANOS = 60_000_000_000L;
    /** The key of the all-listeners sum. */
    static final String ALL = "";

    private record Sample(long at, Map<String, long[]> counts) {
    }

    private final Histogram histogram;
    private final LongSupplier nanoTime;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private double[] bounds = new double[0];

    LatencyWindow(Histogram histogram, LongSupplier nanoTime) {
        this.histogram = histogram;
        this.nanoTime = nanoTime;
    }

    /** The {@code q} quantile in seconds over the window for {@code listener} ({@link #ALL}); NaN when unknown. */
    synchronized double quantile(String listener, double q) {
        sampleIfDue();
        if (samples.size() < 2) {
            return Double.NaN;
        }
        Sample newest = samples.peekLast();
        Sample base = samples.peekFirst();
        for (Iterator<Sample> it = samples.descendingIterator(); it.hasNext(); ) {
            Sample s = it.next();
            if (newest.at() - s.at() >= WINDOW_NANOS) {
                base = s;
                break;
            }
        }
        long[] now = newest.counts().get(listener);
        if (now == null) {
            return Double.NaN;
        }
        long[] before = base.counts().getOrDefault(listener, new long[now.length]);
        long[] delta = new long[now.length];
        for (int i = 0; i < now.length; i++) {
            delta[i] = now[i] - (i < before.length ? before[i] : 0);
        }
        return BucketQuantile.estimate(bounds, delta, q);
    }

    private void sampleIfDue() {
        long now = nanoTime.getAsLong();
        Sample last = samples.peekLast();
        if (last != null && now - last.at() < SPACING_NANOS) {
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
        samples.addLast(new Sample(now, counts));
        while (now - samples.peekFirst().at() > KEEP_NANOS) {
            samples.removeFirst();
        }
    }

    private static void add(Map<String, long[]> counts, String key, ClassicHistogramBuckets buckets) {
        long[] sum = counts.computeIfAbsent(key, k -> new long[buckets.size()]);
        for (int i = 0; i < buckets.size() && i < sum.length; i++) {
            sum[i] += buckets.getCount(i);
        }
    }
}
