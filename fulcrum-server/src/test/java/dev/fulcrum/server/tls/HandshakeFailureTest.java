package dev.fulcrum.server.tls;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one-line reasons of failed handshakes, from the words of either engine (the JDK's and
 * BoringSSL's through Netty); the IT sees the real ones, this pins the mapping.
 */
class HandshakeFailureTest {

    private static String reason(Throwable cause) {
        return HandshakeFailure.of(cause, "api.internal", "the pool's ca").getMessage();
    }

    private static Throwable wrapped(String message) {
        return new SSLHandshakeException("General SSLEngine problem").initCause(new CertificateException(message));
    }

    @Test
    void aNameMismatchNamesTheNameVerified() {
        assertThat(reason(wrapped("No subject alternative DNS name matching api.internal found.")))
                .isEqualTo("certificate does not match api.internal");
        assertThat(reason(wrapped("No subject alternative names matching IP address 127.0.0.1 found")))
                .isEqualTo("certificate does not match api.internal");
    }

    @Test
    void anUntrustedChainNamesWhatItWasVerifiedAgainst() {
        assertThat(reason(wrapped("PKIX path building failed: unable to find valid certification path")))
                .isEqualTo("certificate is not trusted (not signed by the pool's ca)");
        assertThat(reason(new SSLHandshakeException("error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED")))
                .isEqualTo("certificate is not trusted (not signed by the pool's ca)");
    }

    @Test
    void expiryAndTimeoutAreSaidPlainly() {
        assertThat(reason(new SSLHandshakeException("x").initCause(new CertificateExpiredException("NotAfter: ..."))))
                .isEqualTo("certificate has expired");
        assertThat(reason(new SslHandshakeTimeoutException("handshake timed out after 2000ms")))
                .isEqualTo("no TLS handshake within the connect timeout");
    }

    @Test
    void anAlertFromTheServerIsARefusal() {
        assertThat(reason(new SSLHandshakeException("Received fatal alert: certificate_required")))
                .isEqualTo("the server requires a client certificate (tls cert and key)");
        assertThat(reason(new SSLHandshakeException("error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA")))
                .isEqualTo("the server refused Fulcrum's client certificate"
                        + " (error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA)");
        assertThat(reason(new SSLHandshakeException("Received fatal alert: protocol_version")))
                .isEqualTo("the server refused the handshake (Received fatal alert: protocol_version)");
        assertThat(reason(new SSLHandshakeException("Received fatal alert: no_application_protocol")))
                .isEqualTo("server did not agree to h2 by ALPN");
        assertThat(reason(new SSLHandshakeException(
                "error:10000460:SSL routines:OPENSSL_internal:TLSV1_ALERT_NO_APPLICATION_PROTOCOL")))
                .isEqualTo("server did not agree to h2 by ALPN");
        assertThat(reason(new SSLHandshakeException("something else")))
                .isEqualTo("TLS handshake failed (something else)");
    }
}
