package dev.fulcrum.core.health;

import java.time.Duration;

/**
 * Slow start (spec {@code slow-start}): a server that just came up gets a share of its configured
 * weight that grows linearly from 10% to 100% over the slow-start window, so a cold server (empty
 * caches, JIT not warm) is not handed its full share at once.
 *
 * <p>{@code effective = floor(weight × (0.1 + 0.9 × sinceUp / slowStart))}, at least 1 while
 * ramping, and exactly {@code weight} once {@code sinceUp >= slowStart} or when slow start is
 * off ({@code 0s}). Computed in whole milliseconds. Pure and thread-safe.
 */
public final class SlowStart {

    private SlowStart() {
    }

    /**
     * @param weight    the configured weight, 0..256 (0 stays 0: no traffic)
     * @param sinceUp   time since the server came up (negative counts as 0)
     * @param slowStart the window; zero or negative turns slow start off
     */
    public static int effectiveWeight(int weight, Duration sinceUp, Duration slowStart) {
        if (weight <= 0) {
            return 0;
        }
        long window = slowStart.toMillis();
        long since = Math.max(0, sinceUp.toMillis());
        if (window <= 0 || since >= window) {
            return weight;
        }
        // weight × (window + 9 × since) / (10 × window): 10% at 0, 100% at window; no overflow
        // for weight <= 256 and windows below ~100 years.
        long w = weight * (window + 9 * since) / (10 * window);
        return (int) Math.max(1, w);
    }

    /** Whether a server up for {@code sinceUp} is still ramping. */
    public static boolean ramping(Duration sinceUp, Duration slowStart) {
        return slowStart.toMillis() > 0 && sinceUp.toMillis() < slowStart.toMillis();
    }
}
