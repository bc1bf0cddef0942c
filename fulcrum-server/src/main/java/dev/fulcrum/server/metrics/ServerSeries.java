package dev.fulcrum.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;

/**
 * The request series of one (listener, route, pool, server), bound once so that counting a request is an
 * array read and two adds: no label lookup, no string built. Thread-safe: the data points are.
 */
final class ServerSeries {

    private static final String[] CODE_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    /** How many status classes {@link #counts()} has. */
    static final int CLASSES = CODE_CLASSES.length;

    private final Counter requests;
    private final String listener;
    private final String route;
    private final String pool;
    private final String server;
    /** Indexed by status / 100 - 1; 1xx is bound lazily (rare), the others at once. */
    private final CounterDataPoint[] byClass = new CounterDataPoint[CODE_CLASSES.length];
    private final DistributionDataPoint duration;

    ServerSeries(Counter requests, DistributionDataPoint duration, String listener, String route, String pool,
                 String server) {
        this.requests = requests;
        this.duration = duration;
        this.listener = listener;
        this.route = route;
        this.pool = pool;
        this.server = server;
        for (int i = 1; i < CODE_CLASSES.length; i++) {
            byClass[i] = requests.labelValues(listener, route, pool, server, CODE_CLASSES[i]);
        }
    }

    /** Requests counted so far by status class: element 0 is 1xx ... element 4 is 5xx. */
    long[] counts() {
        long[] counts = new long[CODE_CLASSES.length];
        for (int i = 0; i < counts.length; i++) {
            CounterDataPoint point = byClass[i];
            counts[i] = point == null ? 0 : (long) point.get();
        }
        return counts;
    }

    /** The {@code code} label of index {@code i} of {@link #counts()}. */
    static String className(int i) {
        return CODE_CLASSES[i];
    }

    /** The index in {@link #counts()} of a {@code code} label ({@code "2xx"} is 1); -1 for another text. */
    static int classIndex(String code) {
        for (int i = 0; i < CODE_CLASSES.length; i++) {
            if (CODE_CLASSES[i].equals(code)) {
                return i;
            }
        }
        return -1;
    }

    /** Element-wise sum of two {@link #counts()}; a merge function for maps of them. */
    static long[] add(long[] a, long[] b) {
        long[] sum = a.clone();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += b[i];
        }
        return sum;
    }

    void completed(int status, long durationNanos) {
        // a status outside 100..599 never reaches a client; count it with the server errors
        int index = status >= 100 && status < 600 ? status / 100 - 1 : 4;
        CounterDataPoint point = byClass[index];
        if (point == null) {
            // benign race: labelValues returns the same data point to every caller
            point = requests.labelValues(listener, route, pool, server, CODE_CLASSES[index]);
            byClass[index] = point;
        }
        point.inc();
        duration.observe(durationNanos / 1e9);
    }
}
