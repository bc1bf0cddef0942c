package dev.fulcrum.server.health;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.health.RequestOutcome;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.RegistryEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ejection runtime on a real registry, no network (checks: none), in simulated time: the
 * request path's reports go to the control thread as commands, which run when the test moves
 * time ({@link ManualScheduler}); ejections end exactly at their deadline.
 */
class OutlierEjectorTest {

    private final ControlPlane control = ManualScheduler.controlPlane();
    private final ManualScheduler time = ManualScheduler.of(control);
    private final Registry registry = new Registry(control);
    private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();
    /** Servers whose active checks fail (the predicate the health checker would answer). */
    private final Set<Server> failingChecks = ConcurrentHashMap.newKeySet();
    private final OutlierEjector ejector = new OutlierEjector(registry, s -> !failingChecks.contains(s));

    @AfterEach
    void close() {
        registry.close();
        control.close();
    }

    private void advance(long ms) {
        time.advance(Duration.ofMillis(ms));
    }

    private PoolRuntime pool(int servers, int maxPercent, long baseMs) {
        HostPort[] addresses = new HostPort[servers];
        for (int i = 0; i < servers; i++) {
            addresses[i] = new HostPort("127.0.0.1", 9101 + i);
        }
        registry.addPool(Pools.pool("app", Pools.check(CheckType.NONE, 1000, 500, 2, 3),
                new OutlierDetection(3, 5, Duration.ofMillis(baseMs), maxPercent), Duration.ZERO, addresses));
        registry.onEvent(e -> events.add(e.wire()));
        return registry.pool("app");
    }

    private List<RegistryEvent> eventsOf(String type) {
        return events.stream().filter(e -> e.type().equals(type)).toList();
    }

    private void report(PoolRuntime pool, Server s, RequestOutcome outcome, int times) {
        for (int i = 0; i < times; i++) {
            ejector.onResult(pool, s, outcome);
        }
    }

    @Test
    void fiveConsecutive5xxEjectAndTheServerReturnsAtTheDeadline() {
        PoolRuntime pool = pool(4, 50, 300);
        Server s = pool.pool().servers().getFirst();
        report(pool, s, RequestOutcome.SERVER_5XX, 4);
        ejector.onResult(pool, s, RequestOutcome.SUCCESS); // a success ends the streak
        report(pool, s, RequestOutcome.SERVER_5XX, 4);
        assertThat(s.health()).isEqualTo(ServerState.UP);
        advance(0);
        assertThat(s.health()).isEqualTo(ServerState.UP);
        ejector.onResult(pool, s, RequestOutcome.SERVER_5XX);
        advance(0); // the decision is a command of the control thread
        assertThat(s.health()).isEqualTo(ServerState.EJECTED);
        assertThat(eventsOf("server-ejected")).singleElement()
                .extracting(RegistryEvent::detail).isEqualTo("5 consecutive 5xx, ejected for 300ms");
        assertThat(pool.snapshot().balancer().servers()).noneMatch(w -> w.server() == s);

        advance(299);
        assertThat(s.health()).as("one millisecond before the deadline").isEqualTo(ServerState.EJECTED);
        advance(1);
        assertThat(s.health()).isEqualTo(ServerState.UP);
        assertThat(eventsOf("server-up")).singleElement()
                .extracting(RegistryEvent::detail).isEqualTo("ejection of 300ms ended, health checks pass");
    }

    @Test
    void repeatEjectionsLastLonger() {
        PoolRuntime pool = pool(4, 50, 200);
        Server s = pool.pool().servers().getFirst();
        for (int round = 1; round <= 3; round++) {
            report(pool, s, RequestOutcome.GATEWAY_FAILURE, 3);
            advance(0);
            assertThat(s.health()).isEqualTo(ServerState.EJECTED);
            advance(200L * round - 1);
            assertThat(s.health()).isEqualTo(ServerState.EJECTED);
            advance(1);
            assertThat(s.health()).isEqualTo(ServerState.UP);
        }
        assertThat(eventsOf("server-ejected")).extracting(RegistryEvent::detail).containsExactly(
                "3 consecutive gateway failures, ejected for 200ms",
                "3 consecutive gateway failures, ejected for 400ms",
                "3 consecutive gateway failures, ejected for 600ms");
    }

    @Test
    void maxEjectionPercentIsHonoured() {
        PoolRuntime pool = pool(3, 50, 60_000);
        List<Server> servers = pool.pool().servers();
        for (Server s : servers) {
            report(pool, s, RequestOutcome.GATEWAY_FAILURE, 3);
        }
        advance(0);
        assertThat(eventsOf("server-ejected")).hasSize(1);
        // 50% of 3 servers is one: the others stay in rotation whatever they do
        for (Server s : servers) {
            report(pool, s, RequestOutcome.GATEWAY_FAILURE, 6);
        }
        advance(300);
        assertThat(eventsOf("server-ejected")).hasSize(1);
        assertThat(servers).filteredOn(s -> s.health() == ServerState.EJECTED).hasSize(1);
        assertThat(pool.snapshot().serversInRotation()).isEqualTo(2);
    }

    @Test
    void serverWhoseChecksFailStaysEjectedUntilTheyPass() {
        PoolRuntime pool = pool(2, 50, 200);
        Server s = pool.pool().servers().getFirst();
        failingChecks.add(s);
        report(pool, s, RequestOutcome.GATEWAY_FAILURE, 3);
        advance(0);
        assertThat(s.health()).isEqualTo(ServerState.EJECTED);
        // the deadline passes (200ms) and the retry interval (1s for type none) ticks; still out
        advance(1500);
        assertThat(s.health()).isEqualTo(ServerState.EJECTED);
        failingChecks.remove(s);
        advance(699);
        assertThat(s.health()).as("looked at again every second after the deadline").isEqualTo(ServerState.EJECTED);
        advance(1);
        assertThat(s.health()).isEqualTo(ServerState.UP);
    }

    @Test
    void successesAndMixedFailuresDoNotEject() {
        PoolRuntime pool = pool(4, 50, 200);
        Server s = pool.pool().servers().getFirst();
        for (int i = 0; i < 50; i++) {
            report(pool, s, RequestOutcome.GATEWAY_FAILURE, 2);
            ejector.onResult(pool, s, RequestOutcome.SUCCESS);
            report(pool, s, RequestOutcome.SERVER_5XX, 4);
            ejector.onResult(pool, s, RequestOutcome.SUCCESS);
        }
        // two gateway failures and four 5xx in a row at most: never 3 / 5
        advance(300);
        assertThat(s.health()).isEqualTo(ServerState.UP);
        assertThat(eventsOf("server-ejected")).isEmpty();
    }
}
