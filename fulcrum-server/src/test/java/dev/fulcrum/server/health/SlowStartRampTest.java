package dev.fulcrum.server.health;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.WeightedServer;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Slow start on a real registry: the balancer's weight follows the ramp of a manual clock. */
class SlowStartRampTest {

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-24T03:00:00Z"));

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }
    }

    private final ManualClock clock = new ManualClock();
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
    private final Registry registry = new Registry(clock);

    @AfterEach
    void close() throws InterruptedException {
        control.shutdownNow();
        control.awaitTermination(1, TimeUnit.SECONDS);
        registry.close();
    }

    private int balancerWeight(PoolRuntime pool, Server server) {
        return pool.snapshot().balancer().servers().stream().filter(w -> w.server() == server)
                .mapToInt(WeightedServer::weight).findFirst().orElse(0);
    }

    @Test
    void serverComingUpRampsFromTenPercentToFullWeight() {
        registry.addPool(Pools.pool("app", Pools.check(CheckType.HTTP, 1000, 500, 2, 3), null,
                Duration.ofSeconds(10)));
        new SlowStartRamp(registry, clock, control);
        registry.enableHealthChecking();
        PoolRuntime pool = registry.pool("app");
        Server server = registry.addServer("app", new HostPort("127.0.0.1", 9101), 100);
        Server old = registry.addServer("app", new HostPort("127.0.0.1", 9102), 100);
        registry.setHealth(pool, old, ServerState.UP, "server-up", "1 check passed");
        clock.advance(Duration.ofSeconds(60)); // `old` is long past its ramp

        registry.setHealth(pool, server, ServerState.UP, "server-up", "1 check passed");
        assertThat(balancerWeight(pool, server)).isEqualTo(10);
        clock.advance(Duration.ofSeconds(5));
        // the next periodic republication (every 500ms of real time) picks up the clock
        await().atMost(Duration.ofSeconds(3)).until(() -> balancerWeight(pool, server) == 55);
        assertThat(balancerWeight(pool, old)).isEqualTo(100);
        clock.advance(Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(3)).until(() -> balancerWeight(pool, server) == 100);
    }

    @Test
    void noSlowStartMeansFullWeightAtOnce() {
        registry.addPool(Pools.pool("app", Pools.check(CheckType.HTTP, 1000, 500, 2, 3), null, Duration.ZERO));
        new SlowStartRamp(registry, clock, control);
        registry.enableHealthChecking();
        PoolRuntime pool = registry.pool("app");
        Server server = registry.addServer("app", new HostPort("127.0.0.1", 9101), 40);
        registry.setHealth(pool, server, ServerState.UP, "server-up", "1 check passed");
        assertThat(balancerWeight(pool, server)).isEqualTo(40);
    }
}
