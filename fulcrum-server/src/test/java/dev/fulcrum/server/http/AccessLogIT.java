package dev.fulcrum.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.testing.AppendedLines;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The access log of a real {@code fulcrum run}: every request through an HTTP listener and every
 * connection through a TCP listener is one line with the documented fields, and logrotate's
 * "rename, then SIGUSR1" moves the next lines to a new file without losing one.
 */
class AccessLogIT {

    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final List<String> FIELDS = List.of("time", "client", "listener", "route", "pool", "server",
            "method", "path", "protocol", "status", "bytes_in", "bytes_out", "duration_ms", "request_id", "referer",
            "user_agent");

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void everyRequestAndConnectionIsOneLineAndAReopenAfterARenameLosesNone() throws Exception {
        int web = Loopback.freePort();
        int raw = Loopback.freePort();
        int admin = Loopback.freePort();
        Path log = tmp.resolve("access.log");
        Path rotated = tmp.resolve("access.log.1");
        try (TestBackend backend = TestBackend.start("a")) {
            Path config = Files.writeString(tmp.resolve("fulcrum.yaml"), """
                    admin: {listen: 127.0.0.1:%d}
                    listeners:
                      - {name: web, listen: 127.0.0.1:%d, pool: app}
                      - {name: raw, listen: 127.0.0.1:%d, protocol: tcp, pool: app}
                    pools:
                      - name: app
                        servers: [{address: %s}]
                        health-check: {type: none}
                    access-log:
                      path: %s
                      format: json
                    """.formatted(admin, web, raw, backend.address(), log));
            try (FulcrumProcess fulcrum = FulcrumProcess.start("access-log", List.of("-Xmx256m"), "run", "-c",
                    config.toString())) {
                fulcrum.awaitPort(web, BOUND).awaitPort(raw, BOUND).awaitReady("SIGUSR1 handler",
                        () -> fulcrum.output().contains("SIGUSR1 reopens"), BOUND);

                for (int i = 0; i < 50; i++) {
                    get(web, i);
                }
                String tcpRequest = "GET /tcp HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n";
                int tcpResponse = throughTcp(raw, tcpRequest);
                // the HTTP requests, the TCP connection, and the readiness probe's connection to raw
                await().atMost(BOUND).untilAsserted(() -> assertThat(lines(log)).hasSize(52));

                Map<String, JsonNode> byId = byRequestId(lines(log));
                for (int i = 0; i < 50; i++) {
                    JsonNode line = byId.get("it-" + i);
                    assertThat(line).as("line of it-" + i).isNotNull();
                    assertThat(names(line)).containsExactlyElementsOf(FIELDS);
                    assertThat(line.get("client").asText()).isEqualTo("127.0.0.1");
                    assertThat(line.get("listener").asText()).isEqualTo("web");
                    assertThat(line.get("route").asText()).isEqualTo("web#1");
                    assertThat(line.get("pool").asText()).isEqualTo("app");
                    assertThat(line.get("server").asText()).isEqualTo(backend.address().toString());
                    assertThat(line.get("method").asText()).isEqualTo("GET");
                    assertThat(line.get("path").asText()).isEqualTo("/n/" + i + "?q=1");
                    assertThat(line.get("protocol").asText()).isEqualTo("HTTP/1.1");
                    assertThat(line.get("status").asInt()).isEqualTo(200);
                    assertThat(line.get("bytes_in").asLong()).isPositive();
                    assertThat(line.get("bytes_out").asLong()).isGreaterThan("server a".length());
                    assertThat(line.get("duration_ms").isNumber()).isTrue();
                    assertThat(line.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
                }
                JsonNode tcp = lines(log).stream().filter(l -> "TCP".equals(l.get("protocol").asText())
                        && l.get("bytes_in").asLong() > 0).findFirst().orElseThrow();
                assertThat(tcp.get("listener").asText()).isEqualTo("raw");
                assertThat(tcp.get("server").asText()).isEqualTo(backend.address().toString());
                assertThat(tcp.get("bytes_in").asLong()).isEqualTo(tcpRequest.length());
                assertThat(tcp.get("bytes_out").asLong()).isEqualTo(tcpResponse);
                assertThat(tcp.get("status").isNull()).isTrue();

                Files.move(log, rotated);
                new ProcessBuilder("kill", "-USR1", Long.toString(fulcrum.pid())).start().waitFor();
                await().atMost(BOUND).until(() -> Files.exists(log)); // reopened
                for (int i = 50; i < 80; i++) {
                    get(web, i);
                }
                await().atMost(BOUND).untilAsserted(() -> assertThat(lines(log)).hasSize(30));
                assertThat(lines(rotated)).hasSize(52);
                assertThat(byRequestId(lines(log)).keySet()).hasSize(30).allMatch(id -> Integer.parseInt(
                        id.substring(3)) >= 50);
                assertThat(metric(admin, "fulcrum_access_log_lines_total")).isEqualTo("82.0");
                assertThat(metric(admin, "fulcrum_access_log_dropped_total")).isEqualTo("0.0");

                assertThat(fulcrum.terminate(BOUND)).isZero();
                assertThat(fulcrum.output()).contains("access log: reopened " + log);
            }
        }
    }

    private void get(int port, int i) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/n/" + i + "?q=1"))
                .header("X-Request-Id", "it-" + i).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
    }

    /** Sends {@code request} through the TCP listener and reads until the server closes: the bytes read. */
    private static int throughTcp(int port, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return in.readAllBytes().length;
        }
    }

    private String metric(int admin, String name) throws Exception {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(l -> l.startsWith(name + " ")).findFirst().orElseThrow().split(" ")[1];
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : AppendedLines.of(file)) {
            out.add(json.readTree(line));
        }
        return out;
    }

    /** HTTP lines by request id; fails on an id seen twice. */
    private static Map<String, JsonNode> byRequestId(List<JsonNode> lines) {
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode line : lines) {
            if (!line.get("request_id").isNull()) {
                assertThat(out.put(line.get("request_id").asText(), line)).as("a second line for a request").isNull();
            }
        }
        return out;
    }

    private static List<String> names(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
