package dev.fulcrum.server.registry;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * DSR finds its servers' MACs by IPv4 address, so the pool it forwards to refuses other
 * addresses from every way in: the admin API and the auto-scaler ({@code addServer}) and a reload.
 */
class RegistryDsrPoolTest {

    private static final String CONFIG = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: named}
            pools:
              - name: web
                servers: [{address: 10.0.0.21:80}]
                health-check: {type: none}
              - name: named
                servers: [{address: backend.local:80}]
                health-check: {type: none}
            dsr:
              interface: eth0
              virtual-ip: 10.0.0.100
              pool: web
            """;

    private final Registry registry = Registry.fromConfig(parse(CONFIG), Clock.systemUTC());

    private static FulcrumConfig parse(String yaml) {
        return SimulatedRegistry.parse(yaml);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    private java.util.List<String> servers(String pool) {
        return registry.pool(pool).pool().servers().stream().map(Server::id).toList();
    }

    @Test
    void aNameOrIpv6AddressCannotJoinTheDsrPool() {
        assertThatThrownBy(() -> registry.addServer("web", HostPort.parse("backend.local:80"), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pool web is the dsr pool: backend.local:80 must be an IPv4 address, like 10.0.0.21:80 "
                        + "(DSR reaches servers by IPv4 address and MAC)");
        assertThatThrownBy(() -> registry.addServer("web", HostPort.parse("[fd00::22]:80"), 1))
                .isInstanceOf(IllegalArgumentException.class);
        registry.addServer("web", HostPort.parse("10.0.0.22:80"), 1);
        assertThat(servers("web")).containsExactly("10.0.0.21:80", "10.0.0.22:80");
    }

    @Test
    void otherPoolsStillTakeNames() {
        registry.addServer("named", HostPort.parse("other.local:80"), 1);
        assertThat(servers("named")).containsExactly("backend.local:80", "other.local:80");
    }

    @Test
    void aReloadPuttingANameInTheDsrPoolChangesNothing() {
        // The reloaded file moves dsr to another pool (a change that waits for a restart), so the
        // file's own check passes; the running forwarder still serves "web".
        FulcrumConfig next = parse("""
                listeners:
                  - {name: web, listen: 127.0.0.1:8080, pool: named}
                pools:
                  - name: web
                    servers: [{address: 10.0.0.21:80}, {address: web.local:80}]
                    health-check: {type: none}
                  - name: named
                    servers: [{address: backend.local:80}, {address: b2.local:80}]
                    health-check: {type: none}
                  - name: other
                    servers: [{address: 10.0.0.31:80}]
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: other
                """);
        assertThatThrownBy(() -> registry.applyPools(next.pools()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("web.local:80 must be an IPv4 address");
        assertThat(servers("web")).containsExactly("10.0.0.21:80");
        assertThat(servers("named")).as("the other pools' changes are not applied either")
                .containsExactly("backend.local:80");
        assertThat(registry.pools()).extracting(PoolRuntime::name).containsExactlyInAnyOrder("web", "named");
    }
}
