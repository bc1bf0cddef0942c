package dev.fulcrum.core.balance;

/**
 * nginx's smooth weighted round-robin, run ahead of time into one cycle of indices: over a cycle
 * every index appears exactly its weight times, heavy ones interleaved with light ones rather than
 * in bursts (weights {@code 5, 1, 1} give {@code 0 0 1 0 2 0 0}). Shared by the {@code round-robin}
 * balancer and the routes' weighted split of traffic between pools. Stateless.
 */
public final class SmoothCycle {

    private SmoothCycle() {
    }

    /** The weights divided by their greatest common divisor: the same sequence, in a shorter cycle. */
    public static int[] reduced(int[] weights) {
        int g = 0;
        for (int w : weights) {
            g = gcd(g, w);
        }
        int[] out = new int[weights.length];
        for (int i = 0; i < weights.length; i++) {
            out[i] = weights[i] / g;
        }
        return out;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /**
     * One cycle of (the sum of the weights) picks: each step every index's current weight grows by
     * its weight, the largest (first on ties) is picked and loses the total. After a full cycle
     * every current weight is back to 0, so the cycle repeats exactly. Costs weights × sum steps;
     * the caller bounds it.
     */
    public static int[] of(int[] weights) {
        long sum = 0;
        for (int w : weights) {
            sum += w;
        }
        int total = Math.toIntExact(sum);
        int[] sequence = new int[total];
        long[] current = new long[weights.length];
        for (int t = 0; t < total; t++) {
            int best = 0;
            for (int i = 0; i < weights.length; i++) {
                current[i] += weights[i];
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            sequence[t] = best;
        }
        return sequence;
    }
}
