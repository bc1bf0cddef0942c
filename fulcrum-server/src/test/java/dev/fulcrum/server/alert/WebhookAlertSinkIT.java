package dev.fulcrum.server.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.fulcrum.server.testing.CloseAfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The webhook sink against real HTTP receivers on loopback. */
class WebhookAlertSinkIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-24T03:00:00Z"), ZoneOffset.UTC);

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();

    /** A receiver that records every POSTed body (a JSON array) and answers 200. */
    private HttpServer receiver(int port) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        http.createContext("/api/v2/alerts", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (exchange.getRequestMethod().equals("POST")
                    && "application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
                received.add(JSON.readTree(body));
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        http.start();
        closer.add(() -> http.stop(0));
        return http;
    }

    private static URI url(int port) {
        return URI.create("http://127.0.0.1:" + port + "/api/v2/alerts");
    }

    private WebhookAlertSink sink(int port, Duration timeout, int capacity) {
        WebhookAlertSink sink = new WebhookAlertSink(url(port), timeout, "http://127.0.0.1:9901/", capacity,
                Duration.ofMillis(50), Duration.ofMillis(400), Duration.ofMinutes(5), Clock.systemUTC());
        closer.add(sink);
        return sink;
    }

    private Alerter alerter(AlertSink sink) {
        return new Alerter("edge-1", CLOCK, List.of(sink));
    }

    private List<JsonNode> alertsReceived() {
        return received.stream().flatMap(array -> {
            List<JsonNode> list = new java.util.ArrayList<>();
            array.forEach(list::add);
            return list.stream();
        }).toList();
    }

    @Test
    void firingAndResolvedPayloadsHaveTheAlertmanagerShape() throws Exception {
        HttpServer http = receiver(0);
        int port = http.getAddress().getPort();
        Alerter alerter = alerter(sink(port, Duration.ofSeconds(2), 16));
        alerter.fire("FulcrumServerDown", "critical", "app", "127.0.0.1:9102",
                "server 127.0.0.1:9102 of pool app is down", "3 checks failed: connection refused");
        await().atMost(Duration.ofSeconds(5)).until(() -> alertsReceived().size() == 1);

        JsonNode firing = received.getFirst();
        assertThat(firing.isArray()).isTrue();
        assertThat(firing).hasSize(1);
        JsonNode alert = firing.get(0);
        // exactly the fields of admin-api.md, in its order
        assertThat(iterable(alert.fieldNames())).containsExactly("labels", "annotations", "startsAt", "generatorURL");
        assertThat(labels(alert.get("labels"))).containsExactly(
                Map.entry("alertname", "FulcrumServerDown"), Map.entry("severity", "critical"),
                Map.entry("instance", "edge-1"), Map.entry("pool", "app"), Map.entry("server", "127.0.0.1:9102"));
        assertThat(labels(alert.get("annotations"))).containsExactly(
                Map.entry("summary", "server 127.0.0.1:9102 of pool app is down"),
                Map.entry("description", "3 checks failed: connection refused"));
        assertThat(alert.get("startsAt").asText()).isEqualTo("2026-11-24T03:00:00.000Z");
        assertThat(alert.get("generatorURL").asText()).isEqualTo("http://127.0.0.1:9901/");

        alerter.resolve("FulcrumServerDown", "app", "127.0.0.1:9102", "2 checks passed");
        await().atMost(Duration.ofSeconds(5)).until(() -> alertsReceived().size() == 2);
        JsonNode resolved = alertsReceived().get(1);
        assertThat(resolved.get("labels")).isEqualTo(alert.get("labels"));
        assertThat(resolved.get("startsAt").asText()).isEqualTo("2026-11-24T03:00:00.000Z");
        assertThat(resolved.get("endsAt").asText()).isEqualTo("2026-11-24T03:00:00.000Z");
        assertThat(resolved.get("annotations").get("description").asText()).isEqualTo("2 checks passed");
    }

    /** A JSON object of strings, in document order. */
    private static Map<String, String> labels(JsonNode object) {
        Map<String, String> map = new java.util.LinkedHashMap<>();
        object.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> list = new java.util.ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }

    @Test
    void receiverDownAtFirstStillGetsTheAlertOnceItComesUp() throws Exception {
        // First a listener that accepts and slams the door: every attempt fails.
        ServerSocket slammer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int port = slammer.getLocalPort();
        AtomicInteger attempts = new AtomicInteger();
        Thread slam = Thread.ofPlatform().daemon().start(() -> {
            while (!slammer.isClosed()) {
                try (Socket s = slammer.accept()) {
                    attempts.incrementAndGet();
                    s.setSoLinger(true, 0); // reset
                } catch (IOException closed) {
                    return;
                }
            }
        });
        Alerter alerter = alerter(sink(port, Duration.ofSeconds(2), 16));
        alerter.fire("FulcrumServerDown", "critical", "app", "127.0.0.1:9102", "down", "connection refused");
        await().atMost(Duration.ofSeconds(5)).until(() -> attempts.get() >= 2); // a retry happened
        slammer.close();
        slam.join(2000);

        receiver(port);
        await().atMost(Duration.ofSeconds(10)).until(() -> alertsReceived().size() == 1);
        assertThat(alertsReceived().getFirst().get("labels").get("alertname").asText()).isEqualTo("FulcrumServerDown");
    }

    @Test
    void aReceiverThatNeverAnswersDoesNotSlowFire() throws Exception {
        // Accepts connections (kernel backlog) but never reads or answers.
        ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        closer.add(silent);
        Alerter alerter = alerter(sink(silent.getLocalPort(), Duration.ofSeconds(5), 8));
        alerter.fire("FulcrumPoolDown", "critical", "app", "", "warm-up", "loads the classes involved");
        long worstNanos = 0;
        for (int i = 0; i < 200; i++) {
            long start = System.nanoTime();
            alerter.fire("FulcrumServerDown", "critical", "app", "127.0.0.1:" + (10000 + i), "down", "timeout after 1s");
            worstNanos = Math.max(worstNanos, System.nanoTime() - start);
        }
        // 200 alerts into a queue of 8 while the sender hangs on the first POST: never a wait
        assertThat(worstNanos / 1_000_000).isLessThan(10);
        assertThat(alerter.firing()).hasSize(201);
    }

    /** Issue 12, item 7: a webhook URL's password is sent as Basic auth and never printed. */
    @Test
    void aUrlPasswordIsSentAsBasicAuthAndNeverLogged() throws Exception {
        List<String> authorizations = new CopyOnWriteArrayList<>();
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        http.createContext("/api/v2/alerts", exchange -> {
            exchange.getRequestBody().readAllBytes();
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            // a receiver that refuses, with a body that tries to forge a log line
            byte[] body = "bad\r\nINFO forged\u001b[2J".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(400, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        http.start();
        closer.add(() -> http.stop(0));
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        try (dev.fulcrum.server.testing.LogCapture log = new dev.fulcrum.server.testing.LogCapture(WebhookAlertSink.class)) {
            URI withPassword = URI.create("http://am:hun%40ter2@127.0.0.1:" + http.getAddress().getPort() + "/api/v2/alerts");
            WebhookAlertSink sink = closer.add(new WebhookAlertSink(withPassword, Duration.ofSeconds(2),
                    "http://127.0.0.1:9901/"));
            WebhookAlertSink unreachable = closer.add(new WebhookAlertSink(
                    URI.create("http://am:hunter2@127.0.0.1:" + dead + "/api/v2/alerts"), Duration.ofSeconds(2),
                    "http://127.0.0.1:9901/"));
            alerter(sink).fire("FulcrumServerDown", "critical", "app", "127.0.0.1:9102", "down", "refused");
            alerter(unreachable).fire("FulcrumServerDown", "critical", "app", "127.0.0.1:9102", "down", "refused");

            await().atMost(Duration.ofSeconds(5)).until(() -> log.messages().stream().anyMatch(m -> m.contains("refused"))
                    && log.messages().stream().anyMatch(m -> m.contains("unreachable")));
            assertThat(authorizations.getFirst()).isEqualTo("Basic " + java.util.Base64.getEncoder()
                    .encodeToString("am:hun@ter2".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertThat(log.messages()).allSatisfy(m -> assertThat(m).doesNotContain("hunter2", "hun%40ter2", "\r", "\n", "\u001b"));
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("http://am:***@127.0.0.1:"));
            assertThat(sink).hasToString("webhook http://am:***@127.0.0.1:" + http.getAddress().getPort() + "/api/v2/alerts");
        }
    }
}
