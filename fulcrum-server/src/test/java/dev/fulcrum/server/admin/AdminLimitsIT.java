package dev.fulcrum.server.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 12, item 6: what an unauthenticated or slow client can cost the admin side. The token and
 * body size are decided on the request head, before a body byte is read; heads and bodies must
 * arrive in time; connections are capped; an events stream is not cut by any of these clocks.
 * Short limits keep the test quick; {@link AdminLimits#DEFAULT} has the documented ones.
 */
class AdminLimitsIT {

    private static final String TOKEN = "s3cret-token";
    private static final AdminLimits SHORT = new AdminLimits(1024 * 1024, 8, Duration.ofMillis(800),
            Duration.ofMillis(800), Duration.ofMillis(1500), Duration.ofSeconds(2));
    private static final Duration BOUND = Duration.ofSeconds(5);

    private AdminFixture f;
    private final List<RawClient> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (RawClient c : clients) {
            c.close();
        }
        if (f != null) {
            f.close();
        }
    }

    private RawClient connect() throws Exception {
        RawClient c = f.raw();
        clients.add(c);
        return c;
    }

    @Test
    void theDocumentedLimits() {
        assertThat(AdminLimits.DEFAULT).isEqualTo(new AdminLimits(1024 * 1024, 256, Duration.ofSeconds(10),
                Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(2)));
    }

    @Test
    void anUnauthenticatedPostIsAnswered401BeforeItsBodyIsRead() throws Exception {
        f = new AdminFixture(TOKEN, List.of(), SHORT);
        RawClient c = connect();
        // 100 MiB announced, 64 KiB sent: the answer comes without the rest
        c.send("POST /api/v1/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n");
        c.send(new byte[64 * 1024]);
        RawClient.Response r = c.read();
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.head()).containsIgnoringCase("connection: close");
        assertThat(f.json.readTree(r.body()).get("error").asText()).contains("Bearer");
        await().atMost(BOUND).until(c::closedByServer);
    }

    @Test
    void aRebindingHostIsRefusedBeforeItsBodyIsRead() throws Exception {
        f = new AdminFixture("", List.of(), SHORT);
        RawClient c = connect();
        c.send("POST /api/v1/reload HTTP/1.1\r\nHost: rebind.evil.example\r\nContent-Length: 104857600\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(403);
    }

    @Test
    void aBodyOverOneMebibyteIs413() throws Exception {
        f = new AdminFixture(TOKEN, List.of(), SHORT);
        RawClient declared = connect();
        declared.send("POST /api/v1/pools/app/servers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: " + 2 * 1024 * 1024 + "\r\n\r\n");
        RawClient.Response r = declared.read();
        assertThat(r.status()).isEqualTo(413);
        assertThat(f.json.readTree(r.body()).get("error").asText()).isEqualTo("the request body is larger than 1024 KiB");

        // chunked: no length up front, counted as it comes
        RawClient chunked = connect();
        chunked.send("POST /api/v1/pools/app/servers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                + "\r\nTransfer-Encoding: chunked\r\n\r\n");
        byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < 17; i++) {
            chunked.send(chunk);
        }
        assertThat(chunked.read().status()).isEqualTo(413);
        assertThat(f.pool.pool().servers()).hasSize(3);

        RawClient exactly = connect();
        String body = "{\"address\":\"127.0.0.1:9104\"}";
        exactly.send("POST /api/v1/pools/app/servers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
        assertThat(exactly.read().status()).as("a small body still works").isEqualTo(201);
    }

    @Test
    void aGetTakesNoBody() throws Exception {
        f = new AdminFixture(TOKEN, List.of(), SHORT);
        RawClient c = connect();
        c.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(413);
    }

    @Test
    void aHalfSentHeadIsAnswered408WithinTheHeaderTimeout() throws Exception {
        f = new AdminFixture("", List.of(), SHORT);
        RawClient c = connect();
        long start = System.nanoTime();
        c.send("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        RawClient.Response r = c.read();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(r.status()).isEqualTo(408);
        assertThat(took).isBetween(SHORT.headerTimeout().minusMillis(100), BOUND);
        await().atMost(BOUND).until(c::closedByServer);
    }

    @Test
    void aSlowBodyIsAnswered408() throws Exception {
        f = new AdminFixture("", List.of(), SHORT);
        RawClient c = connect();
        c.send("POST /api/v1/pools/app/servers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"addr");
        assertThat(c.read().status()).isEqualTo(408);
    }

    @Test
    void silentAndIdleConnectionsAreClosed() throws Exception {
        f = new AdminFixture("", List.of(), SHORT);
        RawClient silent = connect();
        await().atMost(BOUND).until(silent::closedByServer);

        RawClient keptAlive = connect();
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertThat(keptAlive.read().status()).isEqualTo(200);
        assertThat(keptAlive.closedByServer()).as("kept alive for the next request").isFalse();
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertThat(keptAlive.read().status()).isEqualTo(200);
        await().atMost(BOUND).until(keptAlive::closedByServer);
    }

    @Test
    void connectionsOverTheCapAreRefusedAndEventsStreamsOutliveEveryTimeout() throws Exception {
        f = new AdminFixture("", List.of(), SHORT);
        List<RawClient> streams = new ArrayList<>();
        for (int i = 0; i < SHORT.maxConnections(); i++) {
            RawClient c = connect();
            c.send("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            streams.add(c);
        }
        await().atMost(BOUND).until(() -> f.admin.eventSubscribers() == SHORT.maxConnections());

        RawClient over = connect();
        await().atMost(BOUND).until(over::closedByServer);

        // longer than the header, body and idle timeouts together: the streams stay
        await().during(Duration.ofMillis(3500)).atMost(Duration.ofSeconds(6))
                .until(() -> f.admin.eventSubscribers() == SHORT.maxConnections());
        for (RawClient stream : streams) {
            assertThat(stream.closedByServer()).isFalse();
        }

        streams.getFirst().close();
        await().atMost(BOUND).until(() -> f.admin.eventSubscribers() == SHORT.maxConnections() - 1);
        RawClient again = connect();
        again.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertThat(again.read().status()).as("a slot is free again").isEqualTo(200);
    }
}
