package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class RoundRobinTest {

    private static final SplittableRandom RANDOM = new SplittableRandom(42);

    private static List<String> sequence(RoundRobin rr, List<WeightedServer> servers, int picks, Pick pick) {
        List<String> names = List.of("a", "b", "c", "d", "e");
        List<Server> plain = Servers.plain(servers);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < picks; i++) {
            Server s = rr.pick(pick);
            out.add(s == null ? "-" : names.get(plain.indexOf(s)));
        }
        return out;
    }

    @Test
    void weights511GiveNginxSmoothSequenceOverTwoCycles() {
        // nginx's published example for {a:5, b:1, c:1}
        List<WeightedServer> servers = Servers.weighted(5, 1, 1);
        RoundRobin rr = new RoundRobin(servers);
        assertThat(sequence(rr, servers, 14, Pick.of(0, RANDOM)))
                .containsExactly("a", "a", "b", "a", "c", "a", "a",
                        "a", "a", "b", "a", "c", "a", "a");
    }

    @Test
    void equalWeightsCycleInOrder() {
        List<WeightedServer> servers = Servers.weighted(3, 3, 3, 3);
        RoundRobin rr = new RoundRobin(servers);
        assertThat(sequence(rr, servers, 8, Pick.of(0, RANDOM)))
                .containsExactly("a", "b", "c", "d", "a", "b", "c", "d");
    }

    @Test
    void exclusionSkipsToTheNextEntryOfTheCycle() {
        List<WeightedServer> servers = Servers.weighted(5, 1, 1);
        RoundRobin rr = new RoundRobin(servers);
        Pick withoutA = Pick.of(0, RANDOM).excluding(servers.get(0).server());
        // cycle a a b a c a a: positions 0,1 -> b (2), 2 -> b, 3,4 -> c, 5,6 -> b (wraps to position 9 = b)
        assertThat(sequence(rr, servers, 7, withoutA)).containsExactly("b", "b", "b", "c", "c", "b", "b");
    }

    @Test
    void allExcludedGivesNull() {
        List<WeightedServer> servers = Servers.weighted(5, 1, 1);
        RoundRobin rr = new RoundRobin(servers);
        Pick pick = Pick.of(0, RANDOM);
        for (WeightedServer ws : servers) {
            pick = pick.excluding(ws.server());
        }
        assertThat(rr.pick(pick)).isNull();
    }

    @Test
    void fourThreadsTogetherWalkTheCycleExactly() throws Exception {
        List<WeightedServer> servers = Servers.weighted(5, 1, 1);
        RoundRobin rr = new RoundRobin(servers);
        int threads = 4;
        int picksEach = 17_500; // 4 x 17,500 = 70,000 = 10,000 full cycles of 7
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Map<Server, Integer>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    Pick pick = Pick.of(0, new SplittableRandom(7));
                    Map<Server, Integer> counts = new HashMap<>();
                    start.await();
                    for (int i = 0; i < picksEach; i++) {
                        counts.merge(rr.pick(pick), 1, Integer::sum);
                    }
                    return counts;
                }));
            }
            start.countDown();
            Map<Server, Integer> total = new HashMap<>();
            for (Future<Map<Server, Integer>> f : results) {
                f.get(30, TimeUnit.SECONDS).forEach((s, c) -> total.merge(s, c, Integer::sum));
            }
            assertThat(total).containsExactlyInAnyOrderEntriesOf(Map.of(
                    servers.get(0).server(), 50_000,
                    servers.get(1).server(), 10_000,
                    servers.get(2).server(), 10_000));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void commonWeightFactorDoesNotChangeTheSequence() {
        List<WeightedServer> servers = Servers.weighted(10, 2, 2);
        RoundRobin rr = new RoundRobin(servers);
        assertThat(sequence(rr, servers, 7, Pick.of(0, RANDOM)))
                .containsExactly("a", "a", "b", "a", "c", "a", "a");
    }

    @Test
    void largePoolsFallBackToInterleavedRoundsWithTheSameCounts() {
        // 300 servers at weight 256 would need 300 x 76,800 steps to precompute: over the limit
        int[] weights = new int[300];
        java.util.Arrays.fill(weights, 256);
        weights[0] = 255; // keep the gcd at 1 so the cycle really is 76,799 long
        weights[1] = 3;
        List<WeightedServer> servers = Servers.weighted(weights);
        long cycle = java.util.Arrays.stream(weights).sum();
        assertThat(cycle * servers.size()).isGreaterThan(RoundRobin.SMOOTH_WORK_LIMIT);
        RoundRobin rr = new RoundRobin(servers);
        Pick pick = Pick.of(0, RANDOM);
        Map<Server, Integer> counts = Servers.count(servers, (int) cycle, () -> rr.pick(pick));
        for (int i = 0; i < weights.length; i++) {
            assertThat(counts.get(servers.get(i).server())).as("picks of server %d in one cycle", i)
                    .isEqualTo(weights[i]);
        }
        // round 0 serves every server once, heaviest first (stable): a, c, d, ... then b (weight 3) last
        List<Server> firstRound = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            firstRound.add(rr.pick(pick));
        }
        List<Server> expected = new ArrayList<>(Servers.plain(servers).subList(2, 300));
        expected.add(servers.get(0).server());
        expected.add(servers.get(1).server());
        assertThat(firstRound).containsExactlyElementsOf(expected);
    }
}
