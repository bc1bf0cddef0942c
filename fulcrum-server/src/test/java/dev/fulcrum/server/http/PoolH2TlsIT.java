package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.LogCapture;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pool with {@code protocol: h2}: HTTP/2 over TLS agreed by ALPN to {@link H2cTestServer}s
 * speaking TLS (and a grpc-java server), verified by the server's IP or {@code server-name} with
 * SNI, with a client certificate; a certificate from another CA, or a server that does not choose
 * h2 by ALPN, gets the client a 502 (or a retry on another server), a log line, and the server
 * no request.
 */
class PoolH2TlsIT {

    private static final Duration BOUND = Duration.ofSeconds(10);

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @TempDir
    static Path dir;
    /** The servers' certificate: 127.0.0.1 and backend.test, self-signed (so its own CA). */
    private static TestCertificates.Files backendCert;
    /** Another CA's certificate. */
    private static TestCertificates.Files otherCert;
    /** Fulcrum's client certificate, self-signed: a server that requires one trusts it as its CA. */
    private static TestCertificates.Files clientCert;

    @BeforeAll
    static void certificates() throws Exception {
        backendCert = TestCertificates.withSubjectAltName(dir, "backend", "backend", "IP:127.0.0.1,DNS:backend.test");
        otherCert = TestCertificates.withSubjectAltName(dir, "other", "other", "IP:127.0.0.1,DNS:other.test");
        clientCert = TestCertificates.create(dir, "client", KeyType.ECDSA, "fulcrum-client", List.of(), "03");
    }

    private H2cTestServer h2Server(TestCertificates.Files cert, Path clientCa) throws Exception {
        return closer.add(new H2cTestServer(100, H2cTestServer.serverTls(cert, clientCa, ApplicationProtocolNames.HTTP_2)));
    }

    private ProxyFixture proxy(ServerTls tls, int retries, HostPort... servers) throws Exception {
        ProxyFixture f = new ProxyFixture();
        f.servers.addAll(List.of(servers));
        f.protocol = UpstreamProtocol.H2;
        f.serverTls = tls;
        f.retries = retries;
        f.connectTimeout = Duration.ofSeconds(2);
        f.workerThreads = 1; // one event loop: one connection per server carries every stream
        return closer.add(f).start();
    }

    private static ServerTls trusting(Path ca, String serverName) {
        return new ServerTls(ca, serverName, null, null, true);
    }

    private static HttpResponse<String> get(ProxyFixture proxy, String path) throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(HttpRequest.newBuilder(proxy.uri(path)).timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void requestsGoAsStreamsOfOneTlsConnectionVerifiedByTheServersIp() throws Exception {
        H2cTestServer server = h2Server(backendCert, null);
        ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 0, server.address());
        HttpResponse<String> hello = get(proxy, "/hello");
        assertThat(hello.statusCode()).isEqualTo(200);
        assertThat(hello.body()).isEqualTo("hello from h2c");

        String body = "x".repeat(100_000);
        HttpResponse<String> post = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(HttpRequest.newBuilder(proxy.uri("/echo")).timeout(BOUND)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo(body);
        assertThat(post.headers().firstValue("x-request-scheme")).hasValue("https");

        assertThat(server.connectionsOpened).hasValue(1);
        assertThat(server.streamsSeen).hasValue(2);
        assertThat(server.sniNames).as("no SNI for an IP address").isEmpty();
    }

    @Test
    void serverNameIsSentInSniAndVerified() throws Exception {
        H2cTestServer server = h2Server(backendCert, null);
        ProxyFixture proxy = proxy(trusting(backendCert.cert(), "backend.test"), 0, server.address());
        assertThat(get(proxy, "/hello").statusCode()).isEqualTo(200);
        assertThat(server.sniNames).containsExactly("backend.test");
    }

    @Test
    void aCertificateFromAnotherCaIs502WithALogLineAndTheServerSeesNoRequest() throws Exception {
        H2cTestServer server = h2Server(otherCert, null);
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 0, server.address());
            assertThat(get(proxy, "/hello").statusCode()).isEqualTo(502);
            assertThat(get(proxy, "/hello").statusCode()).isEqualTo(502);
            assertThat(log.messages()).as("one line for the server and reason, not one per request")
                    .containsOnlyOnce("pool app: server " + server.address()
                            + ": TLS handshake failed: certificate is not trusted (not signed by the pool's ca)");
        }
        assertThat(server.streamsSeen).hasValue(0);
    }

    @Test
    void withoutATlsSectionTheServerIsVerifiedByTheSystemTrustStore() throws Exception {
        H2cTestServer server = h2Server(backendCert, null);
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            ProxyFixture proxy = proxy(ServerTls.DEFAULT, 0, server.address()); // what the binder gives h2 alone
            assertThat(get(proxy, "/hello").statusCode()).as("a self-signed certificate").isEqualTo(502);
            assertThat(log.messages()).containsOnlyOnce("pool app: server " + server.address()
                    + ": TLS handshake failed: certificate is not trusted (not signed by a CA of the system's trust store)");
        }
        assertThat(server.streamsSeen).hasValue(0);
    }

    @Test
    void aRefusedHandshakeIsRetriedOnAnotherServer() throws Exception {
        H2cTestServer untrusted = h2Server(otherCert, null);
        H2cTestServer trusted = h2Server(backendCert, null);
        ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 1, untrusted.address(), trusted.address());
        for (int i = 0; i < 4; i++) {
            assertThat(get(proxy, "/hello").statusCode()).isEqualTo(200);
        }
        assertThat(untrusted.streamsSeen).hasValue(0);
        assertThat(trusted.streamsSeen).hasValue(4);
    }

    @Test
    void aServerThatDoesNotChooseH2ByAlpnIs502WithALogLine() throws Exception {
        H2cTestServer http11Only = closer.add(new H2cTestServer(100,
                H2cTestServer.serverTls(backendCert, null, ApplicationProtocolNames.HTTP_1_1)));
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 0, http11Only.address());
            HttpResponse<String> response = get(proxy, "/hello");
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(log.messages()).containsOnlyOnce("pool app: server " + http11Only.address()
                    + ": TLS handshake failed: server did not agree to h2 by ALPN");
        }
        assertThat(http11Only.connectionsOpened.get()).isPositive();
        assertThat(http11Only.streamsSeen).hasValue(0);
    }

    @Test
    void aServerThatRefusesH2WithAnAlertIs502WithTheSameLogLine() throws Exception {
        // the JDK engine can answer an ALPN it does not share with no_application_protocol (RFC 7301 3.2)
        SslContext refusing = SslContextBuilder.forServer(backendCert.cert().toFile(), backendCert.key().toFile())
                .sslProvider(SslProvider.JDK)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.FATAL_ALERT,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1))
                .build();
        H2cTestServer http11Only = closer.add(new H2cTestServer(100, refusing));
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 0, http11Only.address());
            assertThat(get(proxy, "/hello").statusCode()).isEqualTo(502);
            assertThat(log.messages()).containsOnlyOnce("pool app: server " + http11Only.address()
                    + ": TLS handshake failed: server did not agree to h2 by ALPN");
        }
        assertThat(http11Only.streamsSeen).hasValue(0);
    }

    @Test
    void aReloadThatLoadsTheTlsAnewSendsNewRequestsOnANewConnection() throws Exception {
        H2cTestServer server = h2Server(backendCert, null);
        ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 0, server.address());
        assertThat(get(proxy, "/hello").statusCode()).isEqualTo(200);
        assertThat(proxy.registry.applyPools(List.of(proxy.poolConfig))).isEmpty(); // the files read again
        assertThat(get(proxy, "/hello").statusCode()).isEqualTo(200);
        assertThat(get(proxy, "/hello").statusCode()).isEqualTo(200);
        assertThat(server.connectionsOpened).as("one made with the TLS of before, one with the new").hasValue(2);
        await().atMost(BOUND).until(() -> server.connections.size() == 1);
    }

    @Test
    void aServerRequiringAClientCertificateGetsFulcrumsAndRefusesWithoutOne() throws Exception {
        H2cTestServer server = h2Server(backendCert, clientCert.cert());
        ProxyFixture withCert = proxy(new ServerTls(backendCert.cert(), "", clientCert.cert(), clientCert.key(), true),
                0, server.address());
        assertThat(get(withCert, "/hello").statusCode()).isEqualTo(200);

        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            ProxyFixture without = proxy(trusting(backendCert.cert(), ""), 0, server.address());
            assertThat(get(without, "/hello").statusCode()).isEqualTo(502);
            assertThat(log.messages()).anyMatch(m -> m.startsWith("pool app: server " + server.address() + ": TLS")
                    && m.contains("client certificate"));
        }
        assertThat(server.streamsSeen).as("only the request with the certificate").hasValue(1);
    }

    @Test
    void aConfigFilesH2PoolIsHealthCheckedOverH2AndServesRequests() throws Exception {
        H2cTestServer good = h2Server(backendCert, null);
        H2cTestServer http11Only = closer.add(new H2cTestServer(100,
                H2cTestServer.serverTls(backendCert, null, ApplicationProtocolNames.HTTP_1_1)));
        int port = Loopback.freePort();
        FulcrumServer server = FulcrumServer.start(ConfigLoader.parse("""
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: web, listen: 127.0.0.1:%d, pool: api}
                pools:
                  - name: api
                    protocol: h2
                    tls: {ca: %s}
                    servers: [{address: %s}, {address: %s}]
                    health-check: {type: http, path: /hello, interval: 500ms, timeout: 400ms, rise: 1, fall: 1}
                """.formatted(Loopback.freePort(), port, backendCert.cert(), good.address(), http11Only.address()),
                "fulcrum.yaml", Map.of()));
        closer.add((AutoCloseable) () -> server.stop(Duration.ZERO));
        var pool = server.registry().pool("api");
        // servers of the file start up; the checks take down the one that does not speak h2
        await().atMost(BOUND).until(() -> !server.registry().server(pool, http11Only.address().toString()).isInRotation());
        await().atMost(BOUND).until(() -> good.streamsSeen.get() > 0); // a check's GET, over h2
        await().atMost(BOUND).until(() -> server.registry().server(pool, good.address().toString()).isInRotation());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello"))
                    .timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(http11Only.streamsSeen).hasValue(0);
    }

    @Test
    void aServerWithoutH2IsRetriedElsewhereAndEjectedByOutlierDetection() throws Exception {
        H2cTestServer good = h2Server(backendCert, null);
        H2cTestServer http11Only = closer.add(new H2cTestServer(100,
                H2cTestServer.serverTls(backendCert, null, ApplicationProtocolNames.HTTP_1_1)));
        int port = Loopback.freePort();
        FulcrumServer server = FulcrumServer.start(ConfigLoader.parse("""
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: web, listen: 127.0.0.1:%d, pool: api}
                pools:
                  - name: api
                    protocol: h2
                    tls: {ca: %s}
                    retries: 1
                    servers: [{address: %s}, {address: %s}]
                    health-check: {type: none}
                    outlier-detection: {consecutive-gateway-failures: 1, max-ejection-percent: 50}
                """.formatted(Loopback.freePort(), port, backendCert.cert(), http11Only.address(), good.address()),
                "fulcrum.yaml", Map.of()));
        closer.add((AutoCloseable) () -> server.stop(Duration.ZERO));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello"))
                    .timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("retried on the server that speaks h2").isEqualTo(200);
        }
        var pool = server.registry().pool("api");
        await().atMost(BOUND).until(() -> server.registry().server(pool, http11Only.address().toString()).isEjected());
        assertThat(good.streamsSeen).hasValue(4);
        assertThat(http11Only.streamsSeen).hasValue(0);
    }

    // ---- gRPC over h2 ---------------------------------------------------------------------------

    @Test
    void aGrpcUnaryCallGoesToAGrpcJavaServerOverTls() throws Exception {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(GrpcFrames.SHOUT, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(new String(request, StandardCharsets.UTF_8).toUpperCase()
                            .getBytes(StandardCharsets.UTF_8));
                    response.onCompleted();
                }))
                .build();
        Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.forServer(backendCert.cert().toFile(), backendCert.key().toFile()).build())
                .addService(echo).build().start();
        closer.add((AutoCloseable) () -> grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        ProxyFixture proxy = proxy(trusting(backendCert.cert(), ""), 0, new HostPort("127.0.0.1", grpc.getPort()));

        try (RawHttp raw = new RawHttp(proxy.port, 5000)) {
            String ok = raw.send(GrpcFrames.request("/test.Echo/Shout", "hello")).readResponse(false);
            assertThat(ok).startsWith("HTTP/1.1 200 ");
            assertThat(ok).contains("\0\0\0\0\5HELLO").contains("\r\n0\r\ngrpc-status: 0\r\n").endsWith("\r\n\r\n");
        }
        await().atMost(BOUND).until(() -> proxy.pool.snapshot().servers().getFirst().activeConnections() == 1);
    }
}
