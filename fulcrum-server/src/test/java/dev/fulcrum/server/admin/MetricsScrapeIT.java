package dev.fulcrum.server.admin;

import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.metrics.ControlMetrics;
import dev.fulcrum.server.metrics.ListenerMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code GET /metrics} after traffic: every metric of admin-api.md, and {@code promtool check metrics} passes. */
class MetricsScrapeIT {

    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    private AdminFixture f;

    @BeforeEach
    void start() {
        f = new AdminFixture("");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    @Test
    void aScrapeAfterTrafficHasEveryMetricWithItsTypeAndLabels() throws Exception {
        traffic();

        HttpResponse<String> r = f.get("/metrics");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        String text = r.body();
        Map<String, String> types = Map.ofEntries(
                Map.entry("fulcrum_requests_total", "counter"),
                Map.entry("fulcrum_request_duration_seconds", "histogram"),
                Map.entry("fulcrum_connections_active", "gauge"),
                Map.entry("fulcrum_server_up", "gauge"),
                Map.entry("fulcrum_server_active_requests", "gauge"),
                Map.entry("fulcrum_health_checks_total", "counter"),
                Map.entry("fulcrum_retries_total", "counter"),
                Map.entry("fulcrum_bytes_total", "counter"),
                Map.entry("fulcrum_pool_servers", "gauge"),
                Map.entry("fulcrum_autoscale_actions_total", "counter"),
                Map.entry("fulcrum_ha_master", "gauge"),
                Map.entry("fulcrum_dsr_packets_total", "counter"));
        types.forEach((name, type) -> {
            assertThat(text).as(name).contains("# TYPE " + name + " " + type + "\n");
        });
        assertThat(text)
                .contains("fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:9101\"} 66.0\n")
                .contains("fulcrum_requests_total{code=\"5xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:9103\"} 2.0\n")
                .contains("fulcrum_request_duration_seconds_bucket{listener=\"web\",pool=\"app\",route=\"web#1\",le=\"10.0\"} 200\n")
                .contains("fulcrum_connections_active{listener=\"web\"} 2.0\n")
                .contains("fulcrum_server_up{pool=\"app\",server=\"127.0.0.1:9103\"} 0.0\n")
                .contains("fulcrum_server_active_requests{pool=\"app\",server=\"127.0.0.1:9102\"} 1.0\n")
                .contains("fulcrum_health_checks_total{pool=\"app\",result=\"fail\",server=\"127.0.0.1:9103\"} 3.0\n")
                .contains("fulcrum_retries_total{pool=\"app\"} 2.0\n")
                .contains("fulcrum_bytes_total{direction=\"in\",listener=\"web\"} 51200.0\n")
                .contains("fulcrum_bytes_total{direction=\"out\",listener=\"web\"} 2048000.0\n")
                .contains("fulcrum_pool_servers{pool=\"app\",state=\"down\"} 1.0\n")
                .contains("fulcrum_autoscale_actions_total{direction=\"out\",pool=\"app\"} 1.0\n")
                .contains("fulcrum_ha_master{virtual_router_id=\"51\"} 1.0\n")
                .contains("fulcrum_dsr_packets_total{result=\"dropped\"} 2.0\n");
    }

    @Test
    void promtoolAcceptsTheScrape() throws Exception {
        assumeTrue(Files.isExecutable(PROMTOOL),
                "promtool is not installed (Debian package prometheus): the exposition check is skipped");
        traffic();
        String text = f.get("/metrics").body();

        Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics")
                .redirectErrorStream(true).start();
        try {
            try (var in = promtool.getOutputStream()) {
                in.write(text.getBytes(StandardCharsets.UTF_8));
            }
            String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(promtool.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(promtool.exitValue()).as("promtool check metrics said:\n" + output).isZero();
            assertThat(output).as("promtool lint findings").isBlank();
        } finally {
            promtool.destroy();
        }
    }

    /** What a few seconds of proxying, probing and control actions leave in the metrics. */
    private void traffic() throws IOException {
        List<Server> servers = f.pool.pool().servers();
        ListenerMetrics web = f.metrics.proxy().listener("web");
        web.connectionOpened();
        web.connectionOpened();
        web.connectionOpened();
        web.connectionClosed();
        for (int i = 0; i < 198; i++) { // 66 per server, from 0.2 ms to 7.5 ms
            web.route("web#1").requestCompleted("app", servers.get(i % 3), 200, 200_000L + i * 37_000L);
            web.bytes(256, 10_240);
        }
        for (int i = 0; i < 2; i++) {
            web.route("web#1").requestCompleted("app", servers.get(2), 502, 3_000_000_000L); // connect timeouts
            web.bytes(256, 10_240);
        }
        f.metrics.proxy().retry("app");
        f.metrics.proxy().retry("app");
        servers.get(1).requestStarted();
        ControlMetrics control = f.metrics.control();
        for (Server s : servers) {
            control.healthCheck("app", s.id(), true);
        }
        for (int i = 0; i < 3; i++) {
            control.healthCheck("app", servers.get(2).id(), false);
        }
        f.registry.setCheck(f.pool, servers.get(2), CheckState.DOWN, "3 checks failed");
        control.autoscaleAction("app", "out");
        control.haMaster(51, true);
        control.dsrPackets("forwarded", 1000);
        control.dsrPackets("dropped", 2);
    }
}
