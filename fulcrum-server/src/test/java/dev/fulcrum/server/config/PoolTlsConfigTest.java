package dev.fulcrum.server.config;

import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A pool's {@code tls} (to the servers), with its {@code protocol}, and {@code max-requests-per-connection}:
 * defaults, and every mistake at its line, as {@code fulcrum validate} prints it.
 */
class PoolTlsConfigTest {

    private static final String HEAD = """
            listeners:
              - name: web
                listen: 127.0.0.1:8080
                pool: api
            pools:
              - name: api
            """;

    @TempDir
    static Path dir;
    private static TestCertificates.Files a;
    private static TestCertificates.Files b;

    @BeforeAll
    static void certificates() throws Exception {
        a = TestCertificates.create(dir.resolve("a.pem"), dir.resolve("a.key"));
        b = TestCertificates.create(dir.resolve("b.pem"), dir.resolve("b.key"));
    }

    private static PoolConfig pool(String yaml) {
        return ConfigLoader.parse(yaml, "fulcrum.yaml", Map.of()).pool("api");
    }

    private static void assertErrors(String yaml, String... expected) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "fulcrum.yaml", Map.of()));
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(expected);
    }

    @Test
    void withoutTheKeysAPoolIsPlainHttp11WithoutALimit() {
        PoolConfig pool = pool(HEAD);
        assertThat(pool.protocol()).isEqualTo(UpstreamProtocol.HTTP_1_1);
        assertThat(pool.tls()).isNull();
        assertThat(pool.maxRequestsPerConnection()).isZero();
    }

    @Test
    void anEmptyTlsSectionVerifiesAgainstTheSystemStoreByTheServersHost() {
        PoolConfig pool = pool(HEAD + """
                    protocol: http/1.1
                    tls: {}
                    max-requests-per-connection: 2
                """);
        assertThat(pool.tls()).isEqualTo(ServerTls.DEFAULT);
        assertThat(pool.tls().verify()).isTrue();
        assertThat(pool.maxRequestsPerConnection()).isEqualTo(2);
    }

    @Test
    void everyTlsKeyIsRead() {
        PoolConfig pool = pool(HEAD + """
                    tls:
                      ca: %s
                      server-name: API.internal
                      cert: %s
                      key: %s
                      verify: false
                """.formatted(b.cert(), a.cert(), a.key()));
        assertThat(pool.tls()).isEqualTo(new ServerTls(b.cert(), "api.internal", a.cert(), a.key(), false));
    }

    @Test
    void h2WithoutATlsSectionIsTlsVerifiedByTheSystemStore() {
        PoolConfig pool = pool(HEAD + """
                    protocol: h2
                    max-requests-per-connection: 3
                """);
        assertThat(pool.protocol()).isEqualTo(UpstreamProtocol.H2);
        assertThat(pool.tls()).as("h2 is TLS by definition").isEqualTo(ServerTls.DEFAULT);
        assertThat(pool.maxRequestsPerConnection()).isEqualTo(3);
    }

    @Test
    void h2TakesItsTlsSection() {
        PoolConfig pool = pool(HEAD + """
                    protocol: h2
                    tls: {ca: %s, server-name: grpc.internal}
                """.formatted(b.cert()));
        assertThat(pool.protocol()).isEqualTo(UpstreamProtocol.H2);
        assertThat(pool.tls()).isEqualTo(new ServerTls(b.cert(), "grpc.internal", null, null, true));
    }

    @Test
    void h2cDoesNotGoWithTlsAndAnUnknownProtocolIsNamed() {
        assertErrors(HEAD + """
                    protocol: h2c
                    tls: {}
                  - name: other
                    protocol: spdy
                """,
                "fulcrum.yaml:7:5: pools[0].protocol: pool api: h2c is HTTP/2 in plain text, but the pool has tls;"
                        + " use h2 for HTTP/2 over TLS",
                "fulcrum.yaml:10:5: pools[1].protocol: unknown value \"spdy\"; expected one of http/1.1, h2c, h2");
    }

    @Test
    void aTcpListenerRefusesAnH2Pool() {
        assertErrors("""
                listeners:
                  - name: db
                    listen: 127.0.0.1:5432
                    protocol: tcp
                    pool: api
                pools:
                  - name: api
                    protocol: h2
                """,
                "fulcrum.yaml:5:5: listeners[0].pool: pool \"api\" has tls, but tcp listeners relay bytes and do"
                        + " not originate TLS; use an http listener, or let the servers speak TLS to the clients"
                        + " through a pool without tls");
    }

    @Test
    void tlsFilesAreCheckedAtTheirLines() throws Exception {
        Path missing = dir.resolve("missing.pem");
        Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
        assertErrors(HEAD + """
                    tls:
                      ca: %s
                      cert: %s
                      key: %s
                      verify: maybe
                      server-name: "bad name"
                      sni: x
                """.formatted(notPem, missing, a.key()),
                "fulcrum.yaml:8:7: pools[0].tls.ca: " + notPem + ": not a PEM certificate (No certificate data found)",
                "fulcrum.yaml:9:7: pools[0].tls.cert: cannot read " + missing + ": no such file",
                "fulcrum.yaml:11:7: pools[0].tls.verify: expected true or false, got \"maybe\"",
                "fulcrum.yaml:12:7: pools[0].tls.server-name: " + hostProblem("bad name"),
                "fulcrum.yaml:13:7: pools[0].tls.sni: unknown key; expected one of ca, server-name, cert, key, verify");
    }

    @Test
    void aClientCertificateNeedsBothFilesAndTheRightKey() {
        assertErrors(HEAD + """
                    tls:
                      cert: %s
                  - name: other
                    tls:
                      cert: %s
                      key: %s
                """.formatted(a.cert(), a.cert(), b.key()),
                "fulcrum.yaml:7:5: pools[0].tls.key: a client certificate needs both cert and key; key is missing",
                "fulcrum.yaml:12:7: pools[1].tls.key: " + b.key() + ": is not the key of the certificate in "
                        + a.cert());
    }

    @Test
    void maxRequestsPerConnectionIsNotNegative() {
        assertErrors(HEAD + """
                    max-requests-per-connection: -1
                """,
                "fulcrum.yaml:7:5: pools[0].max-requests-per-connection: -1 is out of range; expected at least 0");
    }

    @Test
    void aTcpListenerRefusesAPoolWithTls() {
        assertErrors("""
                listeners:
                  - name: db
                    listen: 127.0.0.1:5432
                    protocol: tcp
                    pool: api
                pools:
                  - name: api
                    tls: {}
                """,
                "fulcrum.yaml:5:5: listeners[0].pool: pool \"api\" has tls, but tcp listeners relay bytes and do"
                        + " not originate TLS; use an http listener, or let the servers speak TLS to the clients"
                        + " through a pool without tls");
    }

    @Test
    void dsrAndTheAutoScalerRefuseAPoolWithTls() {
        assertErrors(HEAD + """
                    tls: {}
                autoscale:
                  - pool: api
                    metric: {path: /metrics, name: cpu}
                    scale-out-above: 0.8
                    scale-in-below: 0.2
                    provisioner: {type: exec, scale-out: [a], scale-in: [b]}
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: api
                """,
                "fulcrum.yaml:9:5: autoscale[0].pool: pool \"api\" has tls, but the auto-scaler scrapes its metric"
                        + " from the servers over plain HTTP (not built over TLS yet)",
                "fulcrum.yaml:17:3: dsr.pool: pool \"api\" has tls, but dsr forwards packets to the servers as they"
                        + " come and does not originate TLS");
    }

    private static String hostProblem(String host) {
        return dev.fulcrum.core.HostPort.hostProblem(host);
    }
}
