package dev.fulcrum.core.autoscale;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of one {@code autoscale} entry that the policy needs: thresholds, window, cooldown
 * and bounds. Validated like the config loader validates them.
 */
public record ScalingRules(double scaleOutAbove, double scaleInBelow, Duration window, Duration cooldown,
                           int minServers, int maxServers) {
    public ScalingRules {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(cooldown, "cooldown");
        if (!(scaleInBelow < scaleOutAbove) || scaleOutAbove <= 0) {
            throw new IllegalArgumentException("need 0 <= scale-in-below < scale-out-above, got "
                    + scaleInBelow + " and " + scaleOutAbove);
        }
        if (window.isNegative() || window.isZero() || cooldown.isNegative()) {
            throw new IllegalArgumentException("window must be positive and cooldown not negative");
        }
        if (minServers < 1 || minServers > maxServers) {
            throw new IllegalArgumentException("need 1 <= min-servers <= max-servers, got " + minServers
                    + " and " + maxServers);
        }
    }
}
