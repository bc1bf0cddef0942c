package dev.fulcrum.server.config;

import dev.fulcrum.server.io.BoundedFile;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One certificate's PEM files read and checked together: the chain parses, the key is PKCS#8 (what
 * Netty reads without BouncyCastle) and signs what the leaf's public key verifies, so a key swapped
 * for another certificate's is refused at load rather than failing every handshake. Files are read
 * with {@link BoundedFile}. Stateless; safe from any thread.
 */
public final class CertificateFiles {

    private static final Pattern KEY = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    /** The parsed chain (leaf first), its key, and the raw bytes Netty's context builder reads again. */
    public record Loaded(List<X509Certificate> chain, PrivateKey key, byte[] certPem, byte[] keyPem) {
        public X509Certificate leaf() {
            return chain.getFirst();
        }
    }

    private CertificateFiles() {
    }

    /** Why the pair does not load, in one line naming the file, or empty when it does. */
    public static Optional<String> problem(Path cert, Path key) {
        try {
            load(cert, key);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Why a {@code client-ca} bundle does not load (no PEM certificate in it), or empty when it does. */
    public static Optional<String> caProblem(Path bundle) {
        try {
            chain(bundle, read(bundle));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** @throws IOException with one line naming the file and the reason */
    public static Loaded load(Path cert, Path key) throws IOException {
        byte[] certPem = read(cert);
        byte[] keyPem = read(key);
        List<X509Certificate> chain = chain(cert, certPem);
        PrivateKey privateKey = privateKey(key, keyPem, chain.getFirst().getPublicKey().getAlgorithm());
        if (!matches(privateKey, chain.getFirst())) {
            throw new IOException(key + ": is not the key of the certificate in " + cert);
        }
        return new Loaded(chain, privateKey, certPem, keyPem);
    }

    private static List<X509Certificate> chain(Path file, byte[] pem) throws IOException {
        List<X509Certificate> chain;
        try {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))
                    .stream().map(X509Certificate.class::cast).toList();
        } catch (GeneralSecurityException e) {
            throw new IOException(file + ": not a PEM certificate (" + firstLine(e) + ")");
        }
        if (chain.isEmpty()) {
            throw new IOException(file + ": no certificate in it");
        }
        return chain;
    }

    private static PrivateKey privateKey(Path file, byte[] pem, String algorithm) throws IOException {
        Matcher m = KEY.matcher(new String(pem, StandardCharsets.US_ASCII));
        if (!m.find()) {
            throw new IOException(file + ": not a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----);"
                    + " convert one with openssl pkcs8 -topk8 -nocrypt");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(m.group(1));
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(file + ": not a " + algorithm + " key like its certificate's (" + firstLine(e) + ")");
        }
    }

    /** Signs random bytes and verifies them with the leaf's public key: true only for the pair. */
    private static boolean matches(PrivateKey key, X509Certificate leaf) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static byte[] read(Path file) throws IOException {
        try {
            return BoundedFile.read(file, FulcrumConfig.Tls.MAX_PEM_BYTES);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static String firstLine(Exception e) {
        return String.valueOf(e.getMessage()).lines().findFirst().orElse("").strip();
    }
}
