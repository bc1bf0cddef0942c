package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reload that changes only a listener's routes, through a real {@code fulcrum run}: the listener
 * keeps its socket and its open connections, the next request on a connection opened before
 * the reload already takes the new routes, and an unchanged rate limit keeps its buckets.
 */
class RoutesReloadIT {

    private static final Duration BOUND = Duration.ofSeconds(30);
    /** A route whose one token comes back after 100 s: within the test, a second request is over it. */
    private static final String LIMITED = "- {name: limited, match: {path-prefix: /limited}, pool: one, "
            + "rate-limit: {requests-per-second: 0.01, burst: 1, key: \"header:X-Client\"}}";

    @TempDir
    Path tmp;

    private static String config(int admin, int port, String routes, TestBackend a, TestBackend b) {
        return """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    routes:
                %s
                pools:
                  - name: one
                    servers: [{address: %s}]
                    health-check: {type: none}
                  - name: two
                    servers: [{address: %s}]
                    health-check: {type: none}
                """.formatted(admin, port, routes, a.address(), b.address());
    }

    @Test
    void newRoutesApplyToTheNextRequestOnAConnectionOpenedBefore() throws Exception {
        int admin = Loopback.freePort();
        int port = Loopback.freePort();
        try (TestBackend a = TestBackend.start("a"); TestBackend b = TestBackend.start("b")) {
            Path file = tmp.resolve("fulcrum.yaml");
            Files.writeString(file, config(admin, port, """
                          - {name: shop, match: {path-prefix: /shop}, pool: one}
                          %s
                          - {name: rest, pool: two}
                    """.formatted(LIMITED).stripTrailing(), a, b));
            try (FulcrumProcess fulcrum = FulcrumProcess.start("routes-reload", List.of("-Xmx256m"), "run", "-c",
                    file.toString())) {
                fulcrum.awaitPort(port, BOUND);
                reloadOnAnOpenConnection(fulcrum, file, admin, port, a, b);
            }
        }
    }

    private static void reloadOnAnOpenConnection(FulcrumProcess fulcrum, Path file, int admin, int port,
                                                 TestBackend a, TestBackend b) throws Exception {
        assertThat(limitedStatus(port)).isEqualTo(200);
        assertThat(limitedStatus(port)).isEqualTo(429);
        try (RawHttp client = new RawHttp(port, 10_000)) {
            client.send("GET /shop/x HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(client.readResponse(false)).endsWith("server a");

            Files.writeString(file, config(admin, port, """
                          - {name: shop, match: {path-prefix: /shop}, pool: two}
                          %s
                          - {name: rest, pool: one}
                    """.formatted(LIMITED).stripTrailing(), a, b));
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> reload = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + admin + "/api/v1/reload"))
                        .POST(HttpRequest.BodyPublishers.noBody()).timeout(BOUND).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
            }

            client.send("GET /shop/x HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(client.readResponse(false)).as("same connection, new route").endsWith("server b");
            client.send("GET /other HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(client.readResponse(false)).endsWith("server a");
            assertThat(fulcrum.output()).contains("listener web: routes replaced by the reloaded config");
        }
        assertThat(limitedStatus(port)).as("an unchanged rate limit keeps its buckets across the reload")
                .isEqualTo(429);
    }

    /** The status of one request to the rate-limited route, on a connection of its own. */
    private static int limitedStatus(int port) throws Exception {
        try (RawHttp client = new RawHttp(port, 10_000)) {
            client.send("GET /limited HTTP/1.1\r\nHost: h\r\nX-Client: carol\r\nConnection: close\r\n\r\n");
            return Integer.parseInt(client.readUntilClose().substring(9, 12));
        }
    }
}
