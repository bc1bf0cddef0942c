package dev.fulcrum.server.alert;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class AlerterTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-24T03:00:00Z"), ZoneOffset.UTC);

    private final List<Alert> sent = new CopyOnWriteArrayList<>();
    private final AlertSink recorder = new AlertSink() {
        @Override
        public void send(Alert alert) {
            sent.add(alert);
        }

        @Override
        public void close() {
        }
    };
    /** Simulated time: commands and events run on the test's thread, in order. */
    private final Registry registry = new Registry(new ControlPlane(new ManualScheduler(CLOCK.instant())));
    private final Alerter alerter = new Alerter("edge-1", CLOCK, List.of(recorder)).attach(registry);

    @AfterEach
    void close() {
        registry.close();
    }

    private PoolRuntime pool(int servers) {
        List<ServerEntry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < servers; i++) {
            entries.add(new ServerEntry(new HostPort("127.0.0.1", 9101 + i), 1));
        }
        return registry.addPool(new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "", entries,
                Duration.ofSeconds(2), Duration.ofSeconds(30), 2, Duration.ZERO, Duration.ofSeconds(30), 0,
                null, null));
    }

    private List<String> lines() {
        return sent.stream().map(LogAlertSink::line).toList();
    }

    @Test
    void serverDownFiresOnceAndUpResolves() {
        PoolRuntime pool = pool(2);
        Server s = pool.pool().servers().get(1);
        registry.setCheck(pool, s, CheckState.DOWN, "3 checks failed: connection refused");
        registry.emit(new PoolEvent.ServerDown(CLOCK.instant(), pool, s, "3 checks failed: connection refused")); // a duplicate report
        registry.setCheck(pool, s, CheckState.UP, "2 checks passed");
        assertThat(lines()).containsExactly(
                "ALERT FIRING FulcrumServerDown pool=app server=127.0.0.1:9102: 3 checks failed: connection refused",
                "ALERT RESOLVED FulcrumServerDown pool=app server=127.0.0.1:9102: 2 checks passed");
        Alert firing = sent.getFirst();
        assertThat(firing.labels()).containsExactly(
                java.util.Map.entry("alertname", "FulcrumServerDown"), java.util.Map.entry("severity", "critical"),
                java.util.Map.entry("instance", "edge-1"), java.util.Map.entry("pool", "app"),
                java.util.Map.entry("server", "127.0.0.1:9102"));
        assertThat(firing.summary()).isEqualTo("server 127.0.0.1:9102 of pool app is down");
        assertThat(firing.endsAt()).isNull();
        Alert resolved = sent.get(1);
        assertThat(resolved.resolved()).isTrue();
        assertThat(resolved.labels()).isEqualTo(firing.labels());
        assertThat(resolved.endsAt()).isEqualTo(CLOCK.instant());
        assertThat(alerter.firing()).isEmpty();
    }

    @Test
    void lastServerDownFiresPoolDownAndTheFirstBackResolvesIt() {
        PoolRuntime pool = pool(2);
        Server a = pool.pool().servers().get(0);
        Server b = pool.pool().servers().get(1);
        registry.eject(pool, a, CLOCK.instant().plusSeconds(30), "5 consecutive 5xx, ejected for 30s");
        registry.setCheck(pool, b, CheckState.DOWN, "3 checks failed: status 503");
        registry.setCheck(pool, a, CheckState.DOWN, "3 checks failed: status 503");
        registry.setCheck(pool, b, CheckState.UP, "2 checks passed");
        assertThat(lines()).containsExactly(
                "ALERT FIRING FulcrumServerEjected pool=app server=127.0.0.1:9101: 5 consecutive 5xx, ejected for 30s",
                "ALERT FIRING FulcrumServerDown pool=app server=127.0.0.1:9102: 3 checks failed: status 503",
                "ALERT FIRING FulcrumPoolDown pool=app: last: server 127.0.0.1:9102 down: 3 checks failed: status 503",
                // ejected -> down swaps one alert for the other
                "ALERT RESOLVED FulcrumServerEjected pool=app server=127.0.0.1:9101: 3 checks failed: status 503",
                "ALERT FIRING FulcrumServerDown pool=app server=127.0.0.1:9101: 3 checks failed: status 503",
                "ALERT RESOLVED FulcrumServerDown pool=app server=127.0.0.1:9102: 2 checks passed",
                "ALERT RESOLVED FulcrumPoolDown pool=app: server 127.0.0.1:9102 up: 2 checks passed");
        assertThat(alerter.firing()).extracting(Alert::name).containsExactly("FulcrumServerDown");
    }

    @Test
    void scaleEventsAreOneOffNoticesEndingByThemselves() {
        PoolRuntime pool = pool(1);
        registry.emit(new PoolEvent.ScaledOut(CLOCK.instant(), pool, null, "cpu 0.91 > 0.80; added 127.0.0.1:9200"));
        assertThat(sent).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("FulcrumScaledOut");
            assertThat(a.resolved()).isFalse();
            assertThat(a.labels()).containsEntry("severity", "info").doesNotContainKey("server");
            assertThat(a.endsAt()).isEqualTo(CLOCK.instant().plus(Alerter.NOTICE_LIFETIME));
        });
        assertThat(alerter.firing()).isEmpty();
    }

    @Test
    void haEventsFireAndResolve() {
        registry.emit(new PoolEvent.HaMaster(CLOCK.instant(), "priority 100 > 90"));
        registry.emit(new PoolEvent.HaFault(CLOCK.instant(), "interface eth0 down"));
        registry.emit(new PoolEvent.HaBackup(CLOCK.instant(), "higher priority peer"));
        assertThat(lines()).containsExactly(
                "ALERT FIRING FulcrumHaMaster: priority 100 > 90",
                "ALERT RESOLVED FulcrumHaMaster: interface eth0 down",
                "ALERT FIRING FulcrumHaFault: interface eth0 down",
                "ALERT RESOLVED FulcrumHaFault: higher priority peer");
        assertThat(sent.getFirst().labels()).doesNotContainKeys("pool", "server").containsEntry("instance", "edge-1");
    }

    @Test
    void directFireAndResolveForOtherComponents() {
        Alert a = alerter.fire("FulcrumHaFault", "critical", "", "", "instance edge-1 is in HA fault", "vrrp socket closed");
        assertThat(alerter.fire("FulcrumHaFault", "critical", "", "", "x", "y")).isSameAs(a);
        assertThat(alerter.resolve("FulcrumHaFault", "", "", "socket reopened")).isPresent();
        assertThat(alerter.resolve("FulcrumHaFault", "", "", "again")).isEmpty();
        assertThat(sent).hasSize(2);
    }
}
