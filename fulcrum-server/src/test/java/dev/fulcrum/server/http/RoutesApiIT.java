package dev.fulcrum.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user sees of routes through a real {@code fulcrum run}: {@code GET /api/v1/routes} lists
 * a listener's routes in order with the counts of the requests sent through each, {@code /metrics}
 * counts them under their {@code route} label, and after a reload that renames a route both show
 * the new name and drop the old one.
 */
class RoutesApiIT {

    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private TestBackend a;
    private TestBackend b;
    private FulcrumProcess fulcrum;
    private Path config;
    private int port;
    private int admin;

    @BeforeEach
    void start() throws Exception {
        a = TestBackend.start("a");
        b = TestBackend.start("b");
        port = Loopback.freePort();
        admin = Loopback.freePort();
        config = tmp.resolve("fulcrum.yaml");
        writeConfig("api");
        fulcrum = FulcrumProcess.start("routes-api", List.of("-Xmx256m"), "run", "-c", config.toString());
        fulcrum.awaitPort(port, BOUND);
    }

    @AfterEach
    void stop() throws Exception {
        if (fulcrum != null) {
            fulcrum.close();
        }
        for (TestBackend backend : new TestBackend[]{a, b}) {
            if (backend != null) {
                backend.close();
            }
        }
    }

    /** Two routes, the first named {@code apiRoute}: {@code /api/...} to pool a, the rest to pool b. */
    private void writeConfig(String apiRoute) throws IOException {
        Files.writeString(config, """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    routes:
                      - name: %s
                        match: {path-prefix: /api, methods: [GET]}
                        pool: a
                        retries: 0
                      - name: site
                        match: {}
                        pool: b
                pools:
                  - name: a
                    servers: [{address: %s}]
                    health-check: {type: none}
                  - name: b
                    servers: [{address: %s}]
                    health-check: {type: none}
                """.formatted(admin, port, apiRoute, a.address(), b.address()));
    }

    @Test
    void theApiAndTheMetricsShowEachRouteWithItsCountsAndFollowAReload() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(proxied("/api/x").body()).isEqualTo("server a");
        }
        for (int i = 0; i < 2; i++) {
            assertThat(proxied("/page").body()).isEqualTo("server b");
        }

        JsonNode routes = routes();
        assertThat(names(routes)).containsExactly("web/api", "web/site");
        JsonNode api = routes.get(0);
        assertThat(api.get("match").get("pathPrefix").asText()).isEqualTo("/api");
        assertThat(api.get("match").get("methods").get(0).asText()).isEqualTo("GET");
        assertThat(api.get("pool").asText()).isEqualTo("a");
        assertThat(api.get("pools").isNull()).isTrue();
        assertThat(api.get("retries").asInt()).isZero();
        assertThat(api.get("responseTimeout").isNull()).isTrue();
        assertThat(api.get("requests").asLong()).isEqualTo(3);
        assertThat(api.get("byStatus").get("2xx").asLong()).isEqualTo(3);
        assertThat(routes.get(1).get("requests").asLong()).isEqualTo(2);
        assertThat(routes.get(1).get("byStatus").get("2xx").asLong()).isEqualTo(2);

        String metrics = get(admin, "/metrics").body();
        assertThat(metrics)
                .contains("fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"a\",route=\"api\",server=\""
                        + a.address() + "\"} 3.0\n")
                .contains("fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"b\",route=\"site\",server=\""
                        + b.address() + "\"} 2.0\n")
                .contains("fulcrum_request_duration_seconds_count{listener=\"web\",pool=\"a\",route=\"api\"} 3\n");

        writeConfig("api-v2");
        HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
                + "/api/v1/reload")).POST(HttpRequest.BodyPublishers.noBody()).timeout(BOUND).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);

        routes = routes();
        assertThat(names(routes)).containsExactly("web/api-v2", "web/site");
        assertThat(routes.get(0).get("requests").asLong()).isZero();
        assertThat(routes.get(1).get("requests").asLong()).as("a route kept across the reload keeps its count")
                .isEqualTo(2);
        assertThat(get(admin, "/metrics").body()).doesNotContain("route=\"api\"");

        assertThat(proxied("/api/y").body()).isEqualTo("server a");
        assertThat(routes().get(0).get("requests").asLong()).isEqualTo(1);
        assertThat(get(admin, "/metrics").body()).contains(
                "fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"a\",route=\"api-v2\",server=\""
                        + a.address() + "\"} 1.0\n");
    }

    /** One request through the listener, on a connection of its own: one kept alive may be the replaced listener's. */
    private HttpResponse<String> proxied(String path) throws IOException, InterruptedException {
        try (HttpClient fresh = HttpClient.newHttpClient()) {
            HttpResponse<String> response = fresh.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + path)).timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isEqualTo(200);
            return response;
        }
    }

    private JsonNode routes() throws IOException, InterruptedException {
        HttpResponse<String> response = get(admin, "/api/v1/routes");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).contains("application/json");
        return json.readTree(response.body());
    }

    private static List<String> names(JsonNode routes) {
        List<String> names = new ArrayList<>();
        routes.forEach(r -> names.add(r.get("listener").asText() + "/" + r.get("name").asText()));
        return names;
    }

    private HttpResponse<String> get(int to, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to + path)).timeout(BOUND).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
