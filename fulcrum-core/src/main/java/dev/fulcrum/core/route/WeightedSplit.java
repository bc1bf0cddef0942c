package dev.fulcrum.core.route;

import dev.fulcrum.core.balance.SmoothCycle;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;

/**
 * A route's {@code pools: [{pool, weight}]}: which pool each request goes to, in exact proportion
 * to the weights over every cycle of (sum of the weights, divided by their greatest common divisor)
 * picks, the pools interleaved by nginx's smooth weighted round-robin ({@link SmoothCycle}): weights
 * 90 and 10 send requests 1-9 of every 10 to the first pool and one to the second, never a burst
 * of ten. Deterministic: the n-th pick is always the same pool.
 *
 * <p>The cycle is computed once (at most 100 × pools entries, weights being 1..100); a pick is one
 * {@link AtomicLong#getAndIncrement()} and one array read, so event loops pick concurrently without
 * a lock and together walk the cycle in order. Immutable apart from the cursor; thread-safe.
 */
public final class WeightedSplit<T> {

    private final List<T> targets;
    private final int[] cycle;
    private final AtomicLong cursor = new AtomicLong();

    private WeightedSplit(List<T> targets, int[] cycle) {
        this.targets = targets;
        this.cycle = cycle;
    }

    /**
     * The split between {@code targets}, each weighted by {@code weight} (at least 1).
     *
     * @throws IllegalArgumentException when there is no target or a weight is below 1
     */
    public static <T> WeightedSplit<T> of(List<T> targets, ToIntFunction<? super T> weight) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("a split needs at least one target");
        }
        int[] weights = new int[targets.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = weight.applyAsInt(targets.get(i));
            if (weights[i] < 1) {
                throw new IllegalArgumentException("weight " + weights[i] + " is below 1");
            }
        }
        return new WeightedSplit<>(List.copyOf(targets), SmoothCycle.of(SmoothCycle.reduced(weights)));
    }

    /** The target of the next request. */
    public T next() {
        return targets.get(cycle[(int) Long.remainderUnsigned(cursor.getAndIncrement(), cycle.length)]);
    }
}
