package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The retry contract, for every algorithm: never an excluded server; null only when all are. */
class ExclusionTest {

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void picksNeverLandOnAnExcludedServer(Algorithm algorithm) {
        List<WeightedServer> servers = Servers.weighted(1, 2, 3, 4, 5);
        Balancer balancer = Balancer.create(algorithm, servers);
        SplittableRandom random = new SplittableRandom(42);
        Server a = servers.get(4).server();
        Server b = servers.get(2).server();
        for (int i = 0; i < 5_000; i++) {
            Pick pick = Pick.of(random.nextLong(), random).excluding(a).excluding(b);
            assertThat(balancer.pick(pick)).isNotNull().isNotIn(a, b);
        }
    }

    @Test
    void randomKeepsTheRelativeOddsOfTheServersLeft() {
        // weights 1, 2, 3, 4 without the 4: 1/6, 2/6, 3/6 of the picks, within 2 points (absolute)
        List<WeightedServer> servers = Servers.weighted(1, 2, 3, 4);
        Balancer balancer = Balancer.create(Algorithm.RANDOM, servers);
        SplittableRandom random = new SplittableRandom(42);
        Pick pick = Pick.of(0, random).excluding(servers.get(3).server());
        Map<Server, Integer> counts = Servers.count(servers, 60_000, () -> balancer.pick(pick));
        assertThat(counts.get(servers.get(3).server())).isZero();
        for (int i = 0; i < 3; i++) {
            assertThat(100.0 * counts.get(servers.get(i).server()) / 60_000)
                    .isCloseTo(100.0 * (i + 1) / 6, within(2.0));
        }
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void theOnlyServerLeftIsPicked(Algorithm algorithm) {
        List<WeightedServer> servers = Servers.weighted(4, 3, 2, 1);
        Balancer balancer = Balancer.create(algorithm, servers);
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200; i++) {
            Pick pick = Pick.of(random.nextLong(), random);
            for (int s = 0; s < 3; s++) {
                pick = pick.excluding(servers.get(s).server());
            }
            assertThat(balancer.pick(pick)).isSameAs(servers.get(3).server());
        }
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void everyServerExcludedGivesNull(Algorithm algorithm) {
        List<WeightedServer> servers = Servers.weighted(1, 2, 3);
        Balancer balancer = Balancer.create(algorithm, servers);
        SplittableRandom random = new SplittableRandom(42);
        Pick pick = Pick.of(random.nextLong(), random);
        for (WeightedServer ws : servers) {
            pick = pick.excluding(ws.server());
        }
        assertThat(balancer.pick(pick)).isNull();
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aSingleServerIsAlwaysPicked(Algorithm algorithm) {
        List<WeightedServer> servers = Servers.weighted(7);
        Balancer balancer = Balancer.create(algorithm, servers);
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 100; i++) {
            assertThat(balancer.pick(Pick.of(random.nextLong(), random))).isSameAs(servers.getFirst().server());
        }
    }
}
