package dev.fulcrum.server.tls;

import io.netty.handler.ssl.SslHandshakeTimeoutException;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;

/**
 * A TLS handshake with a server that failed, with the reason in one line an operator can act on
 * ("certificate does not match 127.0.0.1"), taken from whichever engine failed it (BoringSSL or
 * the JDK's, whose messages differ). A connect failure like any other for retries and outlier
 * detection. The reason never quotes the server's bytes, only the engines' own words.
 */
public final class HandshakeFailure extends IOException {

    /** The reason when a server of an h2 pool did not choose {@code h2} by ALPN. */
    public static final String NO_H2 = "server did not agree to h2 by ALPN";

    private HandshakeFailure(String reason, Throwable cause) {
        super(reason, cause);
    }

    /**
     * @param cause what the handshake future failed with
     * @param name  the name (or IP address) the certificate was verified against
     * @param ca    what the chain was verified against, for the message
     */
    public static HandshakeFailure of(Throwable cause, String name, String ca) {
        return new HandshakeFailure(reason(cause, name, ca), cause);
    }

    /** A handshake that completed without the server choosing {@code h2} by ALPN, on an h2 pool. */
    public static HandshakeFailure noH2() {
        return new HandshakeFailure(NO_H2, null);
    }

    /** The TLS error in {@code cause}'s chain (a decoder wraps the engine's), or null when it is none. */
    public static SSLException tlsError(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException ssl) {
                return ssl;
            }
        }
        return null;
    }

    static String reason(Throwable cause, String name, String ca) {
        if (cause instanceof SslHandshakeTimeoutException) {
            return "no TLS handshake within the connect timeout";
        }
        StringBuilder all = new StringBuilder();
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException) {
                return "certificate has expired";
            }
            if (t instanceof CertificateNotYetValidException) {
                return "certificate is not valid yet";
            }
            all.append(' ').append(t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        String text = all.toString().toLowerCase(Locale.ROOT);
        if (text.contains("no subject alternative") || text.contains("no name matching")
                || text.contains("hostname") || text.contains("ip address") || text.contains("does not match")) {
            return "certificate does not match " + name;
        }
        if (text.contains("pkix") || text.contains("certification path") || text.contains("unable to get local issuer")
                || text.contains("self signed") || text.contains("self-signed") || text.contains("certificate_verify_failed")
                || text.contains("not trusted")) {
            return "certificate is not trusted (not signed by " + ca + ")";
        }
        if (text.contains("certificate_required")) {
            return "the server requires a client certificate (tls cert and key)";
        }
        if (text.contains("bad_certificate") || text.contains("unknown_ca") || text.contains("certificate_unknown")
                || text.contains("access_denied")) {
            return "the server refused Fulcrum's client certificate (" + firstLine(cause) + ")";
        }
        if (text.contains("no_application_protocol") || text.contains("no application protocol")) {
            return NO_H2; // a server that knows ALPN and not h2 may refuse with this alert (RFC 7301 3.2)
        }
        if (text.contains("expired")) {
            return "certificate has expired";
        }
        if (text.contains("handshake_failure") || text.contains("alert")) {
            return "the server refused the handshake (" + firstLine(cause) + ")";
        }
        if (cause instanceof SSLException || cause instanceof IOException) {
            return "TLS handshake failed (" + firstLine(cause) + ")";
        }
        return "TLS handshake failed (" + cause + ")";
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.lines().findFirst().orElse("").strip();
    }
}
