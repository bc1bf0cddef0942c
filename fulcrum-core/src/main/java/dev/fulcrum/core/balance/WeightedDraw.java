package dev.fulcrum.core.balance;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Draws a server index with probability proportional to its weight: prefix sums of the weights and
 * a binary search on one uniform draw in {@code [0, total)}. Shared by {@link Random} and
 * {@link LeastRequest}.
 *
 * <p>Immutable after construction; thread-safe as long as the random source given to each call is.
 */
final class WeightedDraw {

    private final List<WeightedServer> servers;
    /** ends[i] = weight[0] + ... + weight[i]; strictly increasing because every weight is >= 1. */
    private final long[] ends;
    private final long total;

    WeightedDraw(List<WeightedServer> servers) {
        this.servers = servers;
        this.ends = new long[servers.size()];
        long sum = 0;
        for (int i = 0; i < ends.length; i++) {
            sum += servers.get(i).weight();
            ends[i] = sum;
        }
        this.total = sum;
    }

    /** Any server, by weight. */
    int draw(RandomGenerator random) {
        return indexOf(random.nextLong(total));
    }

    /**
     * A server other than {@code other}, by weight among the rest. Needs at least two servers.
     * The other slices are laid end to end with {@code other}'s cut out, so one draw suffices.
     */
    int drawOther(RandomGenerator random, int other) {
        long otherWeight = servers.get(other).weight();
        long r = random.nextLong(total - otherWeight);
        if (r >= ends[other] - otherWeight) {
            r += otherWeight;
        }
        return indexOf(r);
    }

    /**
     * By weight among the servers that the pick does not exclude and that are not {@code other}
     * (pass -1 to skip nobody); -1 when none is left. Linear in the number of servers: only picks
     * with exclusions (retries) come here.
     */
    int drawAllowed(Pick pick, int other) {
        long allowed = 0;
        for (int i = 0; i < ends.length; i++) {
            if (i != other && !pick.isExcluded(servers.get(i).server())) {
                allowed += servers.get(i).weight();
            }
        }
        if (allowed == 0) {
            return -1;
        }
        long r = pick.random().nextLong(allowed);
        for (int i = 0; i < ends.length; i++) {
            if (i != other && !pick.isExcluded(servers.get(i).server())) {
                int w = servers.get(i).weight();
                if (r < w) {
                    return i;
                }
                r -= w;
            }
        }
        throw new AssertionError("draw " + r + " beyond allowed weight " + allowed);
    }

    /** The first index whose slice end is above {@code r}, for {@code 0 <= r < total}. */
    private int indexOf(long r) {
        int lo = 0;
        int hi = ends.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] > r) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
