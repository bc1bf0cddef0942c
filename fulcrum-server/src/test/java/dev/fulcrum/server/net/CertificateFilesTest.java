package dev.fulcrum.server.net;

import dev.fulcrum.server.config.CertificateFiles;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.Files;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CertificateFilesTest {

    @TempDir
    static Path dir;
    private static Files rsa;
    private static Files ecdsa;

    @BeforeAll
    static void makeCertificates() throws Exception {
        rsa = TestCertificates.create(dir, "rsa", KeyType.RSA, "rsa.test", List.of("rsa.test", "*.rsa.test"), "0a");
        ecdsa = TestCertificates.create(dir, "ec", KeyType.ECDSA, "ec.test", List.of(), "0b");
    }

    @Test
    void loadsRsaAndEcdsaPairs() throws Exception {
        assertThat(CertificateFiles.load(rsa.cert(), rsa.key()).leaf().getSerialNumber().intValue()).isEqualTo(10);
        assertThat(CertificateFiles.problem(ecdsa.cert(), ecdsa.key())).isEmpty();
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedNamingTheFile() throws Exception {
        Files other = TestCertificates.create(dir, "other", KeyType.RSA, "other.test", List.of(), "0c");
        assertThat(CertificateFiles.problem(rsa.cert(), other.key()))
                .hasValue(other.key() + ": is not the key of the certificate in " + rsa.cert());
        assertThat(CertificateFiles.problem(rsa.cert(), ecdsa.key())).get().asString()
                .startsWith(ecdsa.key() + ": not a RSA key like its certificate's");
    }

    @Test
    void aFileThatIsNotPemIsRefused() throws Exception {
        assertThat(CertificateFiles.problem(rsa.key(), rsa.key())).get().asString()
                .startsWith(rsa.key() + ": ");
        assertThat(CertificateFiles.problem(rsa.cert(), rsa.cert())).get().asString()
                .startsWith(rsa.cert() + ": not a PKCS#8 PEM key");
        assertThat(CertificateFiles.problem(dir.resolve("none.pem"), rsa.key()))
                .hasValue(dir.resolve("none.pem") + ": no such file");
    }

    @Test
    void namesAreTheSanDnsNamesElseTheCn() throws Exception {
        assertThat(ListenerCertificates.names(CertificateFiles.load(rsa.cert(), rsa.key()).leaf()))
                .containsExactly("rsa.test", "*.rsa.test");
        assertThat(ListenerCertificates.names(CertificateFiles.load(ecdsa.cert(), ecdsa.key()).leaf()))
                .containsExactly("ec.test");
    }
}
