package dev.fulcrum.server.registry;

import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.tls.PoolTls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.fulcrum.server.registry.SimulatedRegistry.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A pool's TLS to its servers across reloads ({@link Registry#applyPools}): its files are read
 * again each time, a file that no longer loads keeps the TLS loaded before (and says so), and a
 * pool that had none is not applied at all rather than left in plain text.
 */
class RegistryTlsTest {

    private static final String CONFIG = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
            """;

    @TempDir
    static Path dir;
    private static Path ca;

    private final SimulatedRegistry sim = new SimulatedRegistry(CONFIG);
    private final Registry registry = sim.registry;

    @BeforeAll
    static void certificate() throws Exception {
        ca = TestCertificates.create(dir.resolve("ca.pem"), dir.resolve("ca.key")).cert();
    }

    @AfterEach
    void close() {
        sim.close();
    }

    private static PoolConfig withTls(PoolConfig c, ServerTls tls) {
        return new PoolConfig(c.name(), c.algorithm(), c.hashKey(), c.stickyCookie(), c.servers(), c.connectTimeout(),
                c.responseTimeout(), c.retries(), c.slowStart(), c.drainTimeout(), c.maxConnectionsPerServer(),
                c.healthCheck(), c.outlierDetection(), UpstreamProtocol.HTTP_1_1, tls, c.maxRequestsPerConnection());
    }

    private static PoolConfig plain() {
        return parse(CONFIG).pool("app");
    }

    @Test
    void aPlainPoolHasNoTlsAndTurningItOnAndOffFollowsTheReload() {
        PoolRuntime app = registry.pool("app");
        assertThat(app.tls()).isNull();

        assertThat(registry.applyPools(List.of(withTls(plain(), new ServerTls(ca, "", null, null, true))))).isEmpty();
        assertThat(app.tls()).isNotNull();
        assertThat(app.view().tls()).isSameAs(app.tls());
        assertThat(app.tls().settings().ca()).isEqualTo(ca);

        assertThat(registry.applyPools(List.of(plain()))).isEmpty();
        assertThat(app.tls()).isNull();
    }

    @Test
    void everyReloadReadsTheFilesAgainAndABrokenOneKeepsTheTlsBefore() throws Exception {
        Path renewed = Files.copy(ca, dir.resolve("renewed.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        PoolConfig config = withTls(plain(), new ServerTls(renewed, "", null, null, true));
        registry.applyPools(List.of(config));
        PoolRuntime app = registry.pool("app");
        PoolTls first = app.tls();

        assertThat(registry.applyPools(List.of(config))).isEmpty();
        assertThat(app.tls()).as("loaded again").isNotSameAs(first);

        PoolTls second = app.tls();
        Files.writeString(renewed, "not a certificate");
        assertThat(registry.applyPools(List.of(config))).containsExactly("pool app: cannot load the TLS files for"
                + " its servers: " + renewed + ": not a PEM certificate (No certificate data found); keeping the TLS"
                + " settings loaded before");
        assertThat(app.tls()).isSameAs(second);
    }

    @Test
    void aPoolWithoutTlsWhoseNewTlsDoesNotLoadIsNotAppliedAtAll() throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.pem"), "not a certificate");
        PoolConfig config = withTls(plain(), new ServerTls(broken, "", null, null, true));
        PoolConfig retried = new PoolConfig(config.name(), config.algorithm(), config.hashKey(), config.stickyCookie(),
                config.servers(), config.connectTimeout(), config.responseTimeout(), 7, config.slowStart(),
                config.drainTimeout(), config.maxConnectionsPerServer(), config.healthCheck(),
                config.outlierDetection(), config.protocol(), config.tls(), config.maxRequestsPerConnection());
        assertThatThrownBy(() -> registry.applyPools(List.of(retried)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("pool app: cannot load the TLS files for its servers: " + broken
                        + ": not a PEM certificate (No certificate data found)");
        PoolRuntime app = registry.pool("app");
        assertThat(app.tls()).isNull();
        assertThat(app.settings().retries()).as("nothing applied").isEqualTo(plain().retries());
    }
}
