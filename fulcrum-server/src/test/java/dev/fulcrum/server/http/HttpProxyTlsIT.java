package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A listener with {@code tls} terminates TLS and tells the server so (X-Forwarded-Proto: https). */
class HttpProxyTlsIT {

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

    @Test
    void terminatesTlsAndForwardsProtoHttps(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost")
                .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).isZero();
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.tls = new FulcrumConfig.Tls(cert, key);
        proxy.start();

        SSLContext ssl = TestCertificates.trustingClient(null);
        try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", proxy.port)) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write("GET /headers HTTP/1.1\r\nHost: secure.example\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").contains("\nx-forwarded-proto: https\n");
        }
    }

    @Test
    void missingCertificateFailsStartWithOneLine(@TempDir Path dir) throws Exception {
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.tls = new FulcrumConfig.Tls(dir.resolve("missing-cert.pem"), dir.resolve("missing-key.pem"));
        assertThatThrownBy(proxy::start).hasRootCauseInstanceOf(IllegalStateException.class)
                .rootCause().hasMessageStartingWith("listener web: cannot load the TLS certificate or key: ")
                .hasMessageNotContaining("\n");
    }
}
