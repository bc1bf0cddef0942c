package dev.fulcrum.server.admin;

import dev.fulcrum.server.config.CertificateFiles;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.Files;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code listeners} of {@code GET /api/v1/status}: protocols, and for a TLS listener what an
 * operator checks of each certificate — names, serial, expiry and days left, key type — exactly.
 */
class ListenerViewTest {

    @TempDir
    static Path dir;
    private static Files rsa;
    private static Files ecdsa;
    private static X509Certificate rsaLeaf;
    private static X509Certificate ecdsaLeaf;

    @BeforeAll
    static void makeCertificates() throws Exception {
        rsa = TestCertificates.create(dir.resolve("rsa.pem"), dir.resolve("rsa.key"), KeyType.RSA, "example.com",
                List.of("example.com", "www.example.com"), "1a2b", 90);
        ecdsa = TestCertificates.create(dir.resolve("ec.pem"), dir.resolve("ec.key"), KeyType.ECDSA, "wild",
                List.of("*.example.net"), "0c", 90);
        rsaLeaf = CertificateFiles.load(rsa.cert(), rsa.key()).leaf();
        ecdsaLeaf = CertificateFiles.load(ecdsa.cert(), ecdsa.key()).leaf();
    }

    @Test
    void aTlsListenerShowsItsProtocolsProviderAndEveryCertificate() throws Exception {
        FulcrumConfig.Listener web = config().listeners().getFirst();
        Instant now = rsaLeaf.getNotAfter().toInstant().minus(Duration.ofDays(20)).minusSeconds(3600);

        ListenerView view = ListenerView.of(web, List.of(rsaLeaf, ecdsaLeaf), () -> "BoringSSL", now);

        String notAfter = rsaLeaf.getNotAfter().toInstant().toString();
        String ecNotAfter = ecdsaLeaf.getNotAfter().toInstant().toString();
        long ecDays = Duration.between(now, ecdsaLeaf.getNotAfter().toInstant()).toDays();
        assertThat(Json.mapper().writeValueAsString(view)).isEqualTo(("""
                {"name":"web","listen":"127.0.0.1:8443","protocol":"http","protocols":["h2","http/1.1"],\
                "tls":{"provider":"BoringSSL","minVersion":"TLSv1.3","sniStrict":true,"clientCertificates":false,\
                "certificates":[\
                {"names":["example.com","www.example.com"],"serial":"1a2b","notAfter":"%s","daysLeft":20,\
                "expiring":false,"keyType":"RSA","keyBits":2048},\
                {"names":["*.example.net"],"serial":"c","notAfter":"%s","daysLeft":%d,\
                "expiring":false,"keyType":"ECDSA","keyBits":256}]}}""").formatted(notAfter, ecNotAfter, ecDays));
    }

    @Test
    void aCertificateIsExpiringWithinTheAlertsFourteenDaysAndCountsDownBelowZero() {
        Instant notAfter = rsaLeaf.getNotAfter().toInstant();
        assertThat(ListenerView.certificate(rsaLeaf, notAfter.minus(Duration.ofDays(14))))
                .extracting(ListenerView.CertificateView::daysLeft, ListenerView.CertificateView::expiring)
                .containsExactly(14L, false);
        assertThat(ListenerView.certificate(rsaLeaf, notAfter.minus(Duration.ofDays(14)).plusSeconds(1)))
                .extracting(ListenerView.CertificateView::daysLeft, ListenerView.CertificateView::expiring)
                .containsExactly(13L, true);
        assertThat(ListenerView.certificate(rsaLeaf, notAfter.plusSeconds(1)))
                .extracting(ListenerView.CertificateView::daysLeft, ListenerView.CertificateView::expiring)
                .containsExactly(-1L, true);
    }

    @Test
    void aPlainListenerHasNoTlsOffersH2cWithHttp2AndATcpListenerNoHttpProtocol() throws Exception {
        List<FulcrumConfig.Listener> listeners = config().listeners();
        ListenerView plain = ListenerView.of(listeners.get(1), List.of(), () -> {
            throw new AssertionError("the TLS engine is not asked for a listener without TLS");
        }, Instant.EPOCH);
        ListenerView h2c = ListenerView.of(listeners.get(2), List.of(), () -> "JDK", Instant.EPOCH);
        ListenerView raw = ListenerView.of(listeners.get(3), List.of(), () -> "JDK", Instant.EPOCH);

        assertThat(Json.mapper().writeValueAsString(plain)).isEqualTo("""
                {"name":"plain","listen":"127.0.0.1:8080","protocol":"http","protocols":["http/1.1"],"tls":null}""");
        assertThat(Json.mapper().writeValueAsString(h2c)).isEqualTo("""
                {"name":"plain-h2","listen":"127.0.0.1:8082","protocol":"http","protocols":["h2c","http/1.1"],"tls":null}""");
        assertThat(Json.mapper().writeValueAsString(raw)).isEqualTo("""
                {"name":"raw","listen":"127.0.0.1:8081","protocol":"tcp","protocols":[],"tls":null}""");
    }

    private static FulcrumConfig config() {
        return ConfigLoader.parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8443
                    pool: app
                    tls:
                      certificates:
                        - {cert: %s, key: %s}
                        - {cert: %s, key: %s}
                      min-version: TLSv1.3
                      sni-strict: true
                  - name: plain
                    listen: 127.0.0.1:8080
                    pool: app
                  - name: plain-h2
                    listen: 127.0.0.1:8082
                    pool: app
                    http2: true
                  - name: raw
                    listen: 127.0.0.1:8081
                    protocol: tcp
                    pool: app
                pools:
                  - name: app
                """.formatted(rsa.cert(), rsa.key(), ecdsa.cert(), ecdsa.key()), "listeners.yaml", Map.of());
    }
}
