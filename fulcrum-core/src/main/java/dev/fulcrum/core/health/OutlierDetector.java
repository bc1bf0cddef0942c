package dev.fulcrum.core.health;

import java.time.Duration;
import java.time.Instant;

/**
 * Passive outlier detection (spec {@code outlier-detection}): the decisions, with no state of its
 * own and no clock; the runtime keeps the per-server streaks and histories and passes {@code now}.
 *
 * <p><b>Streaks.</b> A {@link RequestOutcome#GATEWAY_FAILURE} adds one to the gateway streak and to the
 * 5xx streak (the client saw a 502/504); a {@link RequestOutcome#SERVER_5XX} adds one to the 5xx streak
 * and ends the gateway streak; a {@link RequestOutcome#SUCCESS} ends both ({@link Streaks}). A server
 * trips when either streak reaches its threshold ({@link #tripReason}).
 *
 * <p><b>Ejection time.</b> The n-th ejection lasts {@code base-ejection × n}, at most
 * {@code 10 × base-ejection} (30s, 60s, 90s ... 300s for the default 30s; Envoy's rule). The
 * multiplier decays: for every full {@code base-ejection} a server stays in rotation after it
 * came back, its count of ejections drops by one (Envoy decrements it likewise), so a server that
 * failed once a week ago starts again at 1×.
 *
 * <p><b>Max ejection percent.</b> An ejection is allowed only when the ejected servers, this one
 * included, stay within {@code max-ejection-percent} of the pool's registered servers, rounded
 * down: {@code (ejected + 1) × 100 <= percent × poolSize}. When the percentage allows no server at
 * all (a pool of one at 50%) nothing is ejected: taking the last servers away would turn errors
 * from one server into 503s for every request.
 *
 * <p>Immutable and thread-safe.
 */
public final class OutlierDetector {

    /** The ejection multiplier never exceeds this (spec: "up to 10x"). */
    public static final int MAX_MULTIPLIER = 10;

    private final int consecutiveGatewayFailures;
    private final int consecutive5xx;
    private final Duration baseEjection;
    private final int maxEjectionPercent;

    /**
     * @param consecutiveGatewayFailures gateway failures in a row that trip the server; 0 turns this trigger off
     * @param consecutive5xx             5xx answers in a row that trip the server; 0 turns this trigger off
     * @param baseEjection               the first ejection's length, > 0
     * @param maxEjectionPercent         0..100
     */
    public OutlierDetector(int consecutiveGatewayFailures, int consecutive5xx, Duration baseEjection,
                           int maxEjectionPercent) {
        if (consecutiveGatewayFailures < 0 || consecutive5xx < 0) {
            throw new IllegalArgumentException("thresholds must be >= 0");
        }
        if (baseEjection.isNegative() || baseEjection.isZero()) {
            throw new IllegalArgumentException("base-ejection must be > 0");
        }
        if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
            throw new IllegalArgumentException("max-ejection-percent must be 0..100");
        }
        this.consecutiveGatewayFailures = consecutiveGatewayFailures;
        this.consecutive5xx = consecutive5xx;
        this.baseEjection = baseEjection;
        this.maxEjectionPercent = maxEjectionPercent;
    }

    public Duration baseEjection() {
        return baseEjection;
    }

    /**
     * Whether the streaks trip the server: the event detail ({@code 3 consecutive gateway failures},
     * {@code 5 consecutive 5xx}), or null when neither threshold is reached.
     */
    public String tripReason(int gatewayStreak, int streak5xx) {
        if (consecutiveGatewayFailures > 0 && gatewayStreak >= consecutiveGatewayFailures) {
            return gatewayStreak + " consecutive gateway failures";
        }
        if (consecutive5xx > 0 && streak5xx >= consecutive5xx) {
            return streak5xx + " consecutive 5xx";
        }
        return null;
    }

    /** How long the {@code n}-th ejection lasts: {@code base × min(n, 10)}, n >= 1. */
    public static Duration ejectionTime(Duration base, int n) {
        return base.multipliedBy(Math.clamp(n, 1, MAX_MULTIPLIER));
    }

    /** How many servers of a pool of {@code poolSize} may be ejected at once. */
    public static int maxEjected(int poolSize, int maxEjectionPercent) {
        return poolSize * maxEjectionPercent / 100;
    }

    /**
     * Decides on a tripped server.
     *
     * @param history     the server's past ejections
     * @param ejectedNow  servers of the pool ejected right now (this one not included)
     * @param poolSize    registered servers of the pool
     */
    public Decision decide(Instant now, History history, int ejectedNow, int poolSize) {
        int allowed = maxEjected(poolSize, maxEjectionPercent);
        if (ejectedNow + 1 > allowed) {
            return new Decision.Hold(ejectedNow + " of " + poolSize + " servers already ejected, max-ejection-percent "
                    + maxEjectionPercent + " allows " + allowed);
        }
        int n = decayed(history, now) + 1;
        Duration time = ejectionTime(baseEjection, n);
        return new Decision.Eject(time, now.plus(time), new History(Math.min(n, MAX_MULTIPLIER), null));
    }

    /** The ejection count after decay: one less per full base-ejection in rotation since the return. */
    int decayed(History history, Instant now) {
        if (history.ejections() == 0 || history.returnedAt() == null) {
            return history.ejections();
        }
        long healthy = Duration.between(history.returnedAt(), now).toNanos();
        long steps = Math.max(0, healthy / baseEjection.toNanos());
        return (int) Math.max(0, history.ejections() - steps);
    }

    /**
     * A server's ejection record: how many times it was ejected (after decay at the last decision,
     * at most 10) and when it last came back ({@code null} while ejected or never ejected).
     */
    public record History(int ejections, Instant returnedAt) {
        public static final History NONE = new History(0, null);

        /** The server came back into rotation at {@code at}. */
        public History returned(Instant at) {
            return new History(ejections, at);
        }
    }

    /** What to do with a tripped server. */
    public sealed interface Decision {
        /** Eject for {@code time}, until {@code until}; the server's history becomes {@code next}. */
        record Eject(Duration time, Instant until, History next) implements Decision {
        }

        /** Do not eject (max-ejection-percent); {@code why} is for the log. */
        record Hold(String why) implements Decision {
        }
    }

    /**
     * The consecutive-result streaks of one server, as plain ints: for tests and single-threaded
     * callers (the server runtime keeps the same rules with atomics). Not thread-safe.
     */
    public static final class Streaks {
        private int gateway;
        private int fivexx;

        /** Counts one outcome; returns the trip reason when a threshold is reached, else null. */
        public String record(OutlierDetector detector, RequestOutcome outcome) {
            switch (outcome) {
                case SUCCESS -> {
                    gateway = 0;
                    fivexx = 0;
                }
                case GATEWAY_FAILURE -> {
                    gateway++;
                    fivexx++;
                }
                case SERVER_5XX -> {
                    gateway = 0;
                    fivexx++;
                }
            }
            return detector.tripReason(gateway, fivexx);
        }

        /** Forgets both streaks (after an ejection, or a refused one). */
        public void reset() {
            gateway = 0;
            fivexx = 0;
        }

        public int gateway() {
            return gateway;
        }

        public int fivexx() {
            return fivexx;
        }
    }
}
