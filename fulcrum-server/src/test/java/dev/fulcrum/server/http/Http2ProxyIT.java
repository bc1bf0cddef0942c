package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * HTTP/2 from clients, as real clients see it: curl over TLS (ALPN h2) and over plain text with
 * prior knowledge, the JDK HttpClient over TLS; bodies with and without content-length, many
 * streams on one connection, HTTP/1.1 still served beside HTTP/2, and the access log's protocol.
 */
class Http2ProxyIT {

    private TestBackend backend;
    private ProxyFixture proxy;

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private void startPlain() throws Exception {
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.http2 = FulcrumConfig.Http2.ON;
        proxy.start();
    }

    private void startTls(Path dir) throws Exception {
        TestCertificates.Files files = TestCertificates.create(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.tls = new FulcrumConfig.Tls(files.cert(), files.key());
        proxy.start();
    }

    private static String curl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "10"));
        command.addAll(List.of(args));
        return TestCertificates.run(command);
    }

    @Test
    void curlWithPriorKnowledgeSpeaksHttp2OnPlainText() throws Exception {
        startPlain();
        String out = curl("--http2-prior-knowledge", "-w", "\\n%{http_version}", proxy.uri("/hello").toString());
        assertThat(out).isEqualTo("server a\n2");
        // the wire bytes, counted once: the preface and frames in, SETTINGS and frames out
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.listener.activeConnections() == 0);
        long in = proxy.listener.stats().bytesIn();
        long outBytes = proxy.listener.stats().bytesOut();
        assertThat(in).isBetween(24L + 9 + 20, 400L);
        assertThat(outBytes).isBetween((long) "server a".length() + 9 * 3, 400L);
    }

    @Test
    void http11StillWorksOnAListenerWithHttp2() throws Exception {
        startPlain();
        String out = curl("--http1.1", "-w", "\\n%{http_version}", proxy.uri("/hello").toString());
        assertThat(out).isEqualTo("server a\n1.1");
    }

    @Test
    void http11RequestWhoseFirstByteMatchesThePrefaceIsHttp11() throws Exception {
        startPlain();
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port)) {
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            var out = s.getOutputStream();
            out.write('P'); // the preface's first byte too: the listener must wait for the next one
            out.flush();
            out.write("UT /sha256 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 200 ").contains(sha256("abc".getBytes(StandardCharsets.US_ASCII)));
        }
    }

    @Test
    void responseTrailersReachTheClientAsTrailingHeaders() throws Exception {
        try (RawBackend raw = new RawBackend(head -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Type: application/grpc\r\n\r\n5\r\nhello\r\n0\r\nGrpc-Status: 0\r\n\r\n")) {
            proxy = new ProxyFixture();
            proxy.servers.add(raw.address());
            proxy.http2 = FulcrumConfig.Http2.ON;
            proxy.start();
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, true, ":method", "POST", ":scheme", "http", ":path", "/rpc", ":authority", "a",
                        "te", "trailers");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200").contains("content-type=application/grpc")
                        .doesNotContain("transfer-encoding").doesNotContain(" end");
                assertThat(c.nextOnStream()).isEqualTo("DATA 1 5 hello");
                assertThat(c.nextOnStream()).isEqualTo("HEADERS 1 grpc-status=0 end");
            }
        }
    }

    @Test
    void curlNegotiatesH2ByAlpnOverTls(@TempDir Path dir) throws Exception {
        startTls(dir);
        String url = "https://127.0.0.1:" + proxy.port + "/headers";
        String out = curl("-k", "--http2", "-w", "\\n%{http_version}", url);
        assertThat(out).endsWith("\n2").contains("x-forwarded-proto: https").contains("host: 127.0.0.1:" + proxy.port);
        // Via names the version the request came in (RFC 9110 7.6.3), though it goes on as HTTP/1.1
        assertThat(out).containsIgnoringCase("via: 2 ");
        String h1 = curl("-k", "--http1.1", "-w", "\\n%{http_version}", url);
        assertThat(h1).endsWith("\n1.1").containsIgnoringCase("via: 1.1 ");
    }

    @Test
    void everySniCertificateOffersH2(@TempDir Path dir) throws Exception {
        TestCertificates.Files a = TestCertificates.create(dir, "a", TestCertificates.KeyType.ECDSA, "a.example",
                List.of("a.example"), "0a");
        TestCertificates.Files b = TestCertificates.create(dir, "b", TestCertificates.KeyType.RSA, "b.example",
                List.of("*.b.example"), "0b");
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.tls = new FulcrumConfig.Tls(List.of(new FulcrumConfig.Certificate(a.cert(), a.key()),
                new FulcrumConfig.Certificate(b.cert(), b.key())), FulcrumConfig.TlsVersion.TLS_V1_2, null, false);
        proxy.start();
        for (String[] hostAndCn : List.of(new String[]{"a.example", "a.example"},
                new String[]{"www.b.example", "b.example"})) {
            String host = hostAndCn[0];
            String out = curl("-k", "-v", "--http2", "--resolve", host + ":" + proxy.port + ":127.0.0.1",
                    "https://" + host + ":" + proxy.port + "/hello");
            assertThat(out).as(host).contains("CN=" + hostAndCn[1]).contains("ALPN: server accepted h2")
                    .contains("HTTP/2 200").contains("server a");
        }
    }

    @Test
    void curlSendsBodiesWithAndWithoutLength(@TempDir Path dir) throws Exception {
        startPlain();
        byte[] body = new byte[300_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31);
        }
        Path file = dir.resolve("body");
        Files.write(file, body);
        String expected = sha256(body);
        String withLength = curl("--http2-prior-knowledge", "--data-binary", "@" + file, proxy.uri("/sha256").toString());
        assertThat(withLength).contains(expected);
        // from stdin: curl does not know the length, so no content-length goes out (chunked to the server)
        ProcessBuilder pb = new ProcessBuilder("curl", "-sS", "--max-time", "10", "--http2-prior-knowledge",
                "-T", "-", "-X", "POST", proxy.uri("/sha256").toString()).redirectInput(file.toFile());
        Process p = pb.start();
        String chunked = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(chunked).contains(expected);
    }

    @Test
    void jdkClientOverTlsMultiplexesManyStreamsOnOneConnection(@TempDir Path dir) throws Exception {
        startTls(dir);
        HttpClient client = HttpClient.newBuilder().sslContext(TestCertificates.trustingClient(null))
                .version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create("https://localhost:" + proxy.port + "/bytes?n=100000");
        // one request first: the connection exists before the many share it
        HttpResponse<byte[]> first = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(first.version()).isEqualTo(HttpClient.Version.HTTP_2);
        List<CompletableFuture<HttpResponse<byte[]>>> all = IntStream.range(0, 60)
                .mapToObj(i -> client.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray()))
                .toList();
        for (CompletableFuture<HttpResponse<byte[]>> f : all) {
            HttpResponse<byte[]> r = f.get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.body()).hasSize(100_000);
            assertThat(r.body()[99_999]).isEqualTo(TestBackend.pattern(99_999));
        }
        assertThat(proxy.listener.activeConnections()).isEqualTo(1);
        // a body of unknown length (no content-length): chunked to the server
        byte[] body = "streamed body".getBytes(StandardCharsets.US_ASCII);
        HttpResponse<String> posted = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port + "/sha256"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(posted.body()).contains(sha256(body));
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
