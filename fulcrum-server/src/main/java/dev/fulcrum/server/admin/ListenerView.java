package dev.fulcrum.server.admin;

import dev.fulcrum.server.alert.CertificateExpiryAlerts;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.net.ListenerTls;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * One entry of {@code listeners} in {@code GET /api/v1/status}: a listener of the config in force,
 * the protocols a client may speak to it and, when it terminates TLS, the certificates new
 * handshakes get now (a reload whose files did not load keeps the old ones, and so does this
 * view). A pure function of the config entry, the certificates and the clock; Jackson writes the
 * components in declaration order. Immutable.
 *
 * @param protocol  the config's {@code protocol}: {@code http} or {@code tcp}
 * @param protocols what a client may speak: {@code h2} (TLS) or {@code h2c} (plain) when
 *                  {@code http2} is on, and {@code http/1.1}, for http; empty for tcp, which relays bytes
 * @param tls       null when the listener does not terminate TLS
 */
record ListenerView(String name, String listen, String protocol, List<String> protocols, TlsView tls) {

    /**
     * @param provider           the TLS engine, {@code BoringSSL} or {@code JDK}
     * @param minVersion         {@code TLSv1.2} or {@code TLSv1.3}
     * @param clientCertificates true when {@code client-ca} is set (clients must present a certificate)
     * @param certificates       in config order; the first is the default
     */
    record TlsView(String provider, String minVersion, boolean sniStrict, boolean clientCertificates,
                   List<CertificateView> certificates) {
    }

    /**
     * @param names    the SAN DNS names (else the CN): what SNI matches
     * @param serial   hex, as in {@code fulcrum_tls_certificate_expiry_seconds}
     * @param notAfter ISO-8601 UTC
     * @param daysLeft whole days until {@code notAfter}, rounded down; negative once expired
     * @param expiring true within the {@code FulcrumCertificateExpiring} alert's 14 days (or expired)
     * @param keyType  {@code RSA}, {@code ECDSA}, or the JDK's algorithm name for another key
     * @param keyBits  the RSA modulus or the EC field size; 0 for other keys
     */
    record CertificateView(List<String> names, String serial, String notAfter, long daysLeft, boolean expiring,
                           String keyType, int keyBits) {
    }

    /**
     * @param certificates the leaf certificates the running listener serves (empty without TLS)
     * @param provider     asked only for a TLS listener: the first ask loads the TLS engine
     */
    static ListenerView of(Listener listener, List<X509Certificate> certificates, Supplier<String> provider,
                           Instant now) {
        TlsView tls = listener.tls() == null ? null : new TlsView(provider.get(),
                listener.tls().minVersion().protocol(), listener.tls().sniStrict(), listener.tls().clientCa() != null,
                certificates.stream().map(leaf -> certificate(leaf, now)).toList());
        return new ListenerView(listener.name(), listener.listen().toString(),
                listener.protocol().name().toLowerCase(java.util.Locale.ROOT), protocols(listener), tls);
    }

    /**
     * What a client may speak to the listener, by ALPN name: HTTP/2 first when {@code http2} is on
     * ({@code h2} by ALPN over TLS, {@code h2c} by prior knowledge in plain text), then http/1.1.
     */
    static List<String> protocols(Listener listener) {
        if (listener.protocol() != Protocol.HTTP) {
            return List.of();
        }
        if (!listener.http2().enabled()) {
            return List.of("http/1.1");
        }
        return List.of(listener.tls() != null ? "h2" : "h2c", "http/1.1");
    }

    static CertificateView certificate(X509Certificate leaf, Instant now) {
        Instant notAfter = leaf.getNotAfter().toInstant();
        Duration left = Duration.between(now, notAfter);
        long days = Math.floorDiv(left.toSeconds(), Duration.ofDays(1).toSeconds());
        PublicKey key = leaf.getPublicKey();
        String type = switch (key) {
            case RSAPublicKey r -> "RSA";
            case ECPublicKey e -> "ECDSA";
            default -> key.getAlgorithm();
        };
        int bits = switch (key) {
            case RSAPublicKey r -> r.getModulus().bitLength();
            case ECPublicKey e -> e.getParams().getCurve().getField().getFieldSize();
            default -> 0;
        };
        return new CertificateView(ListenerTls.namesOf(leaf), leaf.getSerialNumber().toString(16), notAfter.toString(),
                days, left.compareTo(CertificateExpiryAlerts.WARNING) < 0, type, bits);
    }
}
