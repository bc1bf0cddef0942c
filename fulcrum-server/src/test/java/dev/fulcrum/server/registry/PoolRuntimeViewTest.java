package dev.fulcrum.server.registry;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A request reads a pool's servers and settings together: every change publishes a view of both. */
class PoolRuntimeViewTest {

    private static final String CONFIG = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
                retries: %d
            """;

    private final SimulatedRegistry sim = new SimulatedRegistry(CONFIG.formatted(1));
    private final Registry registry = sim.registry;
    private final PoolRuntime pool = registry.pool("app");

    @AfterEach
    void close() {
        sim.close();
    }

    private static FulcrumConfig parse(int retries) {
        return SimulatedRegistry.parse(CONFIG.formatted(retries));
    }

    @Test
    void aNewServerAndNewSettingsEachPublishAViewOfBoth() {
        PoolRuntime.View first = pool.view();
        assertThat(first.snapshot()).isSameAs(pool.snapshot());
        assertThat(first.settings().retries()).isEqualTo(1);

        registry.addServer("app", HostPort.parse("127.0.0.1:9102"), 1);
        PoolRuntime.View added = pool.view();
        assertThat(added.snapshot()).isSameAs(pool.snapshot()).isNotSameAs(first.snapshot());
        assertThat(added.snapshot().servers()).hasSize(2);
        assertThat(added.settings()).isSameAs(first.settings());

        registry.applyPools(parse(3).pools()); // a reload: new settings (9102 came through the API and stays)
        PoolRuntime.View reloaded = pool.view();
        assertThat(reloaded.settings().retries()).isEqualTo(3);
        assertThat(reloaded.snapshot()).isSameAs(pool.snapshot());
        assertThat(reloaded.snapshot().servers()).hasSize(2);
    }
}
