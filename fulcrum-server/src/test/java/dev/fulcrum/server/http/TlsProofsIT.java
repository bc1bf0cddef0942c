package dev.fulcrum.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.OpensslClient;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.Files;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What an operator's own tools see of a TLS listener of a real {@code fulcrum run} (the shaded jar,
 * so BoringSSL): {@code openssl s_client -servername} gets the exact, wildcard or default
 * certificate, RSA or ECDSA; {@code -sess_out}/{@code -sess_in} resumes TLS 1.2 and TLS 1.3
 * sessions; {@code sslscan} finds only TLS 1.2 and 1.3, AEAD suites with forward secrecy and no
 * known weakness; and {@code GET /api/v1/status} lists the certificates served.
 */
class TlsProofsIT {

    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    private static TestBackend backend;
    private static FulcrumProcess fulcrum;
    private static int port;
    private static int admin;

    @BeforeAll
    static void start() throws Exception {
        // the wildcard is listed before the exact name, so "exact before wildcard" is not list order
        Files byDefault = TestCertificates.create(dir, "default", KeyType.RSA, "default.test",
                List.of("default.test"), "01");
        Files wildcard = TestCertificates.create(dir, "wildcard", KeyType.ECDSA, "wildcard.example.net",
                List.of("*.example.net"), "02");
        Files exact = TestCertificates.create(dir, "exact", KeyType.RSA, "api.example.net",
                List.of("api.example.net"), "03");
        backend = TestBackend.start("a");
        admin = Loopback.freePort();
        port = Loopback.freePort();
        Path file = dir.resolve("fulcrum.yaml");
        java.nio.file.Files.writeString(file, """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    pool: one
                    tls:
                      certificates:
                        - {cert: %s, key: %s}
                        - {cert: %s, key: %s}
                        - {cert: %s, key: %s}
                pools:
                  - name: one
                    servers: [{address: %s}]
                    health-check: {type: none}
                """.formatted(admin, port, byDefault.cert(), byDefault.key(), wildcard.cert(), wildcard.key(),
                exact.cert(), exact.key(), backend.address()));
        fulcrum = FulcrumProcess.start("tls-proofs", List.of("-Xmx256m"), "run", "-c", file.toString());
        fulcrum.awaitPort(port, BOUND);
    }

    @AfterAll
    static void stop() throws Exception {
        if (fulcrum != null) {
            fulcrum.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /**
     * @param sni  the name s_client sends; "-" sends none ({@code -noservername})
     * @param cn   the subject s_client prints
     * @param type s_client's "Peer signature type": ECDSA, or RSA-PSS for an RSA key
     */
    @ParameterizedTest(name = "SNI {0} gets serial {1}")
    @CsvSource({
            "api.example.net, 3, api.example.net, RSA-PSS",      // exact, though the wildcard comes first
            "www.example.net, 2, wildcard.example.net, ECDSA",   // wildcard
            "API.Example.NET, 3, api.example.net, RSA-PSS",      // names compare without case
            "a.b.example.net, 1, default.test, RSA-PSS",         // a wildcard covers one label only
            "unknown.test, 1, default.test, RSA-PSS",            // no match: the default
            "-, 1, default.test, RSA-PSS",                       // no SNI: the default
    })
    void sniPicksTheExactNameThenTheWildcardThenTheDefault(String sni, int serial, String cn, String type)
            throws Exception {
        String out = sni.equals("-") ? OpensslClient.request(port, "-noservername")
                : OpensslClient.request(port, "-servername", sni);

        X509Certificate leaf = OpensslClient.leaf(out);
        assertThat(leaf.getSerialNumber().intValueExact()).as(out).isEqualTo(serial);
        assertThat(out).contains("subject=CN = " + cn + "\n", "Peer signature type: " + type + "\n",
                "Verify return code: 18 (self-signed certificate)", "HTTP/1.1 200 OK", "server a");
    }

    /** For TLS 1.3 the ticket comes after the handshake: the request, read to the end, lets it arrive. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void openSslResumesTheSessionItSaved(String version) throws Exception {
        String flag = version.equals("TLSv1.2") ? "-tls1_2" : "-tls1_3";
        Path session = dir.resolve("session-" + version);

        String first = OpensslClient.request(port, flag, "-servername", "www.example.net", "-sess_out",
                session.toString());
        String second = OpensslClient.request(port, flag, "-servername", "www.example.net", "-sess_in",
                session.toString());

        assertThat(first).contains("New, " + version + ", Cipher is ", "server a");
        assertThat(java.nio.file.Files.size(session)).as("the saved session").isPositive();
        assertThat(second).as(second).contains("Reused, " + version + ", Cipher is ", "HTTP/1.1 200 OK", "server a");
    }

    /**
     * sslscan for the default (RSA) and a wildcard name (ECDSA): protocols, every accepted suite, and
     * its weakness checks. Compression: Debian's sslscan cannot probe it (its OpenSSL has no zlib,
     * and it says so), and BoringSSL has no TLS compression to offer; the test holds it to saying
     * nothing worse.
     */
    @ParameterizedTest(name = "SNI {0}")
    @ValueSource(strings = {"default.test", "www.example.net"})
    void sslscanFindsTls12And13OnlyAeadWithForwardSecrecyAndNoWeakness(String sni) throws Exception {
        assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/bin/sslscan")),
                "sslscan is not installed (Debian package sslscan)");
        Document xml = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(
                run("sslscan", "--no-colour", "--sni-name=" + sni, "--xml=-", "127.0.0.1:" + port)
                        .getBytes(StandardCharsets.UTF_8)));

        Map<String, String> protocols = new TreeMap<>();
        for (Element p : elements(xml, "protocol")) {
            protocols.put(p.getAttribute("type") + p.getAttribute("version"), p.getAttribute("enabled"));
        }
        assertThat(protocols).containsExactlyInAnyOrderEntriesOf(Map.of("ssl2", "0", "ssl3", "0", "tls1.0", "0",
                "tls1.1", "0", "tls1.2", "1", "tls1.3", "1"));

        List<String> suites = elements(xml, "cipher").stream()
                .map(c -> c.getAttribute("sslversion") + " " + c.getAttribute("cipher")).toList();
        assertThat(suites).isNotEmpty().allSatisfy(suite -> assertThat(suite).matches(
                // TLS 1.3 suites are all AEAD with (EC)DHE; TLS 1.2 ones must be ECDHE + GCM or ChaCha20-Poly1305
                "TLSv1\\.3 TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)"
                        + "|TLSv1\\.2 ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)"));
        assertThat(suites).anyMatch(s -> s.startsWith("TLSv1.2 ECDHE-" + (sni.equals("default.test") ? "RSA" : "ECDSA")));
        assertThat(elements(xml, "cipher")).allSatisfy(c -> assertThat(c.getAttribute("strength"))
                .isIn("strong", "acceptable"));

        assertThat(elements(xml, "heartbleed")).isNotEmpty()
                .allSatisfy(h -> assertThat(h.getAttribute("vulnerable")).isEqualTo("0"));
        Element renegotiation = elements(xml, "renegotiation").getFirst();
        assertThat(renegotiation.getAttribute("supported").equals("0") || renegotiation.getAttribute("secure")
                .equals("1")).as("no insecure renegotiation").isTrue();
        assertThat(elements(xml, "compression")).allSatisfy(c -> assertThat(c.getAttribute("supported")).isEqualTo("0"));

        String text = run("sslscan", "--no-colour", "--sni-name=" + sni, "127.0.0.1:" + port);
        assertThat(text).contains("Server supports TLS Fallback SCSV", "Session renegotiation not supported")
                .doesNotContain("Compression enabled", "Insecure session renegotiation")
                .doesNotContainPattern("TLSv1\\.\\d vulnerable to heartbleed");
    }

    /** {@code GET /api/v1/status} lists the three certificates as served, with the engine in use. */
    @Test
    void statusListsTheCertificatesServed() throws Exception {
        JsonNode listener;
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> status = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/api/v1/status")).timeout(BOUND).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(status.statusCode()).isEqualTo(200);
            listener = new ObjectMapper().readTree(status.body()).get("listeners").get(0);
        }
        assertThat(listener.get("name").asText()).isEqualTo("web");
        assertThat(listener.get("protocols").toString()).as("http2 is on by default with tls").isEqualTo("[\"h2\",\"http/1.1\"]");
        JsonNode tls = listener.get("tls");
        assertThat(tls.get("provider").asText()).isEqualTo("BoringSSL");
        assertThat(tls.get("minVersion").asText()).isEqualTo("TLSv1.2");
        List<String> certificates = new ArrayList<>();
        for (JsonNode c : tls.get("certificates")) {
            certificates.add(c.get("names").get(0).asText() + " " + c.get("serial").asText() + " "
                    + c.get("keyType").asText() + " " + c.get("keyBits").asInt() + " " + c.get("daysLeft").asInt()
                    + " " + c.get("expiring").asBoolean());
        }
        // TestCertificates makes 2-day certificates: inside the alert's 14 days
        assertThat(certificates).containsExactly("default.test 1 RSA 2048 1 true",
                "*.example.net 2 ECDSA 256 1 true", "api.example.net 3 RSA 2048 1 true");
    }

    private static List<Element> elements(Document xml, String tag) {
        NodeList nodes = xml.getElementsByTagName(tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    /** A tool's stdout, bounded in time (coreutils' timeout); it must exit 0. */
    private static String run(String... tool) throws Exception {
        List<String> command = new ArrayList<>(List.of("timeout", "--kill-after=5", "60"));
        command.addAll(List.of(tool));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command) + " ends").isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
