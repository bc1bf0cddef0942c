package dev.fulcrum.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.testing.AppendedLines;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * HTTP/2 through a real {@code fulcrum run}: routes pick the pool by {@code :authority}, the
 * access log says {@code HTTP/2.0}, nghttp (prior knowledge) is served, the refusal series are
 * scraped, and a stop sends GOAWAY while a stream in flight still gets its whole response.
 */
class Http2RunIT {

    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void routesByAuthorityLogsHttp2AndFinishesStreamsOnStop() throws Exception {
        int web = Loopback.freePort();
        int admin = Loopback.freePort();
        Path log = tmp.resolve("access.log");
        try (TestBackend api = TestBackend.start("api"); TestBackend app = TestBackend.start("app")) {
            Path config = Files.writeString(tmp.resolve("fulcrum.yaml"), """
                    admin: {listen: 127.0.0.1:%d}
                    listeners:
                      - name: web
                        listen: 127.0.0.1:%d
                        http2: true
                        routes:
                          - {name: api, match: {host: api.example.com}, pool: api}
                          - {name: rest, match: {}, pool: app}
                    pools:
                      - {name: api, servers: [{address: %s}], health-check: {type: none}}
                      - {name: app, servers: [{address: %s}], health-check: {type: none}}
                    access-log: {path: %s, format: json}
                    """.formatted(admin, web, api.address(), app.address(), log));
            try (FulcrumProcess fulcrum = FulcrumProcess.start("http2-run", List.of("-Xmx256m"), "run", "-c",
                    config.toString())) {
                fulcrum.awaitPort(web, BOUND);
                String base = "http://127.0.0.1:" + web;
                // curl turns a Host header into :authority on HTTP/2
                assertThat(TestCertificates.run(List.of("curl", "-sS", "--http2-prior-knowledge", "-H",
                        "Host: api.example.com", "-H", "X-Request-Id: h2-api", base + "/v1"))).isEqualTo("server api");
                assertThat(TestCertificates.run(List.of("curl", "-sS", "--http2-prior-knowledge", "-H",
                        "X-Request-Id: h2-app", base + "/other"))).isEqualTo("server app");
                String nghttp = TestCertificates.run(List.of("nghttp", "-v", base + "/nghttp"));
                assertThat(nghttp).contains(":status: 200").contains("server app");

                await().atMost(BOUND).untilAsserted(() -> assertThat(lines(log)).hasSize(3));
                JsonNode apiLine = lines(log).stream().filter(l -> l.get("request_id").asText().equals("h2-api"))
                        .findFirst().orElseThrow();
                assertThat(apiLine.get("protocol").asText()).isEqualTo("HTTP/2.0");
                assertThat(apiLine.get("route").asText()).isEqualTo("api");
                assertThat(apiLine.get("status").asInt()).isEqualTo(200);
                assertThat(lines(log)).allSatisfy(l -> assertThat(l.get("protocol").asText()).isEqualTo("HTTP/2.0"));

                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("fulcrum_http2_refused_total{listener=\"web\",reason=\"rapid-reset\"} 0.0");

                // a stream in flight when the stop begins gets its whole response
                Process slow = new ProcessBuilder("curl", "-sS", "--http2-prior-knowledge", "--max-time", "20",
                        base + "/slow?ms=1500").redirectErrorStream(true).start();
                await().atMost(BOUND).until(() -> app.requests("/slow") == 1);
                assertThat(fulcrum.terminate(BOUND)).isZero();
                String out = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(slow.waitFor()).as(out).isZero();
                assertThat(out).isEqualTo("server app");
            }
        }
    }

    @Test
    void aReloadThatRemovesTheListenerLetsItsStreamsFinish() throws Exception {
        int web = Loopback.freePort();
        int old = Loopback.freePort();
        int admin = Loopback.freePort();
        try (TestBackend app = TestBackend.start("app")) {
            String both = """
                    admin: {listen: 127.0.0.1:%d}
                    listeners:
                      - {name: web, listen: 127.0.0.1:%d, http2: true, pool: app}
                      - {name: old, listen: 127.0.0.1:%d, http2: true, pool: app}
                    pools:
                      - {name: app, servers: [{address: %s}], health-check: {type: none}}
                    """.formatted(admin, web, old, app.address());
            Path config = Files.writeString(tmp.resolve("fulcrum.yaml"), both);
            try (FulcrumProcess fulcrum = FulcrumProcess.start("http2-reload", List.of("-Xmx256m"), "run", "-c",
                    config.toString())) {
                fulcrum.awaitPort(web, BOUND).awaitPort(old, BOUND)
                        .awaitReady("SIGHUP handler", () -> fulcrum.output().contains("SIGHUP re-reads"), BOUND);
                Process slow = new ProcessBuilder("curl", "-sS", "--http2-prior-knowledge", "--max-time", "20",
                        "http://127.0.0.1:" + old + "/slow?ms=3000").redirectErrorStream(true).start();
                await().atMost(BOUND).until(() -> app.requests("/slow") == 1);
                Files.writeString(config, both.replaceAll("(?m)^  - \\{name: old.*\\n", ""));
                new ProcessBuilder("kill", "-HUP", Long.toString(fulcrum.pid())).start().waitFor();
                // the reload took the listener away while its stream was still waiting for the server
                await().atMost(BOUND).until(() -> !accepts(old));
                assertThat(slow.isAlive()).isTrue();
                // the removed listener's connection got GOAWAY; its stream in flight still ends whole
                String out = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(slow.waitFor()).as(out).isZero();
                assertThat(out).isEqualTo("server app");
                await().atMost(BOUND).untilAsserted(() -> assertThat(TestCertificates.run(List.of("curl", "-sS",
                        "--http2-prior-knowledge", "http://127.0.0.1:" + web + "/x"))).isEqualTo("server app"));
                assertThat(fulcrum.terminate(BOUND)).isZero();
            }
        }
    }

    private static boolean accepts(int port) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException refused) {
            return false;
        }
    }

    private static List<JsonNode> lines(Path file) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : AppendedLines.of(file)) {
            out.add(json.readTree(line));
        }
        return out;
    }
}
