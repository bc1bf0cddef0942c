package dev.fulcrum.server.tcp;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.config.FulcrumConfig.Tls;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A {@code protocol: tcp} listener with {@code tls}: terminates TLS, relays plain bytes. */
class TcpListenerTlsIT {

    private static final char[] PASSWORD = "changeit".toCharArray();

    @TempDir
    static Path dir;
    private static Transport transport;
    private static KeyStore keyStore;

    @BeforeAll
    static void makeCertificate() throws Exception {
        transport = Transport.create(1);
        Path store = dir.resolve("ks.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "fulcrum", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(output).isZero();
        keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keyStore.load(in, PASSWORD);
        }
        Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n"
                + pem.encodeToString(keyStore.getCertificate("fulcrum").getEncoded()) + "\n-----END CERTIFICATE-----\n");
        Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + pem.encodeToString(keyStore.getKey("fulcrum", PASSWORD).getEncoded()) + "\n-----END PRIVATE KEY-----\n");
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
    }

    @Test
    void echoesOverTls() throws Exception {
        try (TestBackend echo = TestBackend.echo(); Registry registry = new Registry(Clock.systemUTC())) {
            TcpListener listener = listener(registry, echo.address(),
                    new Tls(dir.resolve("cert.pem"), dir.resolve("key.pem")));
            listener.start().get(5, TimeUnit.SECONDS);
            try (SSLSocket client = (SSLSocket) clientContext().getSocketFactory()
                    .createSocket("127.0.0.1", listener.localAddress().getPort())) {
                client.setSoTimeout(5000);
                client.getOutputStream().write("secret hello".getBytes(StandardCharsets.US_ASCII));
                client.getOutputStream().flush();
                assertThat(new String(client.getInputStream().readNBytes(12), StandardCharsets.US_ASCII))
                        .isEqualTo("secret hello");
            } finally {
                listener.closeGracefully(Duration.ZERO).get(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void missingCertificateFailsStartWithOneLine() throws Exception {
        try (Registry registry = new Registry(Clock.systemUTC())) {
            TcpListener listener = listener(registry, new HostPort("127.0.0.1", 9),
                    new Tls(dir.resolve("nope.pem"), dir.resolve("key.pem")));
            assertThatThrownBy(() -> listener.start().get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().hasMessageStartingWith("listener tls-test: cannot load the TLS certificate or key")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat(listener.isAccepting()).isFalse();
        }
    }

    private static TcpListener listener(Registry registry, HostPort server, Tls tls) throws Exception {
        HealthCheck none = new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                Duration.ofSeconds(1), 2, 3, 0.1);
        PoolRuntime pool = registry.addPool(new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                List.of(new ServerEntry(server, 1)), Duration.ofSeconds(1), Duration.ofSeconds(5), 1, Duration.ZERO,
                Duration.ofSeconds(5), 0, none, OutlierDetection.DEFAULT));
        Listener config = new Listener("tls-test", new HostPort("127.0.0.1", Loopback.freePort()), Protocol.TCP,
                "app", tls, 0, Duration.ofSeconds(30), Duration.ofSeconds(10), 65536);
        return new TcpListener(config, pool, transport);
    }

    private static SSLContext clientContext() throws Exception {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(keyStore);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
