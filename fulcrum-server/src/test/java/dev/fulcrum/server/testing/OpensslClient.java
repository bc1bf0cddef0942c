package dev.fulcrum.server.testing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code openssl s_client} as an operator runs it against a listener on 127.0.0.1: one connection
 * that sends one HTTP/1.1 request with {@code Connection: close} and, with {@code -ign_eof}, reads
 * until the server closes — so what arrives after the handshake (TLS 1.3 session tickets) arrives
 * too. Bounded in time; stateless.
 */
public final class OpensslClient {

    public static final String REQUEST = "GET / HTTP/1.1\r\nHost: fulcrum\r\nConnection: close\r\n\r\n";

    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----");
    private static final long BOUND_SECONDS = 20;

    private OpensslClient() {
    }

    /** The output (stdout and stderr) of {@code openssl s_client -connect 127.0.0.1:PORT -ign_eof OPTIONS}. */
    public static String request(int port, String... options) throws IOException, InterruptedException {
        // coreutils' timeout bounds it even when the server never closes (readAllBytes would wait forever)
        List<String> command = new ArrayList<>(List.of("timeout", "--kill-after=5", Long.toString(BOUND_SECONDS),
                "openssl", "s_client", "-connect", "127.0.0.1:" + port, "-ign_eof"));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            p.getOutputStream().write(REQUEST.getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().close();
            // read on this thread: the output is small, and the server closes after its answer
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() == 124) {
                throw new IOException(String.join(" ", command) + " did not end: " + out);
            }
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    /** The server certificate s_client printed ("Server certificate" block). */
    public static X509Certificate leaf(String output) throws GeneralSecurityException {
        Matcher m = PEM.matcher(output);
        if (!m.find()) {
            throw new IllegalArgumentException("no certificate in the s_client output: " + output);
        }
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(m.group().getBytes(StandardCharsets.US_ASCII)));
    }
}
