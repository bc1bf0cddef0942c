package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Every algorithm, 100,000 picks over weights 1, 2, 3, 4: each server's share of the picks is
 * within 2 percentage points (absolute, of all picks) of weight / total weight, i.e. 10/20/30/40 %.
 * Hashing algorithms get uniform keys from a seeded random; load-aware ones see simulated load.
 */
class WeightedShareTest {

    private static final int PICKS = 100_000;
    private static final int[] WEIGHTS = {1, 2, 3, 4};
    /** Simulated in-flight work: a picked server is released this many picks later. */
    private static final int IN_FLIGHT = 64;

    private static void assertSharesFollowWeights(List<WeightedServer> servers, Map<Server, Integer> counts) {
        int total = 0;
        for (int w : WEIGHTS) {
            total += w;
        }
        for (int i = 0; i < servers.size(); i++) {
            double share = 100.0 * counts.get(servers.get(i).server()) / PICKS;
            assertThat(share).as("share of server %d (weight %d), %%", i, WEIGHTS[i])
                    .isCloseTo(100.0 * WEIGHTS[i] / total, within(2.0));
        }
    }

    /** Picks with a fixed in-flight window: acquire on pick, release IN_FLIGHT picks later. */
    private static Map<Server, Integer> countUnderLoad(List<WeightedServer> servers, Balancer balancer,
                                                       Consumer<Server> acquire, Consumer<Server> release) {
        SplittableRandom random = new SplittableRandom(42);
        ArrayDeque<Server> inFlight = new ArrayDeque<>();
        return Servers.count(servers, PICKS, () -> {
            Server s = balancer.pick(Pick.of(0, random));
            acquire.accept(s);
            inFlight.addLast(s);
            if (inFlight.size() > IN_FLIGHT) {
                release.accept(inFlight.removeFirst());
            }
            return s;
        });
    }

    private static Map<Server, Integer> countUniformKeys(List<WeightedServer> servers, Balancer balancer) {
        SplittableRandom keys = new SplittableRandom(42);
        return Servers.count(servers, PICKS, () -> balancer.pick(Pick.of(keys.nextLong(), keys)));
    }

    @Test
    void roundRobinSharesWithin2PointsOfWeights() {
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        RoundRobin rr = new RoundRobin(servers);
        SplittableRandom random = new SplittableRandom(42);
        assertSharesFollowWeights(servers, Servers.count(servers, PICKS, () -> rr.pick(Pick.of(0, random))));
    }

    @Test
    void randomSharesWithin2PointsOfWeights() {
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        Random balancer = new Random(servers);
        SplittableRandom random = new SplittableRandom(42);
        assertSharesFollowWeights(servers, Servers.count(servers, PICKS, () -> balancer.pick(Pick.of(0, random))));
    }

    @Test
    void leastConnectionsUnderLoadSharesWithin2PointsOfWeights() {
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        assertSharesFollowWeights(servers, countUnderLoad(servers, new LeastConnections(servers),
                Server::connectionOpened, Server::connectionClosed));
    }

    @Test
    void leastRequestUnderLoadSharesWithin2PointsOfWeights() {
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        assertSharesFollowWeights(servers, countUnderLoad(servers, new LeastRequest(servers),
                Server::requestStarted, Server::requestFinished));
    }

    @Test
    void leastRequestIdleSharesWithin2PointsOfWeights() {
        // no load at all: every comparison ties, so the weighted first candidate decides
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        LeastRequest balancer = new LeastRequest(servers);
        SplittableRandom random = new SplittableRandom(42);
        assertSharesFollowWeights(servers, Servers.count(servers, PICKS, () -> balancer.pick(Pick.of(0, random))));
    }

    @Test
    void maglevUniformKeysSharesWithin2PointsOfWeights() {
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        assertSharesFollowWeights(servers, countUniformKeys(servers, new Maglev(servers)));
    }

    @Test
    void ringHashUniformKeysSharesWithin2PointsOfWeights() {
        List<WeightedServer> servers = Servers.weighted(WEIGHTS);
        assertSharesFollowWeights(servers, countUniformKeys(servers, new RingHash(servers)));
    }
}
