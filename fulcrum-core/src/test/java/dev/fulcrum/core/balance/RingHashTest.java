package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class RingHashTest {

    private static final SplittableRandom RANDOM = new SplittableRandom(42);

    @Test
    void ringHasAtLeast1024PointsForOneAndThreeServers() {
        assertThat(new RingHash(Servers.equal(1)).ringSize()).isGreaterThanOrEqualTo(1024);
        assertThat(new RingHash(Servers.weighted(1, 1, 256)).ringSize()).isGreaterThanOrEqualTo(1024);
    }

    @Test
    void ringSizeStaysBoundedForLargePools() {
        int[] weights = new int[1000];
        java.util.Arrays.fill(weights, 1);
        weights[0] = 256;
        RingHash ring = new RingHash(Servers.weighted(weights));
        assertThat(ring.ringSize()).isBetween(1024, 65536 + 1000);
        int[] heavy = new int[1000];
        java.util.Arrays.fill(heavy, 256);
        assertThat(new RingHash(Servers.weighted(heavy)).ringSize()).isBetween(1024, 65536 + 1000);
    }

    @Test
    void keysGoToTheFirstPointClockwiseAndRetriesToTheNextOtherOwner() {
        List<WeightedServer> servers = Servers.equal(3);
        RingHash ring = new RingHash(servers);
        // the documented ring, spelled out: equal weights in a small pool give 4096 points each at
        // hash64("host:port#k"); a key belongs to the first point at or above it, unsigned, wrapping
        List<long[]> points = new java.util.ArrayList<>(); // {hash, owner}
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < 4096; k++) {
                points.add(new long[]{Hashing.hash64(servers.get(i).server().id() + "#" + k), i});
            }
        }
        points.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        assertThat(ring.ringSize()).isEqualTo(points.size());
        SplittableRandom keys = new SplittableRandom(42);
        for (int n = 0; n < 500; n++) {
            long key = keys.nextLong();
            int at = 0;
            while (at < points.size() && Long.compareUnsigned(points.get(at)[0], key) < 0) {
                at++;
            }
            at %= points.size();
            int owner = (int) points.get(at)[1];
            int retryAt = at;
            while (points.get(retryAt)[1] == owner) {
                retryAt = (retryAt + 1) % points.size();
            }
            Server first = servers.get(owner).server();
            assertThat(ring.pick(Pick.of(key, keys))).isSameAs(first);
            assertThat(ring.pick(Pick.of(key, keys).excluding(first)))
                    .isSameAs(servers.get((int) points.get(retryAt)[1]).server());
        }
    }

    @Test
    void keyExactlyOnAPointBelongsToThatPointsServer() {
        List<WeightedServer> servers = Servers.equal(3);
        RingHash ring = new RingHash(servers);
        long point = Hashing.hash64("127.0.0.1:9102#5");
        assertThat(ring.pick(Pick.of(point, RANDOM))).isSameAs(servers.get(1).server());
    }

    @Test
    void keysWrapAroundTheTopOfTheRing() {
        List<WeightedServer> servers = Servers.equal(3);
        RingHash ring = new RingHash(servers);
        // -1 is the largest unsigned key: past every point, so it wraps to the lowest point, as 0 does
        assertThat(ring.pick(Pick.of(-1L, RANDOM))).isSameAs(ring.pick(Pick.of(0L, RANDOM)));
    }
}
