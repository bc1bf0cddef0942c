package dev.fulcrum.core.autoscale;

import java.util.Objects;

/**
 * What the policy decided: add {@code count} servers, remove {@code count}, or hold, and why.
 *
 * @param average the pool's average over the window; null when there was no fresh sample
 * @param reason  one line for events, logs and the dashboard, with the metric's value
 */
public record Decision(Direction direction, int count, Double average, String reason) {

    /** Which way the pool changes. */
    public enum Direction {
        OUT("out"), IN("in"), HOLD("hold");

        private final String wireName;

        Direction(String wireName) {
            this.wireName = wireName;
        }

        /** {@code out}, {@code in} or {@code hold}: the metric label and event wording. */
        public String wireName() {
            return wireName;
        }
    }

    public Decision {
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(reason, "reason");
        if (direction == Direction.HOLD ? count != 0 : count < 1) {
            throw new IllegalArgumentException(direction + " with count " + count);
        }
    }

    static Decision out(int count, Double average, String reason) {
        return new Decision(Direction.OUT, count, average, reason);
    }

    static Decision in(int count, Double average, String reason) {
        return new Decision(Direction.IN, count, average, reason);
    }

    static Decision hold(Double average, String reason) {
        return new Decision(Direction.HOLD, 0, average, reason);
    }
}
