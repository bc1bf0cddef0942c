package dev.fulcrum.server.testing;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Self-signed certificates made with the {@code openssl} CLI, PEM files with a PKCS#8 key, as an
 * operator would make them: RSA or ECDSA (P-256), a chosen serial, SAN DNS names or a CN only.
 */
public final class TestCertificates {

    public enum KeyType { RSA, ECDSA }

    /** The files of one certificate. */
    public record Files(Path cert, Path key) {
    }

    private TestCertificates() {
    }

    /**
     * @param dnsNames SAN DNS names; empty = a certificate with the CN {@code cn} and no SAN
     * @param serial   hex serial, to tell certificates apart from the client side
     */
    public static Files create(Path dir, String fileName, KeyType type, String cn, List<String> dnsNames,
                               String serial) throws IOException, InterruptedException {
        return create(dir.resolve(fileName + ".pem"), dir.resolve(fileName + ".key"), type, cn, dnsNames, serial);
    }

    /** A valid pair at the given paths (ECDSA, quick to make): for configs that only need files that load. */
    public static Files create(Path cert, Path key) throws IOException, InterruptedException {
        return create(cert, key, KeyType.ECDSA, "localhost", List.of("localhost"), "01");
    }

    public static Files create(Path cert, Path key, KeyType type, String cn, List<String> dnsNames, String serial)
            throws IOException, InterruptedException {
        return create(cert, key, type, cn, dnsNames, serial, 2);
    }

    /** @param days how long the certificate is valid from now (2 elsewhere: inside the 14 days that warn) */
    public static Files create(Path cert, Path key, KeyType type, String cn, List<String> dnsNames, String serial,
                               int days) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl", "req", "-x509", "-nodes", "-days",
                Integer.toString(days),
                "-subj", "/CN=" + cn, "-set_serial", "0x" + serial, "-keyout", key.toString(), "-out", cert.toString()));
        command.addAll(type == KeyType.RSA ? List.of("-newkey", "rsa:2048")
                : List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"));
        if (!dnsNames.isEmpty()) {
            command.addAll(List.of("-addext", "subjectAltName=" + String.join(",",
                    dnsNames.stream().map(n -> "DNS:" + n).toList())));
        }
        run(command);
        return new Files(cert, key);
    }

    /**
     * A self-signed ECDSA certificate (its own CA) with the subjectAltName {@code san} as openssl
     * writes it ({@code IP:127.0.0.1,DNS:backend.test}): for servers verified by IP or name.
     */
    public static Files withSubjectAltName(Path dir, String fileName, String cn, String san)
            throws IOException, InterruptedException {
        Path cert = dir.resolve(fileName + ".pem");
        Path key = dir.resolve(fileName + ".key");
        run(List.of("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=" + cn, "-set_serial", "0x01",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", key.toString(),
                "-out", cert.toString(), "-addext", "subjectAltName=" + san));
        return new Files(cert, key);
    }

    /**
     * A client certificate (ECDSA) with subject {@code subject} ({@code /CN=client-1/O=Example}) signed
     * by {@code ca}, and a PKCS#12 store of it with the password {@code changeit} for a JDK client.
     *
     * @return the PKCS#12 file
     */
    public static Path clientCertificate(Path dir, String fileName, Files ca, String subject)
            throws IOException, InterruptedException {
        Path key = dir.resolve(fileName + ".key");
        Path csr = dir.resolve(fileName + ".csr");
        Path cert = dir.resolve(fileName + ".pem");
        Path store = dir.resolve(fileName + ".p12");
        run(List.of("openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-subj", subject, "-keyout", key.toString(), "-out", csr.toString()));
        run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", ca.cert().toString(), "-CAkey",
                ca.key().toString(), "-set_serial", "0x10", "-days", "2", "-out", cert.toString()));
        run(List.of("openssl", "pkcs12", "-export", "-in", cert.toString(), "-inkey", key.toString(), "-out",
                store.toString(), "-passout", "pass:changeit"));
        return store;
    }

    /**
     * A certificate (ECDSA) with subject {@code subject} signed by {@code ca}, with the
     * subjectAltName {@code san} as openssl writes it ({@code IP:127.0.0.1}), or none when null:
     * a server's or a client's, as an operator's own CA issues them.
     */
    public static Files signed(Path dir, String fileName, Files ca, String subject, String san)
            throws IOException, InterruptedException {
        Path key = dir.resolve(fileName + ".key");
        Path csr = dir.resolve(fileName + ".csr");
        Path cert = dir.resolve(fileName + ".pem");
        List<String> request = new ArrayList<>(List.of("openssl", "req", "-new", "-nodes", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj", subject, "-keyout", key.toString(),
                "-out", csr.toString()));
        if (san != null) {
            request.addAll(List.of("-addext", "subjectAltName=" + san));
        }
        run(request);
        run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", ca.cert().toString(), "-CAkey",
                ca.key().toString(), "-set_serial", "0x11", "-days", "2", "-copy_extensions", "copyall",
                "-out", cert.toString()));
        return new Files(cert, key);
    }

    /**
     * A client's TLS context that trusts any server: the tests' certificates are self-signed, and
     * they check which certificate they got themselves.
     *
     * @param keys the client's own certificate, or null for none
     */
    public static SSLContext trustingClient(KeyManager[] keys) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, new TrustManager[]{new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    /** Runs openssl, failing with its output when it does not exit 0. */
    public static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }
}
