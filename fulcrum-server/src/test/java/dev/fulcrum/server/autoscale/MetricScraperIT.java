package dev.fulcrum.server.autoscale;

import com.sun.net.httpserver.HttpServer;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.testing.LogCapture;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a server answers to a scrape is outside text: its size is bounded (a page without end
 * must not fill the heap) and what the log quotes of it is escaped.
 */
class MetricScraperIT {

    @Test
    void aHugeOrHostilePageFailsTheScrapeAndIsNotKept() throws Exception {
        byte[] huge = ("process_cpu_usage 0.5\n" + "# " + "x".repeat(MetricScraper.MAX_BODY_BYTES) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] hostile = "process_cpu_usage 0.5 \u001b[2J\r\n".getBytes(StandardCharsets.UTF_8);
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        http.createContext("/huge", e -> {
            e.sendResponseHeaders(200, 0); // chunked: no length to refuse up front
            try (var out = e.getResponseBody()) {
                out.write(huge);
            } catch (java.io.IOException closed) {
                // the scraper stops reading past its limit
            }
        });
        http.createContext("/hostile", e -> {
            e.sendResponseHeaders(200, hostile.length);
            e.getResponseBody().write(hostile);
            e.close();
        });
        http.start();
        HostPort server = new HostPort("127.0.0.1", http.getAddress().getPort());
        try (LogCapture log = new LogCapture(MetricScraper.class);
             MetricScraper huge1 = new MetricScraper(new Metric("/huge", "process_cpu_usage", 1, Duration.ofSeconds(2)),
                     Duration.ofSeconds(30), Clock.systemUTC());
             MetricScraper hostile1 = new MetricScraper(new Metric("/hostile", "process_cpu_usage", 1,
                     Duration.ofSeconds(2)), Duration.ofSeconds(30), Clock.systemUTC())) {
            huge1.scrape(List.of(server));
            hostile1.scrape(List.of(server));
            await().atMost(Duration.ofSeconds(5)).until(() -> log.messages().size() >= 2);
            assertThat(huge1.samples()).isEmpty();
            assertThat(hostile1.samples()).isEmpty();
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("larger than " + MetricScraper.MAX_BODY_BYTES));
            assertThat(log.messages()).allSatisfy(m -> assertThat(m).doesNotContain("\u001b", "\r", "\n"));
        } finally {
            http.stop(0);
        }
    }
}
