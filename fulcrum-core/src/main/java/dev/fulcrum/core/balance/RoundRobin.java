package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * {@code round-robin}: nginx's smooth weighted round-robin ({@link SmoothCycle}). Over one cycle
 * (sum of the weights, divided by their greatest common divisor) every server is picked exactly
 * weight times, and heavy servers are interleaved with light ones rather than picked in bursts:
 * weights {@code a:5, b:1, c:1} give {@code a a b a c a a}.
 *
 * <p>The cycle is computed once at construction (nginx's stateful "current weight" loop, run
 * ahead of time) and stored as an array of server indices; a pick is one
 * {@link AtomicLong#getAndIncrement()} on the shared cursor and one array read, so concurrent
 * event loops never lock and together walk the sequence exactly once per cycle. When the cursor's
 * entry is excluded (a retry), the pick takes the next entry of the cycle that is not.
 *
 * <p>Bounded fallback: precomputing costs servers × cycle-length steps. When that exceeds
 * {@link #SMOOTH_WORK_LIMIT} (2^24 steps, which also caps the stored cycle at 65536 entries;
 * reached only by pools of a few hundred servers with unequal weights, e.g. 300 servers mixing
 * weights 255 and 256), the cycle is instead LVS's interleaved weighted
 * round-robin, computed per position from O(servers + max weight) memory: round r serves, in order,
 * every server whose weight exceeds r. Same counts per cycle, less smooth.
 *
 * <p>Immutable apart from the atomic cursor; thread-safe.
 */
final class RoundRobin implements Balancer {

    /** Most servers × cycle-length steps spent precomputing the smooth sequence. */
    static final long SMOOTH_WORK_LIMIT = 1L << 24;

    private final List<WeightedServer> servers;
    private final int cycleLength;
    /** Smooth sequence of server indices, one full cycle; null when using the interleaved fallback. */
    private final int[] smooth;
    /** Fallback: server indices by reduced weight, heaviest first (stable). */
    private final int[] byWeight;
    /** Fallback: roundEnds[r] = positions used by rounds 0..r; round r serves byWeight[0 .. count(w > r)). */
    private final int[] roundEnds;
    private final AtomicLong cursor = new AtomicLong();

    RoundRobin(List<WeightedServer> servers) {
        this.servers = servers;
        int n = servers.size();
        int[] weights = SmoothCycle.reduced(servers.stream().mapToInt(WeightedServer::weight).toArray());
        long total = 0;
        for (int w : weights) {
            total += w;
        }
        // weights are <= 256 (Server's bound) so total <= 256 n fits an int for any real pool
        this.cycleLength = Math.toIntExact(total);
        if (total * n <= SMOOTH_WORK_LIMIT) {
            this.smooth = SmoothCycle.of(weights);
            this.byWeight = null;
            this.roundEnds = null;
        } else {
            this.smooth = null;
            this.byWeight = IntStream.range(0, n).boxed()
                    .sorted((a, b) -> Integer.compare(weights[b], weights[a]))
                    .mapToInt(Integer::intValue).toArray();
            int rounds = weights[byWeight[0]];
            this.roundEnds = new int[rounds];
            int end = 0;
            int serving = n;
            for (int r = 0; r < rounds; r++) {
                while (weights[byWeight[serving - 1]] <= r) {
                    serving--;
                }
                end += serving;
                roundEnds[r] = end;
            }
        }
    }

    @Override
    public Server pick(Pick pick) {
        long position = cursor.getAndIncrement();
        Server server = servers.get(indexAt(position)).server();
        if (pick.excluded().isEmpty() || !pick.isExcluded(server)) {
            return server;
        }
        // every server appears in one cycle, so a full lap without a hit means all are excluded
        for (int step = 1; step < cycleLength; step++) {
            Server next = servers.get(indexAt(position + step)).server();
            if (!pick.isExcluded(next)) {
                return next;
            }
        }
        return null;
    }

    /** The server index of the next cursor position; advances the cursor. For tie-breaking elsewhere. */
    int nextIndex() {
        return indexAt(cursor.getAndIncrement());
    }

    /** The server index at a cursor position; positions are taken modulo the cycle (unsigned). */
    private int indexAt(long position) {
        int p = (int) Long.remainderUnsigned(position, cycleLength);
        if (smooth != null) {
            return smooth[p];
        }
        int round = Arrays.binarySearch(roundEnds, p + 1);
        round = round >= 0 ? round : -round - 1;
        int roundStart = round == 0 ? 0 : roundEnds[round - 1];
        return byWeight[p - roundStart];
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
