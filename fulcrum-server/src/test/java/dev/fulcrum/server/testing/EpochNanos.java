package dev.fulcrum.server.testing;

import java.time.Instant;

/**
 * Wall-clock time (CLOCK_REALTIME) in nanoseconds since the epoch: the one clock that a test, a
 * shell loop ({@code $EPOCHREALTIME}, {@code date +%s%N}) and a notify script in another network
 * namespace share. Microsecond precision on Linux. Use it only to compare instants taken in
 * different processes; within the JVM prefer {@link System#nanoTime()}. Stateless.
 */
public final class EpochNanos {

    private EpochNanos() {
    }

    public static long now() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** Milliseconds from {@code from} to {@code to}, both epoch nanos, with 0.1 ms kept. */
    public static double millisBetween(long from, long to) {
        return (to - from) / 1_000_000.0;
    }

    /**
     * Parses bash's {@code $EPOCHREALTIME} ({@code SECONDS.MICROS}, C locale) or a plain
     * {@code date +%s%N} number.
     */
    public static long parse(String text) {
        int dot = text.indexOf('.');
        if (dot < 0) {
            return Long.parseLong(text);
        }
        String fraction = (text.substring(dot + 1) + "000000000").substring(0, 9);
        return Long.parseLong(text.substring(0, dot)) * 1_000_000_000L + Long.parseLong(fraction);
    }
}
