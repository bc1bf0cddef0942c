package dev.fulcrum.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.core.pool.CheckState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code GET /api/v1/events}: Server-Sent Events from the registry. */
class AdminEventsIT {

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
    void aSubscriberSeesServerAddedWithinASecondOfThePost() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<HttpResponse<Stream<String>>> stream = f.http.sendAsync(
                f.request("/api/v1/events").timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofLines());
        HttpResponse<Stream<String>> response = stream.get(5, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/event-stream"));
        Thread reader = Thread.ofVirtual().start(() -> response.body().forEach(lines::add));
        await().atMost(Duration.ofSeconds(2)).until(() -> f.admin.eventSubscribers() == 1);

        f.post("/api/v1/pools/app/servers", "{\"address\":\"127.0.0.1:9104\"}");

        await().atMost(Duration.ofSeconds(1)).until(() -> dataOf(lines, "server-added", "127.0.0.1:9104") != null);
        JsonNode data = dataOf(lines, "server-added", "127.0.0.1:9104");
        assertThat(data.get("pool").asText()).isEqualTo("app");
        assertThat(data.get("detail").asText()).isEqualTo("weight 1");
        assertThat(data.get("at").asText()).endsWith("Z");
        reader.interrupt();
    }

    @Test
    void aNewSubscriberGetsTheRecentEventsFirst() throws Exception {
        f.post("/api/v1/pools/app/servers", "{\"address\":\"127.0.0.1:9104\"}");
        f.registry.setCheck(f.pool, f.pool.pool().servers().get(1), CheckState.DOWN,
                "3 checks failed: connection refused");

        List<String> lines = new CopyOnWriteArrayList<>();
        HttpResponse<Stream<String>> response = f.http.sendAsync(
                f.request("/api/v1/events").timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofLines()).get(5, TimeUnit.SECONDS);
        Thread reader = Thread.ofVirtual().start(() -> response.body().forEach(lines::add));

        await().atMost(Duration.ofSeconds(2)).until(() -> dataOf(lines, "server-down", "127.0.0.1:9102") != null);
        // both happened before the subscription: replayed, in order
        assertThat(lines.stream().filter(l -> l.startsWith("event: ")).toList()).startsWith(
                "event: server-added", "event: server-down");
        assertThat(dataOf(lines, "server-added", "127.0.0.1:9104")).isNotNull();
        assertThat(dataOf(lines, "server-down", "127.0.0.1:9102").get("detail").asText())
                .isEqualTo("3 checks failed: connection refused");
        reader.interrupt();
    }

    @Test
    void aSubscriberThatDoesNotReadIsDroppedWithoutSlowingTheRegistry() throws Exception {
        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(f.admin.localAddress(), 2000);
            slow.getOutputStream().write("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(2)).until(() -> f.admin.eventSubscribers() == 1);

            String detail = "x".repeat(4000);
            // the registry logs every event at INFO: keep 20 MB of x out of the test log
            var registryLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                    dev.fulcrum.server.registry.Registry.class);
            var level = registryLog.getLevel();
            registryLog.setLevel(ch.qos.logback.classic.Level.WARN);
            long started = System.nanoTime();
            int sent = 0;
            // bounded: at most 20 MB of events; the subscriber must be dropped long before
            while (f.admin.eventSubscribers() > 0 && sent < 5000) {
                // one command each, waited for: the stream sees each event before the next is sent
                f.registry.control().run(() -> f.registry.emit(new dev.fulcrum.server.registry.PoolEvent.ConfigReloaded(f.registry.now(), detail)));
                sent++;
            }
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            registryLog.setLevel(level);

            assertThat(f.admin.eventSubscribers()).isZero();
            assertThat(sent).isLessThan(5000);
            assertThat(tookMs).as("%d events took %d ms", sent, tookMs).isLessThan(5000);
            // the connection was closed by the server: reading drains what was sent, then ends
            InputStream in = slow.getInputStream();
            slow.setSoTimeout(5000);
            byte[] buffer = new byte[65536];
            while (in.read(buffer) >= 0) {
                // drain
            }
        }
    }

    /** The data of the first event of {@code type} about {@code server}, or null. */
    private JsonNode dataOf(List<String> lines, String type, String server) throws Exception {
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).equals("event: " + type) && lines.get(i + 1).startsWith("data: ")) {
                JsonNode data = f.json.readTree(lines.get(i + 1).substring("data: ".length()));
                if (data.get("server").asText().equals(server)) {
                    return data;
                }
            }
        }
        return null;
    }
}
