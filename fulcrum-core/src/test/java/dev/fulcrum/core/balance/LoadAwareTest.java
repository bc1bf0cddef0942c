package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** least-connections and least-request follow the live counters, per unit of weight. */
class LoadAwareTest {

    private static void open(Server s, int connections) {
        for (int i = 0; i < connections; i++) {
            s.connectionOpened();
        }
    }

    private static void start(Server s, int requests) {
        for (int i = 0; i < requests; i++) {
            s.requestStarted();
        }
    }

    @Test
    void leastConnectionsPicksTheLowestConnectionsPerWeight() {
        List<WeightedServer> servers = Servers.weighted(1, 4, 2);
        open(servers.get(0).server(), 2); // 2 / 1 = 2
        open(servers.get(1).server(), 6); // 6 / 4 = 1.5  <- least
        open(servers.get(2).server(), 4); // 4 / 2 = 2
        LeastConnections lc = new LeastConnections(servers);
        Pick pick = Pick.of(0, new SplittableRandom(42));
        for (int i = 0; i < 10; i++) {
            assertThat(lc.pick(pick)).isSameAs(servers.get(1).server());
        }
        assertThat(lc.pick(pick.excluding(servers.get(1).server()))).isIn(servers.get(0).server(), servers.get(2).server());
    }

    @Test
    void leastConnectionsTiesFollowWeightedRoundRobinNotAlwaysTheFirst() {
        List<WeightedServer> servers = Servers.weighted(5, 1, 1);
        LeastConnections lc = new LeastConnections(servers);
        Pick pick = Pick.of(0, new SplittableRandom(42));
        List<Server> picks = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            picks.add(lc.pick(pick)); // nothing opened: all tied at 0
        }
        Server a = servers.get(0).server();
        Server b = servers.get(1).server();
        Server c = servers.get(2).server();
        assertThat(picks).containsExactly(a, a, b, a, c, a, a);
    }

    @Test
    void leastRequestTakesTheLighterOfTwoCandidates() {
        // two servers: every pick compares both, so the lighter per weight always wins
        List<WeightedServer> servers = Servers.weighted(1, 3);
        start(servers.get(0).server(), 2); // 2 / 1 = 2
        start(servers.get(1).server(), 5); // 5 / 3 = 1.67 <- lighter
        LeastRequest lr = new LeastRequest(servers);
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 100; i++) {
            assertThat(lr.pick(Pick.of(0, random))).isSameAs(servers.get(1).server());
        }
    }

    @Test
    void leastRequestNeverPicksTheMostLoadedOfThree() {
        // with three servers the busiest can only win if drawn twice, and candidates are distinct
        List<WeightedServer> servers = Servers.weighted(1, 1, 1);
        start(servers.get(0).server(), 9);
        start(servers.get(1).server(), 1);
        LeastRequest lr = new LeastRequest(servers);
        SplittableRandom random = new SplittableRandom(42);
        Map<Server, Integer> counts = Servers.count(servers, 3_000, () -> lr.pick(Pick.of(0, random)));
        assertThat(counts.get(servers.get(0).server())).isZero();
        // server 2 (idle) wins whenever drawn: 2 of the 3 candidate pairs, about 2000 picks
        assertThat(counts.get(servers.get(2).server())).isBetween(1850, 2150);
    }
}
