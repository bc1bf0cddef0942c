package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.testing.CloseAfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Requests from HTTP/1.1 clients to a pool with {@code protocol: h2c}: each one a stream on a few
 * multiplexed connections ({@link H2cTestServer} counts them), GOAWAY and REFUSED_STREAM retried,
 * trailers passed on as a chunked trailer section, a server's bad frames answered 502.
 */
class ServerH2ProxyIT {

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    private H2cTestServer server(long maxStreams) throws Exception {
        return closer.add(new H2cTestServer(maxStreams));
    }

    private ProxyFixture proxyTo(H2cTestServer... servers) throws Exception {
        return proxyTo(HttpListener.DEFAULT_SERVER_IDLE_TIMEOUT, servers);
    }

    private ProxyFixture proxyTo(Duration serverIdleTimeout, H2cTestServer... servers) throws Exception {
        ProxyFixture f = new ProxyFixture();
        f.serverIdleTimeout = serverIdleTimeout;
        f.connectTimeout = Duration.ofMillis(500);
        for (H2cTestServer s : servers) {
            f.servers.add(s.address());
        }
        f.protocol = UpstreamProtocol.H2C;
        f.workerThreads = 1; // the stream limit bounds connections per server and event loop
        return closer.add(f).start();
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @Test
    void getAndPostGoOverOneMultiplexedConnection() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        HttpClient client = client();

        HttpResponse<String> get = client.send(HttpRequest.newBuilder(proxy.uri("/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).isEqualTo("hello from h2c");

        String body = "x".repeat(300_000);
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(proxy.uri("/echo"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo(body);
        assertThat(post.headers().firstValue("x-request-method")).hasValue("POST");
        assertThat(post.headers().firstValue("x-request-authority")).hasValue("127.0.0.1:" + proxy.port);
        assertThat(post.headers().firstValue("x-saw-connection-fields")).hasValue("false");

        assertThat(server.connectionsOpened).hasValue(1);
        assertThat(server.streamsSeen).hasValue(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.pool.snapshot().servers().getFirst().activeConnections() == 1);
    }

    @Test
    void maxRequestsPerConnectionThreeMakesNineRequestsUseThreeConnections() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture f = new ProxyFixture();
        f.servers.add(server.address());
        f.protocol = UpstreamProtocol.H2C;
        f.maxRequestsPerConnection = 3;
        f.workerThreads = 1;
        ProxyFixture proxy = closer.add(f).start();
        HttpClient client = client();
        for (int i = 0; i < 9; i++) {
            assertThat(client.send(HttpRequest.newBuilder(proxy.uri("/hello")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
        assertThat(server.streamsSeen).hasValue(9);
        assertThat(server.connectionsOpened).hasValue(3);
        // each closes once its third stream ended: none is left open at the server
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connections.isEmpty());
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.pool.snapshot().servers().getFirst().activeConnections() == 0);
    }

    @Test
    void concurrentRequestsOpenOnlyAsManyConnectionsAsTheStreamLimitNeeds() throws Exception {
        H2cTestServer server = server(50);
        ProxyFixture proxy = proxyTo(server);
        HttpClient client = client();
        server.hold = true;
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            responses.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("/hold")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> server.held.size() == 200);
        assertThat(server.connectionsOpened.get()).isLessThanOrEqualTo(4); // ceil(200 / 50)
        server.release(Integer.MAX_VALUE);
        for (CompletableFuture<HttpResponse<String>> r : responses) {
            assertThat(r.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(server.connectionsOpened.get()).isLessThanOrEqualTo(4);
    }

    @Test
    void streamsAboveGoAwaysLastStreamIdAreRetriedOnANewConnection() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        HttpClient client = client();
        server.hold = true;
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            // POST: not idempotent, retried only because the server says it did not process it
            responses.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("/hold"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.held.size() == 10);
        server.hold = false;
        int last = server.heldIds().get(4);
        server.goAway(last);
        server.release(last);
        for (CompletableFuture<HttpResponse<String>> r : responses) {
            HttpResponse<String> response = r.get(10, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("held");
        }
        assertThat(server.connectionsOpened).hasValue(2);
        assertThat(server.streamsSeen).hasValue(15);
    }

    @Test
    void anUnusedConnectionClosesAfterTheIdleTimeout() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(Duration.ofSeconds(1), server);
        assertThat(client().send(HttpRequest.newBuilder(proxy.uri("/hello")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(server.connections).hasSize(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connections.isEmpty());
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.pool.snapshot().servers().getFirst().activeConnections() == 0);
    }

    @Test
    void anIdleConnectionThatAnswersNoPingIsClosedBeforeItsIdleTimeout() throws Exception {
        H2cTestServer server = server(100);
        server.answerPings = false;
        // idle timeout 8s: a PING after 2s of silence, closed 500ms (the connect timeout) later
        ProxyFixture proxy = proxyTo(Duration.ofSeconds(8), server);
        long start = System.nanoTime();
        assertThat(client().send(HttpRequest.newBuilder(proxy.uri("/hello")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(6)).until(() -> server.connections.isEmpty());
        assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(7).toNanos());
        assertThat(server.pingsReceived.get()).isPositive();
    }

    @Test
    void aRefusedStreamIsRetried() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        server.refuseNext.set(1);
        HttpResponse<String> r = client().send(HttpRequest.newBuilder(proxy.uri("/hello"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(server.streamsSeen).hasValue(2);
        assertThat(server.connectionsOpened).hasValue(1);
    }

    @Test
    void grpcTrailersReachAnHttp11ClientAsAChunkedTrailerSection() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        try (RawHttp raw = new RawHttp(proxy.port, 5000)) {
            String response = raw.send("GET /grpc HTTP/1.1\r\nHost: grpc.test\r\n\r\n").readResponse(false);
            assertThat(response).startsWith("HTTP/1.1 200 ");
            assertThat(response.toLowerCase()).contains("content-type: application/grpc\r\n")
                    .contains("transfer-encoding: chunked\r\n");
            assertThat(response).endsWith("\r\n8\r\n\0\0\0\0\3abc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: all good\r\n\r\n");

            String trailersOnly = raw.send("GET /trailers-only HTTP/1.1\r\nHost: grpc.test\r\n\r\n").readResponse(false);
            assertThat(trailersOnly).startsWith("HTTP/1.1 200 ");
            assertThat(trailersOnly.toLowerCase()).contains("grpc-status: 5\r\n")
                    .contains("grpc-message: no such thing\r\n").contains("content-length: 0\r\n");
        }
    }

    /**
     * A server that sends a gRPC message and resets its stream in the same burst: an HTTP/1.1 client
     * gets the message byte-exact, then the connection closes without the last chunk (a truncated
     * response, the only way HTTP/1.1 has to say the response broke off).
     */
    @Test
    void dataBeforeAServerResetReachesAnHttp11ClientThenTheResponseIsCutShort() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        try (RawHttp raw = new RawHttp(proxy.port, 5000)) {
            String response = raw.send("POST /test.Reset/AfterMessage HTTP/1.1\r\nHost: grpc.test\r\n"
                    + "Content-Type: application/grpc\r\nContent-Length: 0\r\n\r\n").readUntilClose();
            assertThat(response).startsWith("HTTP/1.1 200 ");
            assertThat(response.toLowerCase()).contains("transfer-encoding: chunked\r\n");
            assertThat(response).endsWith("\r\n\r\n8\r\n\0\0\0\0\3abc\r\n");
        }
    }

    @Test
    void aLargeResponseStreamsWithBoundedBuffering() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        long size = 64L * 1024 * 1024;
        try (RawHttp raw = new RawHttp(proxy.port, 20_000)) {
            raw.socket.setReceiveBufferSize(64 * 1024);
            raw.send("GET /large/" + size + " HTTP/1.1\r\nHost: x\r\n\r\n");
            InputStream in = raw.socket.getInputStream();
            in.readNBytes(1024); // the head and a little: then the client stops reading
            // the server is held back by the stream's flow control: what it sent stays far below the body
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(10))
                    .until(() -> server.largeBytesSent.get() < 16L * 1024 * 1024);
            // the stalled stream holds its own window only: another request on the same connection goes through
            HttpResponse<String> other = client().send(HttpRequest.newBuilder(proxy.uri("/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.body()).isEqualTo("hello from h2c");
            assertThat(server.connectionsOpened).hasValue(1);
            long body = countChunkedBody(in);
            assertThat(body + 1024).isGreaterThan(size); // everything came once the client read again
            // the test server counts a DATA frame once its write completed, which may be after the client read it
            await().atMost(Duration.ofSeconds(5)).until(() -> server.largeBytesSent.get() == size);
        }
    }

    /** Reads the rest of a response (chunked framing included) until its last chunk; counts the bytes. */
    private static long countChunkedBody(InputStream in) throws Exception {
        byte[] buf = new byte[65536];
        long total = 0;
        byte[] tail = new byte[5];
        int n;
        while ((n = in.read(buf)) > 0) {
            total += n;
            for (int i = 0; i < n; i++) {
                System.arraycopy(tail, 1, tail, 0, 4);
                tail[4] = buf[i];
            }
            if (new String(tail, java.nio.charset.StandardCharsets.ISO_8859_1).equals("0\r\n\r\n")) {
                break;
            }
        }
        return total;
    }

    @Test
    void hostileResponsesAre502AndTheProxyKeepsServing() throws Exception {
        H2cTestServer server = server(100);
        ProxyFixture proxy = proxyTo(server);
        for (String path : List.of("/bad-status", "/crlf-value")) {
            try (RawHttp raw = new RawHttp(proxy.port, 5000)) {
                String response = raw.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").readUntilClose();
                assertThat(response).as(path).startsWith("HTTP/1.1 502 ");
                assertThat(response.toLowerCase()).as(path).doesNotContain("\r\nx-smuggle:");
            }
        }
        for (String path : List.of("/short-body", "/long-body")) {
            try (RawHttp raw = new RawHttp(proxy.port, 5000)) {
                String response = raw.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").readUntilClose();
                // a 502, or (when the head went out before the body broke) a response cut short
                if (!response.startsWith("HTTP/1.1 502 ")) {
                    int declared = path.equals("/short-body") ? 100 : 5;
                    int bodyBytes = response.length() - response.indexOf("\r\n\r\n") - 4;
                    assertThat(bodyBytes).as(path).isNotEqualTo(declared);
                }
            }
        }
        HttpResponse<String> ok = client().send(HttpRequest.newBuilder(proxy.uri("/hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
    }
}
