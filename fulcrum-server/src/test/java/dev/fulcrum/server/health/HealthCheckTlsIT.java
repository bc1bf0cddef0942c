package dev.fulcrum.server.health;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.RegistryEvent;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TlsBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Health checks of a pool with {@code tls} speak TLS, verified like the data path: an {@code http}
 * check sends its request over TLS, a {@code tcp} check passes when the handshake completes, and a
 * certificate the pool does not trust (a reload changed the CA) takes the server down.
 */
class HealthCheckTlsIT {

    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    private static TestCertificates.Files backendCert;
    private static TestCertificates.Files otherCert;

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();
    private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();
    private HealthChecker checker;

    @BeforeAll
    static void certificates() throws Exception {
        backendCert = TestCertificates.withSubjectAltName(dir, "backend", "backend", "IP:127.0.0.1");
        otherCert = TestCertificates.withSubjectAltName(dir, "other", "other", "DNS:other.test");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private static PoolConfig pool(CheckType type, TlsBackend backend, Path ca) {
        PoolConfig plain = Pools.pool("app", Pools.check(type, 1000, 900, 1, 2), backend.address());
        return new PoolConfig(plain.name(), plain.algorithm(), plain.hashKey(), plain.stickyCookie(), plain.servers(),
                plain.connectTimeout(), plain.responseTimeout(), plain.retries(), plain.slowStart(),
                plain.drainTimeout(), plain.maxConnectionsPerServer(), plain.healthCheck(), plain.outlierDetection(),
                UpstreamProtocol.HTTP_1_1, new ServerTls(ca, "", null, null, true), 0);
    }

    private Server checkedServer(PoolConfig config) {
        Registry registry = new Registry(Clock.systemUTC());
        toClose.add(registry);
        registry.onEvent(e -> events.add(e.wire()));
        checker = new HealthChecker(registry);
        toClose.add(checker);
        registry.addPool(config);
        PoolRuntime pool = registry.pool("app");
        return pool.pool().servers().getFirst();
    }

    private RegistryEvent awaitEvent(String type) {
        await().atMost(BOUND).until(() -> events.stream().anyMatch(e -> e.type().equals(type)));
        return events.stream().filter(e -> e.type().equals(type)).findFirst().orElseThrow();
    }

    @Test
    void anHttpCheckOverTlsPassesAndAnUntrustedCertificateTakesTheServerDown() throws Exception {
        TlsBackend backend = TlsBackend.start("a", backendCert, null);
        toClose.add(backend);
        PoolConfig config = pool(CheckType.HTTP, backend, backendCert.cert());
        Server server = checkedServer(config);
        awaitEvent("server-up");
        assertThat(backend.requests()).as("the check's GET arrived over TLS").isPositive();

        Registry registry = registryOf();
        registry.applyPools(List.of(pool(CheckType.HTTP, backend, otherCert.cert())));
        RegistryEvent down = awaitEvent("server-down");
        assertThat(down.server()).isEqualTo(server.id());
        assertThat(down.detail()).isEqualTo("2 checks failed: TLS handshake failed: certificate is not trusted"
                + " (not signed by the pool's ca)");
    }

    @Test
    void aTcpCheckPassesOnceTheHandshakeCompletes() throws Exception {
        TlsBackend backend = TlsBackend.start("a", backendCert, null);
        toClose.add(backend);
        checkedServer(pool(CheckType.TCP, backend, backendCert.cert()));
        awaitEvent("server-up");
        assertThat(backend.requests()).as("a tcp check sends no request").isZero();
    }

    @Test
    void aTcpCheckFailsWhenTheCertificateDoesNotCarryTheServersIp() throws Exception {
        TlsBackend backend = TlsBackend.start("a", otherCert, null);
        toClose.add(backend);
        Server server = checkedServer(pool(CheckType.TCP, backend, otherCert.cert()));
        await().atMost(BOUND).until(() -> checker.lastCheck(server).isPresent());
        assertThat(checker.lastCheck(server).orElseThrow().detail())
                .isEqualTo("TLS handshake failed: certificate does not match 127.0.0.1");
        assertThat(server.isInRotation()).isFalse();
    }

    private Registry registryOf() {
        return toClose.stream().filter(Registry.class::isInstance).map(Registry.class::cast).findFirst().orElseThrow();
    }
}
