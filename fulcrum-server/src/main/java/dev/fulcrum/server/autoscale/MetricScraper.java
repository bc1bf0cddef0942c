package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.autoscale.Sample;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.net.BoundedHttp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scrapes the watched gauge from each server of a pool: {@code GET http://host:port<metric.path>},
 * Prometheus text, gauge {@code metric.name} divided by {@code metric.scale}. One
 * {@link #scrape(Collection)} call starts one request per server without waiting for any; each
 * answer becomes a {@link Sample}, kept for {@code window}. A scrape that fails (refused, timed
 * out, not 200, malformed, gauge absent or NaN) adds nothing: the server is unknown, not zero.
 *
 * <p>Each request, body included, is cut after the scrape interval (at most 5 s), so a hung or
 * trickling server never piles up requests, and a page larger than {@link #MAX_BODY_BYTES} is cut
 * there: a scraped server is not trusted with this process's memory. Thread-safe: answers arrive on the HTTP client's threads.
 */
public final class MetricScraper implements MetricReadings {

    private static final Logger log = LoggerFactory.getLogger(MetricScraper.class);

    /** The largest metrics page read: a server's page is KiBs; a bigger one fails the scrape. */
    public static final int MAX_BODY_BYTES = 4 << 20;

    private final Metric metric;
    private final Duration window;
    private final Clock clock;
    private final Duration timeout;
    private final HttpClient http;
    private final Map<String, Deque<Sample>> samples = new ConcurrentHashMap<>();
    /** Servers whose last scrape failed, so that a failure is logged once, not every interval. */
    private final Map<String, Boolean> failing = new ConcurrentHashMap<>();

    public MetricScraper(Metric metric, Duration window, Clock clock) {
        this.metric = metric;
        this.window = window;
        this.clock = clock;
        Duration t = metric.interval().compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : metric.interval();
        this.timeout = t.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : t;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Starts one scrape of each of {@code servers}; returns at once. Forgets servers not listed. */
    public void scrape(Collection<HostPort> servers) {
        List<String> ids = servers.stream().map(HostPort::toString).toList();
        samples.keySet().retainAll(ids);
        failing.keySet().retainAll(ids);
        for (HostPort server : servers) {
            HttpRequest request;
            try {
                request = HttpRequest.newBuilder(URI.create("http://" + server + metric.path()))
                        .timeout(timeout).GET().build();
            } catch (IllegalArgumentException e) {
                failed(server.toString(), "bad address: " + e.getMessage());
                continue;
            }
            BoundedHttp.send(http, request, MAX_BODY_BYTES, timeout).whenComplete((response, error) -> {
                String id = server.toString();
                if (error != null) {
                    failed(id, error.getMessage() == null ? error.toString() : error.getMessage());
                } else if (response.statusCode() != 200) {
                    failed(id, "status " + response.statusCode());
                } else {
                    read(id, response.body());
                }
            });
        }
    }

    private void read(String id, String body) {
        OptionalDouble value;
        try {
            value = PrometheusText.gauge(body, metric.name());
        } catch (IllegalArgumentException e) {
            failed(id, "not Prometheus text: " + e.getMessage());
            return;
        }
        if (value.isEmpty() || !Double.isFinite(value.getAsDouble())) {
            failed(id, "no finite value of " + metric.name());
            return;
        }
        Instant now = clock.instant();
        Deque<Sample> deque = samples.computeIfAbsent(id, k -> new ArrayDeque<>());
        synchronized (deque) {
            deque.addLast(new Sample(id, now, value.getAsDouble() / metric.scale()));
            prune(deque, now);
        }
        if (failing.remove(id) != null) {
            log.info("scraping {} of {} works again", metric.name(), id);
        }
    }

    private void failed(String id, String why) {
        why = Escape.text(why); // may quote the scraped text
        if (failing.put(id, Boolean.TRUE) == null) {
            log.warn("cannot read {} from {}{}: {} (unknown until it answers)", metric.name(), id, metric.path(), why);
        }
    }

    private void prune(Deque<Sample> deque, Instant now) {
        Instant from = now.minus(window);
        while (!deque.isEmpty() && !deque.peekFirst().at().isAfter(from)) {
            deque.pollFirst();
        }
    }

    /** Every sample of the last {@code window}, oldest first per server. */
    public List<Sample> samples() {
        Instant now = clock.instant();
        List<Sample> out = new ArrayList<>();
        for (Deque<Sample> deque : samples.values()) {
            synchronized (deque) {
                prune(deque, now);
                out.addAll(deque);
            }
        }
        return out;
    }

    @Override
    public void close() {
        http.shutdownNow();
    }
}
