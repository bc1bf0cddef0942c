package dev.fulcrum.server.net;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS engine listeners use: BoringSSL through netty-tcnative when its native library loads
 * (faster handshakes, session tickets), else the JDK's. Chosen once per process and logged once,
 * with the reason in one line when it falls back.
 */
final class TlsProvider {

    private static final Logger log = LoggerFactory.getLogger(TlsProvider.class);
    private static final SslProvider PROVIDER = choose();

    private TlsProvider() {
    }

    static SslProvider get() {
        return PROVIDER;
    }

    /** The engine's name as operators know it: {@code BoringSSL} or {@code JDK}. */
    static String displayName() {
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
