package dev.fulcrum.server.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The TLS engine listeners and pools (to their servers) use: BoringSSL through netty-tcnative
 * when its native library loads (faster handshakes, session tickets), else the JDK's. Chosen once per process and logged once,
 * with the reason in one line when it falls back.
 */
public final class TlsProvider {

    /**
     * TLS 1.2's AEAD suites with forward secrecy (ECDHE), then TLS 1.3's, which all qualify: what
     * listeners offer clients and what pools offer servers.
     */
    public static final List<String> AEAD_CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private static final Logger log = LoggerFactory.getLogger(TlsProvider.class);
    private static final SslProvider PROVIDER = choose();

    private TlsProvider() {
    }

    public static SslProvider get() {
        return PROVIDER;
    }

    /** The engine's name as operators know it: {@code BoringSSL} or {@code JDK}. */
    public static String displayName() {
        return PROVIDER == SslProvider.JDK ? "JDK" : "BoringSSL";
    }

    private static SslProvider choose() {
        if (OpenSsl.isAvailable()) {
            log.info("TLS provider: {} (netty-tcnative)", OpenSsl.versionString());
            return SslProvider.OPENSSL;
        }
        Throwable why = OpenSsl.unavailabilityCause();
        String reason = why == null ? "unknown" : String.valueOf(why.getMessage()).lines().findFirst().orElse("");
        log.warn("TLS provider: the JDK engine, because BoringSSL did not load: {}", reason);
        return SslProvider.JDK;
    }
}
