package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.Arrays;
import java.util.List;

/**
 * {@code ring-hash}: Ketama-style consistent hashing. Each server puts points on a 64-bit ring at
 * {@code Hashing.hash64(id + "#" + k)} for {@code k = 0 .. points-1}; a request goes to the owner of
 * the first point at or after its key hash (unsigned order, wrapping round), and a retry walks on
 * clockwise to the next point whose owner is not excluded.
 *
 * <p>Ring size: a server of the pool's top weight gets {@value #TOP_WEIGHT_POINTS} points, fewer when
 * the pool is large ({@value #MAX_RING} / servers each) and others in proportion to weight
 * (rounded up, so at least one). The ring never has fewer than {@value #MIN_RING} points (Envoy's
 * {@code minimum_ring_size}): many light servers raise the count. So a pool's ring has between 1024
 * and about 65536 points (plus at most one per server from rounding). Because a server's point count
 * depends only on its weight relative to the top weight and on the pool size (for pools of at most
 * 16 servers, not at all), removing one server of an equal-weight pool leaves every other point in
 * place and moves only the removed server's keys.
 *
 * <p>Immutable; lookups are a binary search, O(log points). Thread-safe.
 */
final class RingHash implements Balancer {

    static final int MIN_RING = 1024;
    static final int MAX_RING = 65536;
    static final int TOP_WEIGHT_POINTS = 4096;

    private final List<WeightedServer> servers;
    /** Point hashes with the sign bit flipped, so signed order is the ring's unsigned order; ascending. */
    private final long[] points;
    /** owners[i] = index of the server owning points[i]. */
    private final int[] owners;

    RingHash(List<WeightedServer> servers) {
        this.servers = servers;
        int n = servers.size();
        long top = 0;
        long totalWeight = 0;
        for (WeightedServer ws : servers) {
            top = Math.max(top, ws.weight());
            totalWeight += ws.weight();
        }
        long perTop = Math.max(Math.min(TOP_WEIGHT_POINTS, MAX_RING / n),
                Math.ceilDiv(MIN_RING * top, totalWeight));
        int[] counts = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) {
            counts[i] = (int) Math.ceilDiv(perTop * servers.get(i).weight(), top);
            total += counts[i];
        }
        long[] hashes = new long[total];
        int[] owner = new int[total];
        int p = 0;
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < n; i++) {
            name.setLength(0);
            name.append(servers.get(i).server().id()).append('#');
            int prefix = name.length();
            for (int k = 0; k < counts[i]; k++) {
                name.setLength(prefix);
                hashes[p] = Hashing.hash64(name.append(k)) ^ Long.MIN_VALUE;
                owner[p] = i;
                p++;
            }
        }
        this.points = new long[total];
        this.owners = new int[total];
        sortByPosition(hashes, owner, points, owners);
    }

    /**
     * Sorts the points by position into {@code points}/{@code owners} without boxing (the ring is
     * rebuilt with every snapshot, up to 65536 points): a primitive sort on the position's high 32
     * bits with the point's index in the low 32, then an insertion pass on the full 64 bits, which
     * is linear because only points sharing their high 32 bits can still be out of order. Points at
     * the same position (vanishingly rare) are ordered by server, so the ring is deterministic.
     */
    private static void sortByPosition(long[] hashes, int[] owner, long[] points, int[] owners) {
        long[] keyed = new long[hashes.length];
        for (int i = 0; i < keyed.length; i++) {
            keyed[i] = (hashes[i] >> 32) << 32 | i;
        }
        Arrays.sort(keyed);
        for (int i = 0; i < keyed.length; i++) {
            int from = (int) keyed[i];
            long position = hashes[from];
            int server = owner[from];
            int j = i;
            while (j > 0 && (points[j - 1] > position || points[j - 1] == position && owners[j - 1] > server)) {
                points[j] = points[j - 1];
                owners[j] = owners[j - 1];
                j--;
            }
            points[j] = position;
            owners[j] = server;
        }
    }

    @Override
    public Server pick(Pick pick) {
        int at = Arrays.binarySearch(points, pick.hash() ^ Long.MIN_VALUE);
        at = at >= 0 ? at : -at - 1;
        for (int step = 0; step < points.length; step++) {
            int i = at + step;
            if (i >= points.length) {
                i -= points.length;
            }
            Server server = servers.get(owners[i]).server();
            if (!pick.isExcluded(server)) {
                return server;
            }
        }
        return null; // every server owns a point, so a full lap means all are excluded
    }

    /** How many points the ring holds. */
    int ringSize() {
        return points.length;
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
