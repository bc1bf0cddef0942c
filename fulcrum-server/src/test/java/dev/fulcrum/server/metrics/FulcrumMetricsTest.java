package dev.fulcrum.server.metrics;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

class FulcrumMetricsTest {

    private final Registry registry = new Registry(Clock.systemUTC());
    private final PoolRuntime pool = registry.addPool(pool());
    private final AtomicLong nanos = new AtomicLong();
    private final FulcrumMetrics metrics = new FulcrumMetrics(registry, Clock.systemUTC(), nanos::get);

    @AfterEach
    void close() {
        registry.close();
    }

    @Test
    void countsRequestsByStatusClass() throws Exception {
        Server s = pool.pool().servers().getFirst();
        ListenerMetrics web = metrics.proxy().listener("web");
        web.route("web#1").requestCompleted("app", s, 200, 1_000_000);
        web.route("web#1").requestCompleted("app", s, 204, 1_000_000);
        web.route("web#1").requestCompleted("app", s, 101, 1_000_000);
        web.route("web#1").requestCompleted("app", s, 503, 1_000_000);
        web.route("web#1").requestCompleted("app", s, 0, 1_000_000); // never a client status: counted as a server error

        String text = scrape();

        assertThat(text).contains("fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:9101\"} 2.0\n");
        assertThat(text).contains("fulcrum_requests_total{code=\"1xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:9101\"} 1.0\n");
        assertThat(text).contains("fulcrum_requests_total{code=\"5xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:9101\"} 2.0\n");
        assertThat(text).contains("fulcrum_request_duration_seconds_count{listener=\"web\",pool=\"app\",route=\"web#1\"} 5\n");
        assertThat(text).contains("fulcrum_request_duration_seconds_bucket{listener=\"web\",pool=\"app\",route=\"web#1\",le=\"5.0E-4\"} 0\n");
        assertThat(text).contains("fulcrum_request_duration_seconds_bucket{listener=\"web\",pool=\"app\",route=\"web#1\",le=\"0.001\"} 5\n");
        assertThat(text).contains("le=\"10.0\"");
    }

    @Test
    void serverGaugesAreReadFromTheRegistryAtScrapeTime() throws Exception {
        Server s = pool.pool().servers().get(1);
        s.requestStarted();
        s.requestStarted();
        registry.drainServer("app", s.id());

        String text = scrape();

        assertThat(text).contains("fulcrum_server_up{pool=\"app\",server=\"127.0.0.1:9101\"} 1.0\n");
        assertThat(text).contains("fulcrum_server_up{pool=\"app\",server=\"127.0.0.1:9102\"} 0.0\n");
        assertThat(text).contains("fulcrum_server_active_requests{pool=\"app\",server=\"127.0.0.1:9102\"} 2.0\n");
        assertThat(text).contains("fulcrum_pool_servers{pool=\"app\",state=\"up\"} 1.0\n");
        assertThat(text).contains("fulcrum_pool_servers{pool=\"app\",state=\"draining\"} 1.0\n");
        assertThat(text).contains("fulcrum_pool_servers{pool=\"app\",state=\"down\"} 0.0\n");
    }

    @Test
    void aRemovedServerLeavesTheScrape() throws Exception {
        Server s = pool.pool().servers().get(1);
        metrics.proxy().listener("web").route("web#1").requestCompleted("app", s, 200, 1_000_000);
        metrics.control().healthCheck("app", s.id(), true);
        assertThat(scrape()).contains("server=\"127.0.0.1:9102\"");

        registry.removeServer("app", s.id());

        await().atMost(Duration.ofSeconds(2)).until(() -> !scrape().contains("127.0.0.1:9102"));

        // a request that outlived the drain-timeout ends later: counted in latency, no series comes back
        metrics.proxy().listener("web").route("web#1").requestCompleted("app", s, 200, 1_000_000);
        String text = scrape();
        assertThat(text).doesNotContain("127.0.0.1:9102");
        assertThat(text).contains("fulcrum_request_duration_seconds_count{listener=\"web\",pool=\"app\",route=\"web#1\"} 2\n");
    }

    @Test
    void aReloadThatDropsARouteTakesItsSeriesAwayAndKeepsTheOthers() throws Exception {
        Server s = pool.pool().servers().getFirst();
        ListenerMetrics web = metrics.proxy().listener("web");
        RouteMetrics api = web.route("api");
        api.requestCompleted("app", s, 200, 1_000_000);
        web.route("web#1").requestCompleted("app", s, 200, 1_000_000);
        web.route(RouteMetrics.NO_ROUTE).requestCompleted("", null, 404, 0);
        assertThat(scrape()).contains("route=\"api\"").contains("route=\"web#1\"").contains("route=\"\"");

        metrics.proxy().keepRoutes(List.of(new FulcrumConfig.Listener("web", new HostPort("127.0.0.1", 8080),
                FulcrumConfig.Protocol.HTTP, "app", null, 100, Duration.ofSeconds(60), Duration.ofSeconds(10), 65_536,
                Duration.ofSeconds(30), 500, List.of(RouteConfig.everything("web", "app")))));

        String text = scrape();
        assertThat(text).doesNotContain("route=\"api\"").contains("route=\"web#1\"").contains("route=\"\"");
        // a request of the draining listener that ends now is not counted: no series comes back
        api.requestCompleted("app", s, 200, 1_000_000);
        assertThat(scrape()).doesNotContain("route=\"api\"");
        // a route of that name added again by a later reload starts afresh
        web.route("api").requestCompleted("app", s, 200, 1_000_000);
        assertThat(metrics.routeResponses().of("web", "api")).containsEntry("2xx", 1L);
    }

    @Test
    void p99CoversTheRequestsOfTheLastWindowOnly() {
        Server s = pool.pool().servers().getFirst();
        ListenerMetrics web = metrics.proxy().listener("web");
        for (int i = 0; i < 100; i++) {
            web.route("web#1").requestCompleted("app", s, 200, 8_000_000_000L); // an old slow period: 8 s each
        }
        assertThat(metrics.stats().p99Seconds()).as("one sample: nothing to compare yet").isNull();
        nanos.addAndGet(11_000_000_000L);
        for (int i = 0; i < 100; i++) {
            web.route("web#1").requestCompleted("app", s, 200, 3_000_000); // now: 3 ms each
        }

        TrafficStats stats = metrics.stats();

        // all 100 recent requests are in the (2.5 ms, 5 ms] bucket: p99 = 2.5 + 2.5 * 0.99
        assertThat(stats.p99Seconds()).isCloseTo(0.0025 + 0.0025 * 0.99, within(1e-9));
        assertThat(stats.requests()).isEqualTo(200);
        assertThat(stats.listeners().getFirst().p99Seconds()).isCloseTo(0.0025 + 0.0025 * 0.99, within(1e-9));
    }

    @Test
    void historyHasOnePointASecondWithItsRateAndP99() {
        Server s = pool.pool().servers().getFirst();
        ListenerMetrics web = metrics.proxy().listener("web");
        metrics.tick();
        for (int i = 0; i < 50; i++) {
            web.route("web#1").requestCompleted("app", s, 200, 30_000_000); // 30 ms: the (25 ms, 50 ms] bucket
        }
        nanos.addAndGet(2_000_000_000L);
        metrics.tick();
        metrics.tick(); // not due yet: no point
        nanos.addAndGet(1_000_000_000L);
        metrics.tick();

        List<TrafficStats.Point> points = metrics.history();

        assertThat(points).hasSize(2);
        assertThat(points.get(0).requestsPerSecond()).isCloseTo(25.0, within(1e-9));
        assertThat(points.get(0).p99Seconds()).isCloseTo(0.025 + 0.025 * 0.99, within(1e-9));
        assertThat(points.get(1).requestsPerSecond()).isZero();
        // the window ending at the second point still holds the 50 requests
        assertThat(points.get(1).p99Seconds()).isCloseTo(0.025 + 0.025 * 0.99, within(1e-9));
        assertThat(points.get(1).at()).isGreaterThanOrEqualTo(points.get(0).at());
    }

    @Test
    void statsAddUpBytesAndConnectionsPerListener() {
        ProxyMetrics proxy = metrics.proxy();
        proxy.bytes("web", 100, 2000);
        proxy.bytes("web", 50, 0);
        proxy.connectionOpened("web");
        proxy.connectionOpened("web");
        proxy.connectionClosed("web");
        proxy.connectionOpened("tcp");

        List<TrafficStats.Listener> listeners = metrics.stats().listeners();

        assertThat(listeners).containsExactly(
                new TrafficStats.Listener("tcp", 0, 0, 0, 1, null),
                new TrafficStats.Listener("web", 0, 150, 2000, 1, null));
    }

    private String scrape() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writeText(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    static FulcrumConfig.PoolConfig pool() {
        FulcrumConfig.HealthCheck none = new FulcrumConfig.HealthCheck(FulcrumConfig.CheckType.NONE, "/health", "",
                200, 399, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, 0.1);
        return new FulcrumConfig.PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                List.of(new FulcrumConfig.ServerEntry(new HostPort("127.0.0.1", 9101), 1),
                        new FulcrumConfig.ServerEntry(new HostPort("127.0.0.1", 9102), 1)),
                Duration.ofSeconds(1), Duration.ofSeconds(5), 1, Duration.ZERO, Duration.ofSeconds(30), 0, none,
                FulcrumConfig.OutlierDetection.DEFAULT);
    }
}
