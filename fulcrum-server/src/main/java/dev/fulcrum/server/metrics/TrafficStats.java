package dev.fulcrum.server.metrics;

import java.util.List;

/**
 * What {@code GET /api/v1/stats} answers: totals since start per listener and in all, and the p99
 * latency of the requests that finished in about the last {@code windowSeconds} (null when unknown:
 * no request in the window, or the first look after a quiet time). Request rates are left to the
 * reader (difference of two {@code requests} totals), so any number of readers agree.
 */
public record TrafficStats(String at, double windowSeconds, long requests, Double p99Seconds,
                           List<Listener> listeners) {

    public TrafficStats {
        listeners = List.copyOf(listeners);
    }

    /**
     * One second of the dashboard's chart.
     *
     * @param at                epoch milliseconds
     * @param requestsPerSecond requests finished per second since the point before
     * @param p99Seconds        p99 latency of the window ending here; null when no request finished in it
     */
    public record Point(long at, double requestsPerSecond, Double p99Seconds) {
    }

    /** One listener's totals. */
    public record Listener(String name, long requests, long bytesIn, long bytesOut, long connectionsActive,
                           Double p99Seconds) {
    }
}
