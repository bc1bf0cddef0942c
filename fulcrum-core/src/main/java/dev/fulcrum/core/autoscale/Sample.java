package dev.fulcrum.core.autoscale;

import java.time.Instant;
import java.util.Objects;

/**
 * One reading of the watched metric on one server, already divided by {@code scale}.
 *
 * @param server the server's {@code host:port}
 * @param at     when the reading was taken
 * @param value  the metric's value (for CPU, 0..1)
 */
public record Sample(String server, Instant at, double value) {
    public Sample {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(at, "at");
        if (!Double.isFinite(value)) {
            // NaN and infinities are unknown readings; the scraper drops them before they get here
            throw new IllegalArgumentException("sample value must be finite, got " + value);
        }
    }
}
