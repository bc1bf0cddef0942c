package dev.fulcrum.server.registry;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.control.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.fulcrum.server.registry.SimulatedRegistry.parse;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Registry#applyPools} carrying out a {@link dev.fulcrum.core.reload.ReloadPlan} (whose
 * decisions ReloadPlanTest pins case by case): what each command does to the running pools, and
 * the events it reports, in simulated time.
 */
class RegistryReloadTest {

    private static final String CONFIG = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
              - {name: api, listen: 127.0.0.1:8081, pool: api}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
              - name: api
                servers: [{address: 127.0.0.1:9201}]
                health-check: {type: none}
            """;
    private static final String WITHOUT_API = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
            """;

    private final SimulatedRegistry sim = new SimulatedRegistry(CONFIG);
    private final ManualScheduler time = sim.time;
    private final Registry registry = sim.registry;
    private final List<PoolEvent> events = sim.events;

    @AfterEach
    void close() {
        sim.close();
    }

    private void reload(String yaml) {
        registry.applyPools(parse(yaml).pools());
    }

    private List<String> wire() {
        return events.stream().map(e -> e.wireName() + " " + e.pool().name() + " " + e.server().id()).toList();
    }

    private List<String> ids(String pool) {
        return registry.pool(pool).pool().servers().stream().map(Server::id).toList();
    }

    @Test
    void aDroppedPoolDrainsItsApiAddedServersWithTheListedOnesAndGoes() {
        PoolRuntime api = registry.pool("api");
        Server listed = registry.server(api, "127.0.0.1:9201");
        Server added = registry.addServer("api", HostPort.parse("127.0.0.1:9202"), 1);
        events.clear();
        reload(WITHOUT_API);
        assertThat(registry.isRegistered(api)).isFalse();
        assertThat(registry.pools()).extracting(PoolRuntime::name).containsExactly("app");
        assertThat(listed.isBeingRemoved()).isTrue();
        assertThat(added.isBeingRemoved()).isTrue();
        time.advance(Registry.DRAIN_POLL);
        assertThat(listed.isRemoved()).isTrue();
        assertThat(added.isRemoved()).isTrue();
        assertThat(wire().subList(0, 2)).as("the plan's order: registration order").containsExactly(
                "server-draining api 127.0.0.1:9201", "server-draining api 127.0.0.1:9202");
        assertThat(wire().subList(2, 4)).as("the drain timer's order: the pool's").containsExactly(
                "server-removed api 127.0.0.1:9201", "server-removed api 127.0.0.1:9202");
    }

    @Test
    void apiAddedServersStayUntilTheFileListsThemThenGoWhenItDropsThem() {
        registry.addServer("app", HostPort.parse("127.0.0.1:9102"), 3);
        reload(CONFIG);
        assertThat(ids("app")).as("not listed: stays").containsExactly("127.0.0.1:9101", "127.0.0.1:9102");
        events.clear();
        reload(CONFIG.replace("{address: 127.0.0.1:9101}", "{address: 127.0.0.1:9101}, {address: 127.0.0.1:9102}"));
        assertThat(wire()).as("adopted, at the file's weight").containsExactly("server-weight-changed app 127.0.0.1:9102");
        reload(CONFIG);
        time.advance(Registry.DRAIN_POLL);
        assertThat(ids("app")).as("listed, then dropped: removed").containsExactly("127.0.0.1:9101");
    }

    @Test
    void theSameFileAgainChangesNothing() {
        PoolRuntime app = registry.pool("app");
        PoolRuntime.View view = app.view();
        long version = app.snapshot().version();
        reload(CONFIG);
        assertThat(events).isEmpty();
        assertThat(app.view()).isSameAs(view);
        assertThat(app.snapshot().version()).isEqualTo(version);
    }

    @Test
    void settingsAndBalancingChangeWithoutTouchingTheServers() {
        PoolRuntime app = registry.pool("app");
        Server server = registry.server(app, "127.0.0.1:9101");
        reload(CONFIG.replaceFirst("health-check: \\{type: none}",
                "health-check: {type: none}\n    retries: 3\n    algorithm: least-connections"));
        assertThat(app.settings().retries()).isEqualTo(3);
        assertThat(app.view().settings()).isSameAs(app.settings());
        assertThat(app.pool().algorithm()).isEqualTo(Algorithm.LEAST_CONNECTIONS);
        assertThat(registry.server(app, "127.0.0.1:9101")).isSameAs(server);
        assertThat(events).isEmpty();
    }

    @Test
    void aReloadChangingOnlyServersKeepsTheSettings() {
        PoolRuntime app = registry.pool("app");
        FulcrumConfig.PoolConfig settings = app.settings();
        reload(CONFIG.replace("{address: 127.0.0.1:9101}", "{address: 127.0.0.1:9101}, {address: 127.0.0.1:9103}"));
        assertThat(app.settings()).isSameAs(settings);
        assertThat(ids("app")).containsExactly("127.0.0.1:9101", "127.0.0.1:9103");
        assertThat(wire()).containsExactly("server-added app 127.0.0.1:9103");
    }
}
