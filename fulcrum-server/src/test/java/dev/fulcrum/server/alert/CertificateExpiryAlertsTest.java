package dev.fulcrum.server.alert;

import dev.fulcrum.server.config.CertificateFiles;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.Files;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class CertificateExpiryAlertsTest {

    @TempDir
    static Path dir;
    /** Valid for 2 days from now. */
    private static X509Certificate shortLived;
    /** Valid for a year: the renewal. */
    private static X509Certificate renewed;

    private final List<Alert> sent = new CopyOnWriteArrayList<>();
    private final Alerter alerter = new Alerter("edge-1", Clock.fixed(Instant.EPOCH, ZoneOffset.UTC),
            List.of(new AlertSink() {
                @Override
                public void send(Alert alert) {
                    sent.add(alert);
                }

                @Override
                public void close() {
                }
            }));
    private final CertificateExpiryAlerts alerts = new CertificateExpiryAlerts(alerter);

    @BeforeAll
    static void makeCertificates() throws Exception {
        Files a = TestCertificates.create(dir, "short", KeyType.ECDSA, "www.example.com", List.of("www.example.com"),
                "0a");
        shortLived = CertificateFiles.load(a.cert(), a.key()).leaf();
        Path cert = dir.resolve("renewed.pem");
        Path key = dir.resolve("renewed.key");
        TestCertificates.run(List.of("openssl", "req", "-x509", "-nodes", "-days", "365", "-subj", "/CN=www.example.com",
                "-set_serial", "0x0b", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-keyout", key.toString(), "-out", cert.toString()));
        renewed = CertificateFiles.load(cert, key).leaf();
    }

    @Test
    void aCertificateExpiringWithin14DaysFiresOnceAndAReloadedRenewalResolvesIt() {
        Listener web = new Listener("web", List.of(shortLived));
        Instant now = Instant.now();

        alerts.check(List.of(web), now);
        alerts.check(List.of(web), now.plus(Duration.ofHours(1)));

        assertThat(sent).hasSize(1);
        Alert fired = sent.getFirst();
        assertThat(fired.resolved()).isFalse();
        assertThat(fired.labels()).containsExactly(Map.entry("alertname", "FulcrumCertificateExpiring"),
                Map.entry("severity", "warning"), Map.entry("instance", "edge-1"),
                Map.entry("listener", "web"), Map.entry("certificate", "www.example.com"),
                Map.entry("serial", "a"));

        web.certificates = List.of(renewed);
        alerts.check(List.of(web), now.plus(Duration.ofHours(2)));

        assertThat(sent).hasSize(2);
        assertThat(sent.get(1).resolved()).isTrue();
        assertThat(sent.get(1).label("serial")).isEqualTo("a");
        assertThat(alerter.firing()).isEmpty();
    }

    @Test
    void aCertificateFurtherFromExpiryDoesNotFire() {
        alerts.check(List.of(new Listener("web", List.of(shortLived))), Instant.now().minus(Duration.ofDays(13)));
        assertThat(sent).isEmpty();
    }

    /** A listener in memory serving the given certificates. */
    private static final class Listener implements ListenerRuntime {
        private final String name;
        private volatile List<X509Certificate> certificates;

        Listener(String name, List<X509Certificate> certificates) {
            this.name = name;
            this.certificates = certificates;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<X509Certificate> certificates() {
            return certificates;
        }

        @Override
        public CompletableFuture<Void> start() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void stopAccepting() {
        }

        @Override
        public CompletableFuture<Void> closeGracefully(Duration timeout) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public int activeConnections() {
            return 0;
        }

        @Override
        public boolean isAccepting() {
            return true;
        }
    }
}
