package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Certificate;
import dev.fulcrum.server.config.FulcrumConfig.TlsVersion;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.Files;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code tls.client-ca}: a client must present a certificate the CA signed, and its subject reaches
 * the server in {@code X-Client-Cert-Subject}, which a client cannot forge.
 */
class HttpClientCertIT {

    private static final String SPOOFING = "GET /headers HTTP/1.1\r\nHost: secure.example\r\n"
            + "X-Client-Cert-Subject: CN=admin\r\nConnection: close\r\n\r\n";

    @TempDir
    static Path dir;
    private static Files server;
    private static Files ca;
    private static Path clientStore;

    private TestBackend backend;
    private ProxyFixture proxy;

    @BeforeAll
    static void makeCertificates() throws Exception {
        server = TestCertificates.create(dir, "server", KeyType.RSA, "secure.example", List.of("secure.example"), "01");
        ca = TestCertificates.create(dir, "ca", KeyType.ECDSA, "Test Client CA", List.of(), "02");
        clientStore = TestCertificates.clientCertificate(dir, "client", ca, "/CN=client-1/O=Example");
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void theVerifiedSubjectReachesTheServerAndAForgedOneDoesNot() throws Exception {
        start(ca.cert());
        String response = request(clientContext(true));
        assertThat(response).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("\nx-client-cert-subject: O=Example,CN=client-1\n").doesNotContain("CN=admin");
    }

    @Test
    void theVerifiedSubjectReachesTheServerFromAnHttp2Stream() throws Exception {
        start(ca.cert());
        String out = TestCertificates.run(List.of("curl", "-sS", "-k", "--http2", "--max-time", "10",
                "--cert-type", "P12", "--cert", clientStore + ":changeit",
                "--resolve", "secure.example:" + proxy.port + ":127.0.0.1", "-H", "X-Client-Cert-Subject: CN=admin",
                "-w", "\\n%{http_version}", "https://secure.example:" + proxy.port + "/headers"));
        assertThat(out).endsWith("\n2").contains("x-client-cert-subject: O=Example,CN=client-1")
                .doesNotContain("CN=admin");
    }

    @Test
    void aClientWithoutACertificateIsRefused() throws Exception {
        start(ca.cert());
        String response;
        try {
            response = request(clientContext(false));
        } catch (IOException refused) {
            response = refused.toString();
        }
        assertThat(response).doesNotContain("HTTP/1.1");
    }

    @Test
    void withoutClientCaAForgedSubjectIsRemoved() throws Exception {
        start(null);
        assertThat(request(clientContext(false))).startsWith("HTTP/1.1 200 OK\r\n")
                .doesNotContain("x-client-cert-subject");
    }

    private void start(Path clientCa) throws Exception {
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.tls = new FulcrumConfig.Tls(List.of(new Certificate(server.cert(), server.key())), TlsVersion.TLS_V1_2,
                clientCa, false);
        proxy.start();
    }

    private String request(SSLContext context) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", proxy.port)) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(SPOOFING.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Trusts any server (the test's is self-signed); presents the client certificate when asked to. */
    private static SSLContext clientContext(boolean withCertificate) throws Exception {
        KeyManager[] keys = null;
        if (withCertificate) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = java.nio.file.Files.newInputStream(clientStore)) {
                store.load(in, "changeit".toCharArray());
            }
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, "changeit".toCharArray());
            keys = factory.getKeyManagers();
        }
        return TestCertificates.trustingClient(keys);
    }
}
