package dev.fulcrum.server.tcp;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig.Certificate;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.config.FulcrumConfig.Tls;
import dev.fulcrum.server.config.FulcrumConfig.TlsVersion;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.Files;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A TLS listener's certificates as a client sees them, over real sockets: SNI picks among three
 * (exact, wildcard, default; RSA and ECDSA), {@code sni-strict}, the protocol floor, session
 * resumption, certificates re-read in place by a reload, and their expiry metric.
 */
class ListenerTlsIT {

    @TempDir
    static Path dir;
    private static Transport transport;
    private static Files byDefault;
    private static Files wildcard;
    private static Files exact;

    private final List<TcpListener> started = new ArrayList<>();
    private TestBackend echo;
    private Registry registry;

    @BeforeAll
    static void makeCertificates() throws Exception {
        transport = Transport.create(1);
        byDefault = TestCertificates.create(dir, "default", KeyType.RSA, "default.test", List.of("default.test"), "01");
        wildcard = TestCertificates.create(dir, "wildcard", KeyType.ECDSA, "*.example.net", List.of("*.example.net"),
                "02");
        exact = TestCertificates.create(dir, "exact", KeyType.RSA, "api.example.net", List.of("api.example.net"), "03");
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
    }

    @BeforeEach
    void startBackend() throws Exception {
        echo = TestBackend.echo();
        registry = new Registry(Clock.systemUTC());
    }

    @AfterEach
    void stopAll() throws Exception {
        for (TcpListener listener : started) {
            listener.closeGracefully(Duration.ZERO).get(5, TimeUnit.SECONDS);
        }
        registry.close();
        echo.close();
    }

    @Test
    void sniPicksExactBeforeWildcardElseTheFirstCertificate() throws Exception {
        // the wildcard is listed before the exact name: exact still wins
        int port = start(new Tls(List.of(certificate(byDefault), certificate(wildcard), certificate(exact)),
                TlsVersion.TLS_V1_2, null, false));
        assertThat(serial(port, "api.example.net")).isEqualTo(3);
        assertThat(serial(port, "www.example.net")).isEqualTo(2);
        assertThat(serial(port, "a.b.example.net")).isEqualTo(1);
        assertThat(serial(port, "unknown.test")).isEqualTo(1);
        assertThat(serial(port, null)).isEqualTo(1);
    }

    @Test
    void sniStrictRefusesANameNoCertificateCoversButNotAnAbsentName() throws Exception {
        int port = start(new Tls(List.of(certificate(byDefault), certificate(wildcard)), TlsVersion.TLS_V1_2, null, true));
        assertThat(serial(port, "www.example.net")).isEqualTo(2);
        assertThat(serial(port, null)).isEqualTo(1);
        assertThatThrownBy(() -> serial(port, "unknown.test")).isInstanceOf(IOException.class);
    }

    @Test
    void tls12IsTheFloorByDefaultWithForwardSecretAeadSuitesOnly() throws Exception {
        int port = start(new Tls(byDefault.cert(), byDefault.key()));
        try (SSLSocket client = connect(port, null, trustAll(), "TLSv1.2")) {
            assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(client.getSession().getCipherSuite()).matches("TLS_ECDHE_RSA_WITH_(AES_\\d+_GCM|CHACHA20_POLY1305)_SHA\\d+");
        }
        String out = openssl(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
        // the server's alert 70: the client offered TLS 1.1 and the server refused it
        assertThat(out).contains("alert protocol version", "Cipher is (NONE)");
    }

    @Test
    void minVersion13RefusesTls12() throws Exception {
        int port = start(new Tls(List.of(certificate(byDefault)), TlsVersion.TLS_V1_3, null, false));
        try (SSLSocket client = connect(port, null, trustAll(), "TLSv1.3")) {
            assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        assertThatThrownBy(() -> connect(port, null, trustAll(), "TLSv1.2").close()).isInstanceOf(SSLException.class);
    }

    @Test
    void aReconnectResumesTheSession() throws Exception {
        int port = start(new Tls(byDefault.cert(), byDefault.key()));
        SSLContext context = trustAll();
        byte[] first;
        try (SSLSocket client = connect(port, "default.test", context, "TLSv1.2")) {
            first = client.getSession().getId();
        }
        try (SSLSocket client = connect(port, "default.test", context, "TLSv1.2")) {
            assertThat(first).isNotEmpty();
            assertThat(client.getSession().getId()).as("the resumed session's id").isEqualTo(first);
        }
    }

    @Test
    void aReloadGivesNewHandshakesTheRenewedCertificateAndKeepsOpenConnections() throws Exception {
        Path cert = dir.resolve("renewed.pem");
        Path key = dir.resolve("renewed.key");
        java.nio.file.Files.copy(byDefault.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
        java.nio.file.Files.copy(byDefault.key(), key, StandardCopyOption.REPLACE_EXISTING);
        Tls tls = new Tls(cert, key);
        TcpListener listener = listener(tls);
        FulcrumMetrics metrics = new FulcrumMetrics(registry);
        metrics.tlsCertificates(() -> List.of(listener));
        int port = listener.localAddress().getPort();
        assertThat(expiry(metrics, "default.test", "1")).isEqualTo(notAfter(byDefault.cert()));
        try (SSLSocket before = connect(port, null, trustAll(), "TLSv1.3")) {
            assertThat(echoes(before)).isTrue();
            TestCertificates.create(cert, key, KeyType.ECDSA, "renewed.test", List.of("renewed.test"), "05");

            assertThat(listener.reloadCertificates()).isNull();
            assertThat(expiry(metrics, "renewed.test", "5")).isEqualTo(notAfter(cert));
            assertThat(scrape(metrics)).doesNotContain("default.test");

            assertThat(echoes(before)).as("a connection opened before the reload").isTrue();
            assertThat(serialOf(before)).isEqualTo(1);
            assertThat(serial(port, null)).isEqualTo(5);

            java.nio.file.Files.writeString(cert, "not a certificate");
            String problem = listener.reloadCertificates();
            assertThat(problem).startsWith("listener tls-test: cannot load the TLS certificate or key: " + cert + ": ")
                    .endsWith("; keeping the certificates loaded before").doesNotContain("\n");
            assertThat(serial(port, null)).isEqualTo(5);
            assertThat(echoes(before)).isTrue();
        }
    }

    /** The value of {@code fulcrum_tls_certificate_expiry_seconds} for one certificate of the listener. */
    private static double expiry(FulcrumMetrics metrics, String name, String serial) throws IOException {
        Matcher m = Pattern.compile("fulcrum_tls_certificate_expiry_seconds\\{listener=\"tls-test\",name=\""
                + Pattern.quote(name) + "\",serial=\"" + serial + "\"} (\\S+)\n").matcher(scrape(metrics));
        assertThat(m.find()).as(scrape(metrics)).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static String scrape(FulcrumMetrics metrics) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writeText(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static double notAfter(Path cert) throws Exception {
        try (InputStream in = java.nio.file.Files.newInputStream(cert)) {
            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return leaf.getNotAfter().getTime() / 1000.0;
        }
    }

    private int start(Tls tls) throws Exception {
        return listener(tls).localAddress().getPort();
    }

    private TcpListener listener(Tls tls) throws Exception {
        HealthCheck none = new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                Duration.ofSeconds(1), 2, 3, 0.1);
        PoolRuntime pool = registry.addPool(new PoolConfig("app" + started.size(), Algorithm.ROUND_ROBIN,
                HashKey.SOURCE_IP, "", List.of(new ServerEntry(echo.address(), 1)), Duration.ofSeconds(1),
                Duration.ofSeconds(5), 1, Duration.ZERO, Duration.ofSeconds(5), 0, none, OutlierDetection.DEFAULT));
        Listener config = new Listener("tls-test", new HostPort("127.0.0.1", Loopback.freePort()), Protocol.TCP,
                pool.name(), tls, 0, Duration.ofSeconds(30), Duration.ofSeconds(10), 65536);
        TcpListener listener = new TcpListener(config, pool, transport);
        listener.start().get(5, TimeUnit.SECONDS);
        started.add(listener);
        return listener;
    }

    private static Certificate certificate(Files files) {
        return new Certificate(files.cert(), files.key());
    }

    /** The serial of the certificate a handshake with this SNI (null = none) gets; checks the relay too. */
    private static int serial(int port, String sni) throws Exception {
        try (SSLSocket client = connect(port, sni, trustAll(), "TLSv1.3")) {
            assertThat(echoes(client)).isTrue();
            return serialOf(client);
        }
    }

    private static int serialOf(SSLSocket client) throws Exception {
        BigInteger serial = ((X509Certificate) client.getSession().getPeerCertificates()[0]).getSerialNumber();
        return serial.intValueExact();
    }

    private static boolean echoes(SSLSocket client) throws IOException {
        byte[] hello = "secret hello".getBytes(StandardCharsets.US_ASCII);
        client.getOutputStream().write(hello);
        client.getOutputStream().flush();
        return new String(client.getInputStream().readNBytes(hello.length), StandardCharsets.US_ASCII)
                .equals("secret hello");
    }

    private static SSLSocket connect(int port, String sni, SSLContext context, String protocol) throws IOException {
        SSLSocket client = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        try {
            client.setSoTimeout(5000);
            SSLParameters parameters = client.getSSLParameters();
            parameters.setProtocols(new String[]{protocol});
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            client.setSSLParameters(parameters);
            client.startHandshake();
            return client;
        } catch (IOException e) {
            client.close();
            throw e;
        }
    }

    private static SSLContext trustAll() throws Exception {
        return TestCertificates.trustingClient(null);
    }

    /** {@code openssl s_client}'s output for one handshake attempt, whatever its exit status. */
    private static String openssl(int port, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
