package dev.fulcrum.core.text;

import java.time.Duration;

/**
 * Durations as the config spells them, for every message that names one ({@code 1500ms},
 * {@code 30s}, {@code 2m}, {@code 1h}): the shortest exact spelling, so an operator can paste it
 * back into the config. The one formatter of the project. Stateless.
 */
public final class Durations {

    private Durations() {
    }

    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        } else if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        } else if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
