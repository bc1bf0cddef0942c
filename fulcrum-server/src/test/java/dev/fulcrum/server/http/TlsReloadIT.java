package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Certificates renewed in place under the same file names, through a real {@code fulcrum run}
 * (the shaded jar, so BoringSSL loads from it): {@code POST /api/v1/reload} with an unchanged config
 * gives new handshakes the new certificate while a connection opened before keeps working, and a
 * broken file keeps the certificate in use.
 */
class TlsReloadIT {

    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void aReloadServesTheRenewedCertificateAndKeepsOpenConnections() throws Exception {
        int admin = Loopback.freePort();
        int port = Loopback.freePort();
        Path cert = tmp.resolve("web.pem");
        Path key = tmp.resolve("web.key");
        TestCertificates.create(cert, key, KeyType.RSA, "web.test", List.of("web.test"), "01");
        try (TestBackend a = TestBackend.start("a")) {
            Path file = TlsReloadConfig.write(tmp, admin, port, cert, key, a.address());
            try (FulcrumProcess fulcrum = FulcrumProcess.start("tls-reload", List.of("-Xmx256m"), "run", "-c",
                    file.toString());
                 HttpClient http = HttpClient.newHttpClient()) {
                fulcrum.awaitPort(port, BOUND);
                try (SSLSocket before = connect(port)) {
                    assertThat(get(before)).endsWith("server a");
                    assertThat(serial(before)).isEqualTo(1);

                    TestCertificates.create(cert, key, KeyType.ECDSA, "web.test", List.of("web.test"), "05");
                    HttpResponse<String> reload = reload(http, admin);
                    assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);

                    assertThat(get(before)).as("a connection opened before the reload").endsWith("server a");
                    assertThat(serial(before)).isEqualTo(1);
                    assertThat(newHandshakeSerial(port)).isEqualTo(5);

                    Files.writeString(cert, "not a certificate");
                    HttpResponse<String> broken = reload(http, admin);
                    assertThat(broken.statusCode()).isNotEqualTo(200);
                    assertThat(broken.body()).contains(cert.toString());
                    assertThat(newHandshakeSerial(port)).as("the certificate in use stays").isEqualTo(5);
                }
                assertThat(fulcrum.output()).contains("TLS provider: BoringSSL");
            }
        }
    }

    private static HttpResponse<String> reload(HttpClient http, int admin) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/api/v1/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int newHandshakeSerial(int port) throws Exception {
        try (SSLSocket socket = connect(port)) {
            assertThat(get(socket)).endsWith("server a");
            return serial(socket);
        }
    }

    private static SSLSocket connect(int port) throws Exception {
        SSLSocket socket = (SSLSocket) TestCertificates.trustingClient(null).getSocketFactory()
                .createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    /** One keep-alive request; reads until the test backend's body ("server a") has arrived. */
    private static String get(SSLSocket socket) throws IOException {
        socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: web.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (!got.toString(StandardCharsets.ISO_8859_1).endsWith("server a")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            got.write(b);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    private static int serial(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber().intValueExact();
    }
}
