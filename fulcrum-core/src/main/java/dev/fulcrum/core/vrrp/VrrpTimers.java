package dev.fulcrum.core.vrrp;

import java.math.BigDecimal;

/**
 * The timer arithmetic of RFC 5798 §6.1, in nanoseconds:
 * {@code Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256} and
 * {@code Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time}.
 *
 * <p>The RFC states the intervals in centiseconds; the skew is computed here exactly in
 * nanoseconds (rounded down to the nanosecond), not rounded to a whole centisecond: at a 10 ms
 * interval a whole-centisecond skew would be 0 for every priority above 0 and backups of different
 * priorities would all take over at the same instant. keepalived likewise computes it in
 * microseconds. Stateless.
 */
public final class VrrpTimers {

    /** One centisecond, the unit of the advert interval on the wire. */
    public static final long NANOS_PER_CENTISECOND = 10_000_000L;

    private VrrpTimers() {
    }

    /** An advert interval in centiseconds as nanoseconds. */
    public static long intervalNanos(int centiseconds) {
        return centiseconds * NANOS_PER_CENTISECOND;
    }

    /** Skew_Time for a router of {@code priority} when the master advertises every {@code masterAdvertIntervalCentis}. */
    public static long skewNanos(int priority, int masterAdvertIntervalCentis) {
        return (256L - priority) * intervalNanos(masterAdvertIntervalCentis) / 256;
    }

    /** Master_Down_Interval: how long a backup of {@code priority} waits without an advert. */
    public static long masterDownNanos(int priority, int masterAdvertIntervalCentis) {
        return 3 * intervalNanos(masterAdvertIntervalCentis) + skewNanos(priority, masterAdvertIntervalCentis);
    }

    /** Nanoseconds as milliseconds for reasons and logs: {@code 360.9375 ms}. */
    static String millis(long nanos) {
        return BigDecimal.valueOf(nanos, 6).stripTrailingZeros().toPlainString() + " ms";
    }
}
