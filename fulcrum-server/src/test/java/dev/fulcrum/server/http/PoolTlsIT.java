package dev.fulcrum.server.http;

import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.admin.HookResult;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.LogCapture;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import dev.fulcrum.server.testing.TlsBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pool's {@code tls}: Fulcrum speaks TLS to a JDK HTTPS server, verifying it by its CA and by
 * the IP or the {@code server-name}, with SNI and a client certificate; a certificate that fails
 * verification gets the client a 502 and the log a line naming the server and why, and the server
 * never sees the request. Also {@code max-requests-per-connection}, observed at the server.
 */
class PoolTlsIT {

    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    /** The backend's certificate: 127.0.0.1 and backend.test, self-signed (so its own CA). */
    private static TestCertificates.Files backendCert;
    /** Another CA's certificate, for names that are only other.test. */
    private static TestCertificates.Files otherCert;
    /** Fulcrum's client certificate, self-signed: the backend that requires one trusts it as its CA. */
    private static TestCertificates.Files clientCert;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ProxyFixture proxy;
    private HttpClient http;

    @BeforeAll
    static void certificates() throws Exception {
        backendCert = TestCertificates.withSubjectAltName(dir, "backend", "backend", "IP:127.0.0.1,DNS:backend.test");
        otherCert = TestCertificates.withSubjectAltName(dir, "other", "other", "DNS:other.test");
        clientCert = TestCertificates.create(dir, "client", KeyType.ECDSA, "fulcrum-client", List.of(), "03");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (http != null) {
            http.shutdownNow(); // close() would wait for a WebSocket a failed test left open
        }
        if (proxy != null) {
            proxy.close();
        }
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private TlsBackend backend(TestCertificates.Files certificate, Path clientCa) throws Exception {
        TlsBackend backend = TlsBackend.start("a", certificate, clientCa);
        toClose.add(backend);
        return backend;
    }

    private void start(TlsBackend backend, ServerTls tls) throws Exception {
        start(backend, tls, 0);
    }

    private void start(TlsBackend backend, ServerTls tls, int maxRequestsPerConnection) throws Exception {
        proxy = new ProxyFixture();
        proxy.servers.add(backend.address());
        proxy.serverTls = tls;
        proxy.maxRequestsPerConnection = maxRequestsPerConnection;
        proxy.retries = 0;
        proxy.workerThreads = 1; // one event loop: one set of idle server connections to reuse
        proxy.start();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(proxy.uri(path)).timeout(BOUND).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static ServerTls trusting(Path ca, String serverName) {
        return new ServerTls(ca, serverName, null, null, true);
    }

    @Test
    void requestsGoOverTlsVerifiedByTheServersIpWithoutSni() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        start(backend, trusting(backendCert.cert(), ""));
        HttpResponse<String> response = get("/");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("server a client none");
        assertThat(backend.sniNames()).as("no SNI for an IP address").isEmpty();
    }

    @Test
    void serverNameIsSentInSniAndVerified() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        start(backend, trusting(backendCert.cert(), "backend.test"));
        assertThat(get("/").statusCode()).isEqualTo(200);
        assertThat(backend.sniNames()).containsExactly("backend.test");
    }

    @Test
    void aCertificateFromAnotherCaIs502WithALogLineAndTheRequestIsNotSent() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            start(backend, trusting(otherCert.cert(), ""));
            assertThat(get("/").statusCode()).isEqualTo(502);
            assertThat(get("/").statusCode()).isEqualTo(502);
            assertThat(log.messages()).as("one line for the server and reason, not one per request")
                    .containsOnlyOnce("pool app: server " + backend.address()
                    + ": TLS handshake failed: certificate is not trusted (not signed by the pool's ca)");
        }
        assertThat(backend.requests()).isZero();
    }

    @Test
    void aServerNameTheCertificateDoesNotCarryIs502() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            start(backend, trusting(backendCert.cert(), "wrong.test"));
            assertThat(get("/").statusCode()).isEqualTo(502);
            assertThat(log.messages()).contains("pool app: server " + backend.address()
                    + ": TLS handshake failed: certificate does not match wrong.test");
        }
        assertThat(backend.requests()).isZero();
    }

    @Test
    void anIpAddressTheCertificateDoesNotCarryIs502() throws Exception {
        TlsBackend backend = backend(otherCert, null);
        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            start(backend, trusting(otherCert.cert(), ""));
            assertThat(get("/").statusCode()).isEqualTo(502);
            assertThat(log.messages()).contains("pool app: server " + backend.address()
                    + ": TLS handshake failed: certificate does not match 127.0.0.1");
        }
        assertThat(backend.requests()).isZero();
    }

    @Test
    void verifyFalseAcceptsAnyCertificate() throws Exception {
        TlsBackend backend = backend(otherCert, null);
        start(backend, new ServerTls(null, "", null, null, false));
        assertThat(get("/").statusCode()).isEqualTo(200);
    }

    @Test
    void aServerRequiringAClientCertificateGetsFulcrumsAndRefusesWithoutOne() throws Exception {
        TlsBackend backend = backend(backendCert, clientCert.cert());
        start(backend, new ServerTls(backendCert.cert(), "", clientCert.cert(), clientCert.key(), true));
        HttpResponse<String> response = get("/");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("server a client CN=fulcrum-client");
        proxy.close();
        http.shutdownNow();

        try (LogCapture log = new LogCapture(TlsFailureLog.class)) {
            start(backend, trusting(backendCert.cert(), ""));
            assertThat(get("/").statusCode()).isEqualTo(502);
            assertThat(get("/").statusCode()).isEqualTo(502);
            // TLS 1.3: the server refuses after the client's handshake completed, so "TLS failed"
            assertThat(log.messages()).containsOnlyOnce("pool app: server " + backend.address()
                    + ": TLS failed: the server requires a client certificate (tls cert and key)");
        }
        assertThat(backend.requests()).as("only the request with the certificate").isEqualTo(1);
    }

    @Test
    void aReloadReadsTheCaFileAgain() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        Path ca = dir.resolve("reloaded-ca.pem");
        Files.copy(otherCert.cert(), ca, StandardCopyOption.REPLACE_EXISTING);
        start(backend, trusting(ca, ""));
        assertThat(get("/").statusCode()).isEqualTo(502);

        Files.copy(backendCert.cert(), ca, StandardCopyOption.REPLACE_EXISTING);
        assertThat(proxy.registry.applyPools(List.of(proxy.poolConfig))).isEmpty();
        assertThat(get("/").statusCode()).isEqualTo(200);

        Files.writeString(ca, "not a certificate");
        assertThat(proxy.registry.applyPools(List.of(proxy.poolConfig)))
                .containsExactly("pool app: cannot load the TLS files for its servers: " + ca
                        + ": not a PEM certificate (No certificate data found); keeping the TLS settings loaded before");
        assertThat(get("/").statusCode()).as("the CA loaded before stays").isEqualTo(200);
    }

    @Test
    void aLargeBodyArrivesDecryptedWhateverTheTransport() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        start(backend, trusting(backendCert.cert(), ""));
        // large enough for splice(2) on a plain server connection: never taken with TLS (ciphertext)
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(proxy.uri("/?n=1000000")).timeout(BOUND)
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(TlsBackend.pattern(1_000_000));
    }

    @Test
    void aReloadOfTheFileAppliesANewCaAndRefusesABrokenOne() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        Path ca = dir.resolve("process-ca.pem");
        Files.copy(otherCert.cert(), ca, StandardCopyOption.REPLACE_EXISTING);
        int port = Loopback.freePort();
        Path file = dir.resolve("fulcrum.yaml");
        Files.writeString(file, """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - {name: web, listen: 127.0.0.1:%d, pool: api}
                pools:
                  - name: api
                    servers: [{address: %s}]
                    health-check: {type: none}
                    retries: 0
                    tls: {ca: %s}
                """.formatted(Loopback.freePort(), port, backend.address(), ca));
        FulcrumServer server = FulcrumServer.start(ConfigLoader.load(file), file);
        toClose.add(() -> server.stop(Duration.ZERO));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = URI.create("http://127.0.0.1:" + port + "/");
        assertThat(send(uri).statusCode()).isEqualTo(502);

        Files.copy(backendCert.cert(), ca, StandardCopyOption.REPLACE_EXISTING);
        assertThat(server.reloadFromFile().ok()).isTrue();
        assertThat(send(uri).statusCode()).isEqualTo(200);

        Files.writeString(ca, "not a certificate");
        HookResult broken = server.reloadFromFile();
        assertThat(broken.ok()).isFalse();
        assertThat(broken.detail()).contains(ca + ": not a PEM certificate");
        assertThat(send(uri).statusCode()).as("the CA loaded before stays").isEqualTo(200);
    }

    private HttpResponse<String> send(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aWebSocketTunnelRunsOverTheServersTls() throws Exception {
        TestBackend backend = TestBackend.webSocketOverTls("ws", SslContextBuilder
                .forServer(backendCert.cert().toFile(), backendCert.key().toFile()).build());
        toClose.add(backend::close);
        proxy = new ProxyFixture().servers(backend);
        proxy.serverTls = trusting(backendCert.cert(), "");
        proxy.start();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        CompletableFuture<String> echo = new CompletableFuture<>();
        WebSocket ws = http.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port + "/ws"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        echo.complete(data.toString());
                        webSocket.request(1); // and the server's close frame after it
                        return null;
                    }
                }).get(BOUND.toSeconds(), TimeUnit.SECONDS);
        ws.sendText("hello", true).get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(echo.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo("echo hello");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(BOUND.toSeconds(), TimeUnit.SECONDS);
        await().atMost(BOUND).until(() -> proxy.pool.pool().servers().getFirst().activeRequests() == 0);
    }

    @Test
    void maxRequestsPerConnectionTwoGivesANewServerConnectionEveryTwoRequests() throws Exception {
        TlsBackend backend = backend(backendCert, null);
        start(backend, trusting(backendCert.cert(), ""), 2);
        for (int i = 0; i < 6; i++) {
            assertThat(get("/").statusCode()).isEqualTo(200);
        }
        List<Integer> ports = backend.clientPorts();
        assertThat(ports).hasSize(6);
        assertThat(new LinkedHashSet<>(ports)).hasSize(3);
        for (int i = 0; i < 6; i += 2) {
            assertThat(ports.get(i)).as("requests %d and %d share a connection", i, i + 1).isEqualTo(ports.get(i + 1));
        }
        await().atMost(BOUND).until(() -> proxy.pool.pool().servers().getFirst().activeConnections() <= 1);
    }
}
