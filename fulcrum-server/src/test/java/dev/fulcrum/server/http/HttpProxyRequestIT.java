package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.CloseAfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the proxy does to requests and client connections: headers, limits, timeouts, closing. */
class HttpProxyRequestIT {

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    private TestBackend backend(String name) throws InterruptedException {
        return closer.add(TestBackend.start(name));
    }

    private ProxyFixture proxy(ProxyFixture f) throws Exception {
        return closer.add(f).start();
    }

    private RawHttp raw(ProxyFixture proxy) throws Exception {
        RawHttp r = new RawHttp(proxy.port, 5000);
        closer.add(r);
        return r;
    }

    /** Reads one response with a Content-Length body from a kept-alive connection. */
    private static String readOneResponse(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new AssertionError("connection closed after: " + head);
            }
            head.append((char) c);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    @Test
    void forwardedHeadersAreSetAndHopByHopHeadersRemoved() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        String response = raw(proxy).send("""
                GET /headers?q=1 HTTP/1.1\r
                Host: shop.example:8080\r
                Connection: close, X-Drop-Me\r
                X-Drop-Me: secret\r
                Keep-Alive: timeout=5\r
                Proxy-Connection: keep-alive\r
                TE: trailers\r
                X-Forwarded-For: 203.0.113.7\r
                X-Kept: yes\r
                \r
                """).readUntilClose();
        assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("\r\nconnection: close\r\n");
        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
        assertThat(body).startsWith("GET /headers?q=1 HTTP/1.1\n")
                .contains("\nhost: shop.example:8080\n")
                .contains("\nx-forwarded-for: 203.0.113.7, 127.0.0.1\n")
                .contains("\nx-forwarded-proto: http\n")
                .contains("\nx-forwarded-host: shop.example:8080\n")
                .contains("\nx-kept: yes\n")
                .doesNotContain("x-drop-me", "keep-alive", "proxy-connection", "\nte:", "\nconnection:");
    }

    @Test
    void oversizedHeadGets431AndIsNeverForwarded() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.maxHeaderBytes = 8192;
        ProxyFixture proxy = proxy(f);
        String response = raw(proxy).send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(10_000)
                + "\r\n\r\n").readUntilClose();
        assertThat(response).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n")
                .contains("erver: fulcrum\r\n")
                .endsWith("\r\n\r\n431 request header fields too large: request head larger than 8192 bytes\n");
        assertThat(a.totalRequests()).isZero();
    }

    @Test
    void malformedRequestGets400AndIsNeverForwarded() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        String response = raw(proxy).send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: twelve\r\n\r\nabc")
                .readUntilClose();
        assertThat(response).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("\r\n\r\n400 bad request: ");
        assertThat(response.lines().filter(l -> l.startsWith("400 bad request")).count()).isEqualTo(1);
        assertThat(a.totalRequests()).isZero();
    }

    @Test
    void idleKeepAliveClientConnectionIsClosedAfterIdleTimeout() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.idleTimeout = Duration.ofMillis(400);
        ProxyFixture proxy = proxy(f);
        RawHttp client = raw(proxy);
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readOneResponse(client.socket.getInputStream())).endsWith("server a");
        long start = System.nanoTime();
        assertThat(client.closedByServer()).isTrue();
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(ms).isBetween(250L, 3000L);
        await().atMost(Duration.ofSeconds(2)).until(() -> proxy.listener.activeConnections() == 0);
    }

    @Test
    void slowRequestHeadGets408() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.requestHeaderTimeout = Duration.ofMillis(400);
        ProxyFixture proxy = proxy(f);
        long start = System.nanoTime();
        String response = raw(proxy).send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").readUntilClose();
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(response).startsWith("HTTP/1.1 408 Request Timeout\r\n")
                .endsWith("408 request timeout: request header timeout of 400ms passed\n");
        assertThat(ms).isBetween(350L, 3000L);
        assertThat(a.totalRequests()).isZero();
    }

    /**
     * At max-connections the listener stops accepting, as HAProxy's maxconn does: a connection over
     * the limit completes its handshake in the kernel's backlog and waits, unanswered, until one of
     * the others closes; then it is served. Nothing is reset.
     */
    @Test
    void aConnectionBeyondMaxConnectionsWaitsUntilOneClosesThenIsServed() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.maxConnections = 2;
        ProxyFixture proxy = proxy(f);
        RawHttp first = raw(proxy);
        RawHttp second = raw(proxy);
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.listener.activeConnections() == 2);

        RawHttp third = raw(proxy); // connects: the handshake completes in the backlog
        third.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await("the third waits unanswered").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> third.socket.getInputStream().available() == 0 && a.totalRequests() == 0
                        && proxy.listener.activeConnections() == 2);

        first.close();
        assertThat(readOneResponse(third.socket.getInputStream())).startsWith("HTTP/1.1 200").endsWith("server a");
        second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readOneResponse(second.socket.getInputStream())).endsWith("server a");
        assertThat(proxy.listener.activeConnections()).isEqualTo(2);

        second.close();
        third.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.listener.activeConnections() == 0);
        RawHttp fourth = raw(proxy); // accepting again, at once, after the listener had paused
        fourth.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readOneResponse(fourth.socket.getInputStream())).endsWith("server a");
    }

    @Test
    void gracefulCloseLetsInFlightRequestsFinishAndClosesIdleConnections() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        RawHttp idle = raw(proxy);
        idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readOneResponse(idle.socket.getInputStream())).endsWith("server a");
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                HttpRequest.newBuilder(proxy.uri("/slow?ms=700")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(2)).until(() -> a.requests("/slow") == 1);
        CompletableFuture<Void> closed = proxy.listener.closeGracefully(Duration.ofSeconds(5));
        assertThat(proxy.listener.isAccepting()).isFalse();
        assertThat(idle.closedByServer()).as("idle keep-alive connection closed at once").isTrue();
        HttpResponse<String> r = slow.get(5, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("server a");
        assertThat(r.headers().firstValue("connection")).hasValue("close");
        closed.get(5, TimeUnit.SECONDS);
        assertThat(proxy.listener.activeConnections()).isZero();
    }
    @Test
    void headResponseHasNoBodyAndTheConnectionStaysUsable() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        RawHttp client = raw(proxy);
        client.send("HEAD /bytes?n=1000 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /chunked?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String all = client.readUntilClose();
        // three pipelined requests, three responses in order; the HEADs carry no body
        assertThat(all.split("HTTP/1.1 200 OK", -1)).hasSize(4);
        assertThat(all).containsIgnoringCase("content-length: 1000\r\n").endsWith("\r\n\r\nserver a");
        assertThat(all).doesNotContain("\r\n0\r\n");
    }

    @Test
    void chunkedResponseReachesHttp11AndHttp10Clients() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(proxy.uri("/chunked?n=300000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.headers().firstValue("transfer-encoding")).hasValue("chunked");
        assertThat(r.body()).hasSize(300000);
        for (int i = 0; i < r.body().length; i += 997) {
            assertThat(r.body()[i]).isEqualTo(TestBackend.pattern(i));
        }
        // an HTTP/1.0 client cannot take chunks: the body is ended by closing the connection
        String old = raw(proxy).send("GET /chunked?n=5000 HTTP/1.0\r\nHost: x\r\n\r\n").readUntilClose();
        assertThat(old).startsWith("HTTP/1.0 200 OK\r\n").doesNotContainIgnoringCase("transfer-encoding");
        assertThat(old.length() - old.indexOf("\r\n\r\n") - 4).isEqualTo(5000);
    }

    @Test
    void serverAtMaxConnectionsPerServerIsSkipped() throws Exception {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        ProxyFixture f = new ProxyFixture().servers(a, b);
        f.maxConnectionsPerServer = 1;
        ProxyFixture proxy = proxy(f);
        HttpClient c1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpClient c2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        CompletableFuture<HttpResponse<String>> r1 = c1.sendAsync(
                HttpRequest.newBuilder(proxy.uri("/slow?ms=800")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(2)).until(() -> a.requests("/slow") + b.requests("/slow") == 1);
        CompletableFuture<HttpResponse<String>> r2 = c2.sendAsync(
                HttpRequest.newBuilder(proxy.uri("/slow?ms=10")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r2.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(r1.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(r1.get().body()).isNotEqualTo(r2.get().body());
        assertThat(a.connectionsAccepted()).isEqualTo(1);
        assertThat(b.connectionsAccepted()).isEqualTo(1);
    }
    @Test
    void clientThatStopsSendingItsBodyIsClosedAfterIdleTimeout() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.idleTimeout = Duration.ofMillis(400);
        ProxyFixture proxy = proxy(f);
        RawHttp client = raw(proxy);
        client.send("POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
        await().atMost(Duration.ofSeconds(2)).until(() -> a.requests("/sha256") == 1);
        var server = proxy.pool.pool().servers().getFirst();
        assertThat(server.activeRequests()).isEqualTo(1);
        assertThat(client.closedByServer()).isTrue();
        await().atMost(Duration.ofSeconds(2)).until(() -> server.activeRequests() == 0);
    }
    @Test
    void serverClosingItsConnectionDoesNotCloseTheClients() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        RawHttp client = raw(proxy);
        client.send("GET /bye HTTP/1.1\r\nHost: x\r\n\r\n");
        String first = readOneResponse(client.socket.getInputStream());
        assertThat(first).endsWith("server a").doesNotContainIgnoringCase("connection: close");
        client.send("GET /bye HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readOneResponse(client.socket.getInputStream())).endsWith("server a");
        assertThat(a.connectionsAccepted()).as("server connections are not reused after close").isEqualTo(2);
    }
    @Test
    void portInUseFailsStartWithOneLine() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a));
        HttpListener second = new HttpListener(proxy.listener.config(), proxy.pool, proxy.transport);
        var start = second.start();
        assertThat(start).failsWithin(Duration.ofSeconds(5)).withThrowableThat()
                .havingRootCause().isInstanceOf(IllegalStateException.class)
                .withMessage("listener web: cannot listen on 127.0.0.1:" + proxy.port
                        + ": address already in use");
        assertThat(proxy.listener.isAccepting()).isTrue();
        assertThat(second.isAccepting()).isFalse();
    }
}
