package dev.fulcrum.server.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code fulcrum_requests_total} summed over pools and servers, by listener and route: one
 * collection of the series Prometheus scrapes, so the admin API and the dashboard show the count
 * {@code /metrics} has, not a second one. Asking about a route creates no series. Immutable.
 */
public final class RouteResponses {

    private final Map<List<String>, long[]> counts;

    private RouteResponses(Map<List<String>, long[]> counts) {
        this.counts = counts;
    }

    static RouteResponses collect(Counter requests) {
        Map<List<String>, long[]> counts = new HashMap<>();
        for (CounterSnapshot.CounterDataPointSnapshot point : requests.collect().getDataPoints()) {
            Labels labels = point.getLabels();
            int index = ServerSeries.classIndex(labels.get("code"));
            if (index >= 0) {
                counts.computeIfAbsent(List.of(labels.get("listener"), labels.get("route")),
                        k -> new long[ServerSeries.CLASSES])[index] += (long) point.getValue();
            }
        }
        return new RouteResponses(counts);
    }

    /**
     * Responses of {@code route} of {@code listener} so far by status class, as the {@code code}
     * label spells it, {@code 1xx} to {@code 5xx} in that order; all zero for a route that answered
     * nothing yet.
     */
    public Map<String, Long> of(String listener, String route) {
        long[] c = counts.getOrDefault(List.of(listener, route), new long[ServerSeries.CLASSES]);
        Map<String, Long> byClass = new LinkedHashMap<>();
        for (int i = 0; i < c.length; i++) {
            byClass.put(ServerSeries.className(i), c[i]);
        }
        return byClass;
    }
}
