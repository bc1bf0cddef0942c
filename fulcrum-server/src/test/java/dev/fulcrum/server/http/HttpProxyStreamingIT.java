package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.CloseAfterEach;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Bodies stream both ways with flat memory; WebSocket tunnels; Expect: 100-continue. */
class HttpProxyStreamingIT {

    private static final long MIB = 1024 * 1024;

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    private ProxyFixture proxyTo(TestBackend backend) throws Exception {
        closer.add(backend);
        ProxyFixture f = new ProxyFixture().servers(backend);
        return closer.add(f).start();
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    /** The pattern stream {@link TestBackend} serves, as an InputStream. */
    private static InputStream pattern(long n) {
        return new InputStream() {
            long i;

            @Override
            public int read() {
                return i < n ? TestBackend.pattern(i++) & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (i >= n) {
                    return -1;
                }
                int k = (int) Math.min(len, n - i);
                for (int j = 0; j < k; j++) {
                    b[off + j] = TestBackend.pattern(i++);
                }
                return k;
            }
        };
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
            d.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** Samples the peak of Netty's pooled memory (proxy, backend share it) while {@code work} runs. */
    private static long peakNettyMemoryDuring(Callable work) throws Exception {
        ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        AtomicLong peak = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> peak.accumulateAndGet(
                metric.usedDirectMemory() + metric.usedHeapMemory(), Math::max), 0, 10, TimeUnit.MILLISECONDS);
        try {
            work.call();
        } finally {
            sampler.shutdownNow();
        }
        return peak.get();
    }

    interface Callable {
        void call() throws Exception;
    }

    @Test
    void hundredMebibyteDownloadStreamsThroughWithFlatMemory() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        long n = 100 * MIB;
        String expected = sha256(pattern(n));
        String[] got = new String[1];
        long peak = peakNettyMemoryDuring(() -> {
            HttpResponse<InputStream> r = client().send(HttpRequest.newBuilder(proxy.uri("/bytes?n=" + n)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValueAsLong("content-length")).hasValue(n);
            try (InputStream in = r.body()) {
                got[0] = sha256(in);
            }
        });
        assertThat(got[0]).isEqualTo(expected);
        assertThat(peak).as("Netty buffer memory while 100 MiB went through").isLessThan(48 * MIB);
        assertThat(proxy.listener.stats().bytesOut()).isBetween(n, n + 4096);
    }

    @Test
    void hundredMebibyteUploadStreamsThroughWithFlatMemory() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        long n = 100 * MIB;
        String expected = sha256(pattern(n));
        String[] got = new String[1];
        long peak = peakNettyMemoryDuring(() -> {
            HttpRequest request = HttpRequest.newBuilder(proxy.uri("/sha256"))
                    .POST(HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofInputStream(() -> pattern(n)), n))
                    .build();
            got[0] = client().send(request, HttpResponse.BodyHandlers.ofString()).body();
        });
        assertThat(got[0]).isEqualTo("sha256 " + expected + " bytes " + n);
        assertThat(peak).as("Netty buffer memory while 100 MiB went through").isLessThan(48 * MIB);
        assertThat(proxy.listener.stats().bytesIn()).isBetween(n, n + 4096);
    }

    @Test
    void chunkedUploadArrivesWhole() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        long n = 5 * MIB + 17;
        HttpRequest request = HttpRequest.newBuilder(proxy.uri("/sha256"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> pattern(n))) // unknown length: chunked
                .build();
        HttpResponse<String> r = client().send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("sha256 " + sha256(pattern(n)) + " bytes " + n);
    }

    @Test
    void webSocketEchoGoesThroughTheTunnel() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.webSocket("ws"));
        List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<Void> gotTwo = new CompletableFuture<>();
        WebSocket ws = client().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port + "/ws"), new WebSocket.Listener() {
                    private final StringBuilder message = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        message.append(data);
                        if (last) {
                            received.add(message.toString());
                            message.setLength(0);
                        }
                        if (received.size() == 2) {
                            gotTwo.complete(null);
                        }
                        webSocket.request(1);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        ws.sendText("x".repeat(100_000), true).get(5, TimeUnit.SECONDS);
        gotTwo.get(5, TimeUnit.SECONDS);
        assertThat(received).hasSize(2);
        assertThat(received.get(0)).isEqualTo("echo hello");
        // compared as a boolean: a 100 kB string in a failure message helps nobody
        assertThat(received.get(1).equals("echo " + "x".repeat(100_000))).as("long frame echoed intact").isTrue();
        var server = proxy.pool.pool().servers().getFirst();
        assertThat(server.activeRequests()).as("an open tunnel is in-flight work").isEqualTo(1);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(3))
                .until(() -> server.activeRequests() == 0 && server.activeConnections() == 0);
    }

    @Test
    void expectContinueWithCurl(@TempDir Path dir) throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        Path file = dir.resolve("body.bin");
        try (InputStream in = pattern(3 * MIB)) {
            Files.copy(in, file);
        }
        long start = System.nanoTime();
        Process curl = new ProcessBuilder("/usr/bin/curl", "-sS", "-v", "--expect100-timeout", "10",
                "-H", "Expect: 100-continue", "--data-binary", "@" + file, proxy.uri("/sha256").toString())
                .redirectErrorStream(false).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(curl.getErrorStream()));
        String out = readAll(curl.getInputStream());
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        assertThat(curl.exitValue()).isZero();
        assertThat(err.get()).contains("HTTP/1.1 100 Continue");
        assertThat(out).isEqualTo("sha256 " + sha256(pattern(3 * MIB)) + " bytes " + 3 * MIB);
        assertThat(seconds).as("curl got its 100 instead of waiting out the 10 s").isLessThan(8);
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }
    @Test
    void slowReaderHoldsTheServerBackAndAVanishedClientFreesIt() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        var server = proxy.pool.pool().servers().getFirst();
        try (RawHttp client = new RawHttp(proxy.port, 5000)) {
            client.send("GET /bytes?n=" + 256 * MIB + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.socket.getInputStream().readNBytes((int) MIB)).hasSize((int) MIB);
            // the client stops reading: the proxy must stop reading the server too, not buffer 256 MiB
            org.awaitility.Awaitility.await().during(java.time.Duration.ofMillis(800))
                    .atMost(java.time.Duration.ofSeconds(3))
                    .until(() -> metric.usedDirectMemory() + metric.usedHeapMemory() < 40 * MIB);
            assertThat(server.activeRequests()).isEqualTo(1);
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(3))
                .until(() -> server.activeRequests() == 0 && server.activeConnections() == 0);
    }

    /** A client that stops taking its response is as idle as one that stops sending: idle-timeout frees both connections. */
    @Test
    void aClientThatStopsReadingIsClosedAfterIdleTimeout() throws Exception {
        TestBackend backend = TestBackend.start("a");
        ProxyFixture proxy = new ProxyFixture().servers(backend);
        proxy.idleTimeout = java.time.Duration.ofSeconds(1);
        proxy.start();
        try {
            var server = proxy.pool.pool().servers().getFirst();
            try (RawHttp client = new RawHttp(proxy.port, 5000)) {
                client.send("GET /bytes?n=" + 256 * MIB + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(client.socket.getInputStream().readNBytes((int) MIB)).hasSize((int) MIB);
                // the client reads no more but stays connected
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(6))
                        .until(() -> server.activeRequests() == 0 && server.activeConnections() == 0
                                && backend.openConnections() == 0);
            }
        } finally {
            proxy.close();
            backend.close();
        }
    }

    /** An idle WebSocket tunnel (no byte either way for idle-timeout) closes and frees its server connection. */
    @Test
    void anIdleWebSocketTunnelClosesAfterIdleTimeout() throws Exception {
        TestBackend backend = closer.add(TestBackend.webSocket("ws"));
        ProxyFixture proxy = new ProxyFixture().servers(backend);
        proxy.idleTimeout = java.time.Duration.ofSeconds(1);
        closer.add(proxy).start();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket ws = client().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port + "/ws"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                        closed.complete(statusCode);
                        return null;
                    }

                    @Override
                    public void onError(WebSocket webSocket, Throwable error) {
                        closed.complete(-1); // the connection went away without a close frame
                    }
                }).get(5, TimeUnit.SECONDS);
        var server = proxy.pool.pool().servers().getFirst();
        assertThat(server.activeRequests()).as("the open tunnel").isEqualTo(1);
        closed.get(6, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(3))
                .until(() -> server.activeRequests() == 0 && server.activeConnections() == 0);
        ws.abort();
    }
}
