package dev.fulcrum.server.health;

import dev.fulcrum.server.metrics.ControlMetrics;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The health checker's scheduling and rise/fall in simulated time, with a scripted prober that
 * answers at once: checks every interval (no jitter here), up after rise passes, down after fall
 * failures, not a moment earlier.
 */
class HealthCheckerTest {

    private final ControlMetrics metrics = ControlMetrics.unregistered();

    private static final HealthCheck CHECK = new HealthCheck(CheckType.HTTP, "/health", "", 200, 399,
            Duration.ofSeconds(1), Duration.ofMillis(500), 2, 3, 0);

    private final ControlPlane control = ManualScheduler.controlPlane();
    private final ManualScheduler time = ManualScheduler.of(control);
    private final Instant start = time.now();
    private final Registry registry = new Registry(control);
    /** Servers whose checks fail; every probe is recorded with its (simulated) start time. */
    private final Set<HostPort> failing = new HashSet<>();
    private final List<String> probes = new ArrayList<>();
    private final List<String> events = new ArrayList<>();
    private final Prober prober = new Prober() {
        @Override
        public void probe(HostPort target, HealthCheck check, java.util.function.Consumer<Probe.Result> done) {
            probes.add(Duration.between(start, time.now()).toMillis() + "ms " + target);
            done.accept(failing.contains(target)
                    ? new Probe.Result(false, "connection refused")
                    : new Probe.Result(true, "200 in 0ms"));
        }

        @Override
        public void close() {
        }
    };

    @AfterEach
    void close() {
        registry.close();
        control.close();
    }

    private HealthChecker checker() {
        return new HealthChecker(registry, RandomGenerator.of("L64X128MixRandom"), metrics::healthCheck, prober);
    }

    private PoolRuntime pool(HostPort... servers) {
        PoolRuntime pool = registry.addPool(Pools.pool("app", CHECK, servers));
        registry.onEvent(e -> events.add(Duration.between(start, e.at()).toMillis() + "ms " + e.wireName() + " "
                + e.detail()));
        return pool;
    }

    private void advanceMs(long ms) {
        time.advance(Duration.ofMillis(ms));
    }

    @Test
    void aNewServerIsCheckedAtOnceThenRisesAndFallsAcrossIntervals() {
        PoolRuntime pool = pool();
        HealthChecker checker = checker();
        HostPort address = new HostPort("127.0.0.1", 9101);
        Server server = registry.addServer("app", address, 1);
        assertThat(server.state()).isEqualTo(ServerState.CHECKING);
        time.runDue();
        assertThat(server.state()).as("the first check passes at once").isEqualTo(ServerState.UP);

        failing.add(address);
        advanceMs(2999);
        assertThat(server.state()).as("two failures of three").isEqualTo(ServerState.UP);
        advanceMs(1);
        assertThat(server.state()).isEqualTo(ServerState.DOWN);
        assertThat(pool.snapshot().hasServerUp()).isFalse();
        assertThat(checker.passing(server)).isFalse();

        failing.remove(address);
        advanceMs(1999);
        assertThat(server.state()).as("one pass of two").isEqualTo(ServerState.DOWN);
        advanceMs(1);
        assertThat(server.state()).isEqualTo(ServerState.UP);

        assertThat(events).containsExactly(
                "0ms server-added weight 1",
                "0ms server-up 1 check passed",
                "3000ms server-down 3 checks failed: connection refused",
                "5000ms server-up 2 checks passed");
        assertThat(probes).containsExactly("0ms " + address, "1000ms " + address, "2000ms " + address,
                "3000ms " + address, "4000ms " + address, "5000ms " + address);
        assertThat(metrics.checks("app", server.id())).as("as fulcrum_health_checks_total counts them")
                .isEqualTo(new ControlMetrics.Checks(3, 3));
        assertThat(checker.lastCheck(server)).hasValue(
                new CheckResult(start.plusSeconds(5), true, "200 in 0ms"));
    }

    @Test
    void serversRegisteredBeforeTheCheckerAreUpAndCheckedWithinTheFirstInterval() {
        HostPort a = new HostPort("127.0.0.1", 9101);
        HostPort b = new HostPort("127.0.0.1", 9102);
        pool(a, b);
        checker();
        advanceMs(999);
        assertThat(probes).hasSize(2).allSatisfy(p -> assertThat(Long.parseLong(p.split("ms")[0])).isBetween(0L, 999L));
        assertThat(registry.pool("app").snapshot().serversInRotation()).isEqualTo(2);
    }

    @Test
    void aRemovedServerIsNoLongerChecked() {
        pool();
        checker();
        HostPort address = new HostPort("127.0.0.1", 9101);
        registry.addServer("app", address, 1);
        time.runDue();
        registry.removeServer("app", address.toString());
        advanceMs(Registry.DRAIN_POLL.toMillis()); // idle: removed at the first poll
        int checks = probes.size();
        advanceMs(10_000);
        assertThat(probes).hasSize(checks);
    }

    /** Active checks and ejection are separate flags: neither overwrites the other's verdict. */
    @Test
    void anEjectionNeitherHidesNorOverwritesTheChecksVerdict() {
        PoolRuntime pool = registry.addPool(Pools.pool("app", CHECK,
                new dev.fulcrum.server.config.FulcrumConfig.OutlierDetection(3, 5, Duration.ofSeconds(30), 50),
                Duration.ZERO));
        registry.onEvent(e -> events.add(Duration.between(start, e.at()).toMillis() + "ms " + e.wireName() + " "
                + e.detail()));
        HealthChecker checker = checker();
        OutlierEjector ejector = OutlierEjector.on(registry, checker);
        HostPort a = new HostPort("127.0.0.1", 9101);
        Server server = registry.addServer("app", a, 1);
        registry.addServer("app", new HostPort("127.0.0.1", 9102), 1);
        time.runDue();

        for (int i = 0; i < 3; i++) {
            ejector.onResult(pool, server, dev.fulcrum.core.health.RequestOutcome.GATEWAY_FAILURE);
        }
        advanceMs(500); // the decision is a command: it ran at 0 ms
        assertThat(server.state()).isEqualTo(ServerState.EJECTED);
        assertThat(server.check()).as("the checks still pass").isEqualTo(CheckState.UP);
        assertThat(checker.passing(server)).isTrue();

        failing.add(a); // the checks fail while it is ejected: down, which ends the ejection
        advanceMs(2500);
        assertThat(server.state()).isEqualTo(ServerState.DOWN);
        assertThat(server.isEjected()).isFalse();
        failing.remove(a);
        advanceMs(2000);
        assertThat(server.state()).as("the checks alone decide its return").isEqualTo(ServerState.UP);
        advanceMs(60_000);
        assertThat(server.state()).isEqualTo(ServerState.UP);
        assertThat(events).containsSubsequence(
                "0ms server-ejected 3 consecutive gateway failures, ejected for 30s",
                "3000ms server-down 3 checks failed: connection refused",
                "5000ms server-up 2 checks passed");
        assertThat(events).filteredOn(e -> e.contains("server-up")).hasSize(3); // 2 first passes, 1 recovery
    }
}
