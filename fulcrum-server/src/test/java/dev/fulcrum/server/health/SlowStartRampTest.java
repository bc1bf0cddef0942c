package dev.fulcrum.server.health;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.WeightedServer;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Slow start on a real registry, in simulated time: the balancer's weight follows the ramp step by step. */
class SlowStartRampTest {

    private final ControlPlane control = ManualScheduler.controlPlane();
    private final ManualScheduler clock = ManualScheduler.of(control);
    private final Registry registry = new Registry(control);

    @AfterEach
    void close() {
        registry.close();
        control.close();
    }

    /** Pool "app" with HTTP checks and the given slow-start window, watched by a ramp. */
    private PoolRuntime pool(Duration slowStart) {
        registry.addPool(Pools.pool("app", Pools.check(CheckType.HTTP, 1000, 500, 2, 3), null, slowStart));
        new SlowStartRamp(registry);
        registry.enableHealthChecking();
        return registry.pool("app");
    }

    private int balancerWeight(PoolRuntime pool, Server server) {
        return pool.snapshot().balancer().servers().stream().filter(w -> w.server() == server)
                .mapToInt(WeightedServer::weight).findFirst().orElse(0);
    }

    @Test
    void serverComingUpRampsFromTenPercentToFullWeight() {
        PoolRuntime pool = pool(Duration.ofSeconds(10));
        Server server = registry.addServer("app", new HostPort("127.0.0.1", 9101), 100);
        Server old = registry.addServer("app", new HostPort("127.0.0.1", 9102), 100);
        registry.setCheck(pool, old, CheckState.UP, "1 check passed");
        clock.advance(Duration.ofSeconds(60)); // `old` is long past its ramp

        registry.setCheck(pool, server, CheckState.UP, "1 check passed");
        assertThat(balancerWeight(pool, server)).isEqualTo(10);
        clock.advance(Duration.ofMillis(500));
        // one step (a twentieth of the window) later the balancer has the next weight
        assertThat(balancerWeight(pool, server)).isEqualTo(14);
        clock.advance(Duration.ofMillis(4500));
        assertThat(balancerWeight(pool, server)).isEqualTo(55);
        assertThat(balancerWeight(pool, old)).isEqualTo(100);
        clock.advance(Duration.ofSeconds(5));
        assertThat(balancerWeight(pool, server)).isEqualTo(100);
    }

    @Test
    void noSlowStartMeansFullWeightAtOnce() {
        PoolRuntime pool = pool(Duration.ZERO);
        Server server = registry.addServer("app", new HostPort("127.0.0.1", 9101), 40);
        registry.setCheck(pool, server, CheckState.UP, "1 check passed");
        assertThat(balancerWeight(pool, server)).isEqualTo(40);
    }

    @Test
    void leavingRotationEndsTheRampAndTheNextUpStartsAFreshOne() {
        PoolRuntime pool = pool(Duration.ofSeconds(10));
        Server server = registry.addServer("app", new HostPort("127.0.0.1", 9101), 100);
        registry.setCheck(pool, server, CheckState.UP, "1 check passed");
        clock.advance(Duration.ofSeconds(5));
        assertThat(balancerWeight(pool, server)).isEqualTo(55);

        registry.setCheck(pool, server, CheckState.DOWN, "3 checks failed: status 503");
        clock.advance(Duration.ofMillis(500)); // the next step sees it out of rotation
        assertThat(server.rampingSince()).isNull();
        registry.setCheck(pool, server, CheckState.UP, "2 checks passed");
        assertThat(balancerWeight(pool, server)).as("a fresh ramp, not the old one's 60%").isEqualTo(10);
        clock.advance(Duration.ofSeconds(10));
        assertThat(balancerWeight(pool, server)).isEqualTo(100);
        assertThat(server.rampingSince()).as("the ramp ends with its window").isNull();
    }
}
