package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.SocketChannel;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** What clients see when servers fail: retries where safe, else 502/503/504 with a reason. */
class HttpProxyFailuresIT {

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    private TestBackend backend(String name) throws InterruptedException {
        return closer.add(TestBackend.start(name));
    }

    private ProxyFixture proxy(ProxyFixture f) throws Exception {
        return closer.add(f).start();
    }

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return CLIENT.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void serverKilledDuringAGetLoopCostsNoRequest() throws Exception {
        TestBackend a = TestBackend.start("a"); // closed by the test itself
        TestBackend b = backend("b");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a, b));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int failed = 0;
        for (int i = 0; i < 300; i++) {
            if (i == 100) {
                a.close();
            }
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.uri("/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                failed++;
            }
        }
        assertThat(failed).isZero();
        assertThat(b.totalRequests()).isGreaterThanOrEqualTo(200);
        assertThat(proxy.listener.stats().retries("app")).isPositive();
    }

    @Test
    void serverThatNeverAnswersGets504WithinTheResponseTimeout() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.responseTimeout = Duration.ofMillis(500);
        ProxyFixture proxy = proxy(f);
        long start = System.nanoTime();
        HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/never")));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.body()).isEqualTo("504 gateway timeout: server " + a.address()
                + " did not answer within 500ms\n");
        assertThat(r.headers().firstValue("server")).hasValue("fulcrum");
        assertThat(ms).isBetween(450L, 3000L);
        assertThat(a.requests("/never")).as("no other server to retry on").isEqualTo(1);
        assertThat(proxy.pool.pool().servers().getFirst().activeRequests()).isZero();
        assertThat(proxy.pool.pool().servers().getFirst().failures()).isEqualTo(1);
    }

    @Test
    void responseTimeoutIsRetriedElsewhereForAGetButNotForAPost() throws Exception {
        HangingServer hung = new HangingServer();
        closer.add(hung);
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture();
        f.servers.add(hung.address());
        f.servers(a);
        f.responseTimeout = Duration.ofMillis(500);
        ProxyFixture proxy = proxy(f);
        // whichever server round-robin starts a GET on, it ends on a
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/")));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("server a");
        }
        assertThat(hung.accepted()).as("GETs sent to the hung server").isPositive();
        assertThat(proxy.listener.stats().retries("app")).as("each of them retried on a").isEqualTo(hung.accepted());
        Server hungServer = proxy.registry.server(proxy.pool, hung.address().toString());
        assertThat(hungServer.failures()).as("a timeout is a failed try").isEqualTo(hung.accepted());
        // a POST that reached the hung server is not retried: the server may have acted on it
        long retries = proxy.listener.stats().retries("app");
        HttpResponse<String> timedOut = null;
        for (int i = 0; i < 4 && timedOut == null; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/"))
                    .POST(HttpRequest.BodyPublishers.noBody()));
            if (r.statusCode() == 504) {
                timedOut = r;
            } else {
                assertThat(r.body()).isEqualTo("server a");
            }
        }
        assertThat(timedOut).as("a POST sent to the hung server").isNotNull();
        assertThat(timedOut.body()).isEqualTo("504 gateway timeout: server " + hung.address()
                + " did not answer within 500ms\n");
        assertThat(proxy.listener.stats().retries("app")).isEqualTo(retries);
        assertThat(hungServer.activeRequests()).isZero();
    }

    @Test
    void aGetRetriedAfterAResetLeavesTheNextConnectionReusable() throws Exception {
        TestBackend bad = TestBackend.resetting("bad");
        closer.add(bad);
        TestBackend good = backend("good");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(bad, good));
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/")));
            assertThat(r.statusCode()).as("request %d: %s", i, r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("server good");
        }
        assertThat(good.connectionsAccepted()).as("the retried requests' connections were kept").isLessThan(5);
    }

    @Test
    void refusedConnectionsAreRetriedThenAnswered502() throws Exception {
        HostPort dead1 = new HostPort("127.0.0.1", Loopback.freePort());
        HostPort dead2 = new HostPort("127.0.0.1", Loopback.freePort());
        ProxyFixture f = new ProxyFixture();
        f.servers.add(dead1);
        f.servers.add(dead2);
        ProxyFixture proxy = proxy(f);
        HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/x")));
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).matches("502 bad gateway: server 127\\.0\\.0\\.1:\\d+ refused the connection\n");
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        assertThat(proxy.listener.stats().retries("app")).as("the second server was tried once").isEqualTo(1);
        assertThat(proxy.pool.pool().servers()).allSatisfy(s -> {
            assertThat(s.failures()).isEqualTo(1);
            assertThat(s.activeRequests()).isZero();
        });
    }

    @Test
    void connectTimeoutIsAConnectFailureAndIsRetriedElsewhere() throws Exception {
        // a listening socket whose accept queue is full: the kernel drops further SYNs
        ServerSocket full = new ServerSocket();
        closer.add(full);
        full.bind(new InetSocketAddress("127.0.0.1", 0), 1);
        for (int i = 0; i < 8; i++) {
            SocketChannel filler = SocketChannel.open();
            closer.add(filler);
            filler.configureBlocking(false);
            filler.connect(full.getLocalSocketAddress());
        }
        TestBackend b = backend("b");
        ProxyFixture f = new ProxyFixture();
        f.servers.add(new HostPort("127.0.0.1", full.getLocalPort()));
        f.servers(b);
        f.connectTimeout = Duration.ofMillis(300);
        ProxyFixture proxy = proxy(f);
        // whichever server the balancer starts with, every request ends on b
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/")));
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("server b");
        }
        assertThat(proxy.listener.stats().retries("app")).isPositive();
        proxy.registry.drainServer("app", b.address().toString());
        HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/")));
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).isEqualTo("502 bad gateway: server 127.0.0.1:" + full.getLocalPort()
                + " did not accept the connection within 300ms\n");
    }

    @Test
    void allServersDrainedGives503WithRetryAfter() throws Exception {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a, b));
        assertThat(send(HttpRequest.newBuilder(proxy.uri("/"))).statusCode()).isEqualTo(200);
        proxy.registry.drainServer("app", a.address().toString());
        proxy.registry.drainServer("app", b.address().toString());
        HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/")));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("retry-after")).hasValue("1");
        assertThat(r.headers().firstValue("server")).hasValue("fulcrum");
        assertThat(r.body()).isEqualTo("503 service unavailable: no server of pool app is up\n");
        assertThat(proxy.listener.stats().responsesByServer().get(ProxyStats.NO_SERVER))
                .as("counted as Fulcrum's own 5xx").containsExactly(0, 0, 0, 0, 1);
    }

    @Test
    void postIsNotRetriedOnceItsBodyWasSent() throws Exception {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        ProxyFixture proxy = proxy(new ProxyFixture().servers(a, b));
        HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/reset-after-body"))
                .POST(HttpRequest.BodyPublishers.ofString("pay once")));
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).matches("502 bad gateway: server 127\\.0\\.0\\.1:\\d+ (reset|closed) the connection\n");
        assertThat(a.requests("/reset-after-body") + b.requests("/reset-after-body"))
                .as("the servers saw the POST once").isEqualTo(1);
        assertThat(proxy.listener.stats().retries("app")).isZero();
    }

    @Test
    void idempotentRequestIsRetriedOnEveryOtherServerAfterAReset() throws Exception {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        TestBackend c = backend("c");
        ProxyFixture f = new ProxyFixture().servers(a, b, c);
        f.retries = 1;
        ProxyFixture proxy = proxy(f);
        HttpResponse<String> r = send(HttpRequest.newBuilder(proxy.uri("/reset-after-body"))
                .PUT(HttpRequest.BodyPublishers.noBody()));
        assertThat(r.statusCode()).isEqualTo(502);
        int[] seen = {a.requests("/reset-after-body"), b.requests("/reset-after-body"),
                c.requests("/reset-after-body")};
        assertThat(seen).as("two tries (retries: 1), never the same server twice").containsOnly(0, 1);
        assertThat(seen[0] + seen[1] + seen[2]).isEqualTo(2);
        assertThat(proxy.listener.stats().retries("app")).isEqualTo(1);
    }
    @Test
    void serverThatStopsReadingAnUploadGets504() throws Exception {
        TestBackend a = backend("a");
        ProxyFixture f = new ProxyFixture().servers(a);
        f.responseTimeout = Duration.ofMillis(500);
        ProxyFixture proxy = proxy(f);
        long size = 256L * 1024 * 1024; // far more than the socket buffers on the way can hold
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            client.send("POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n");
            Thread uploader = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[65536];
                try {
                    for (long sent = 0; sent < size; sent += chunk.length) {
                        client.socket.getOutputStream().write(chunk);
                    }
                } catch (java.io.IOException expected) {
                    // the proxy answered 504 and closed
                }
            });
            String response = client.readUntilClose();
            assertThat(response).startsWith("HTTP/1.1 504 Gateway Timeout\r\n")
                    .endsWith("504 gateway timeout: server " + a.address() + " did not answer within 500ms\n");
            uploader.join(5000);
        }
        assertThat(a.requests("/stall")).isEqualTo(1);
    }
}
