package dev.fulcrum.server.log;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Writes an epoch-milliseconds time in UTC, as ISO 8601 ({@code 2026-12-07T01:23:45.678Z}) or as
 * the combined format's {@code [07/Dec/2026:01:23:45 +0000]} text; the date and time of the last
 * second seen are kept, since a busy log writes thousands of lines per second. Confined to the
 * writer thread.
 */
final class LogTime {

    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
            "Nov", "Dec"};

    private long second = Long.MIN_VALUE;
    private LocalDateTime time;

    /** {@code 2026-12-07T01:23:45.678Z}. */
    void iso(long epochMillis, LineBuffer out) {
        LocalDateTime t = at(epochMillis);
        out.padded(t.getYear(), 4).ascii('-').padded(t.getMonthValue(), 2).ascii('-').padded(t.getDayOfMonth(), 2)
                .ascii('T').padded(t.getHour(), 2).ascii(':').padded(t.getMinute(), 2).ascii(':')
                .padded(t.getSecond(), 2).ascii('.').padded(Math.floorMod(epochMillis, 1000), 3).ascii('Z');
    }

    /** {@code 07/Dec/2026:01:23:45 +0000}, the time of Apache's {@code %t} (in UTC). */
    void combined(long epochMillis, LineBuffer out) {
        LocalDateTime t = at(epochMillis);
        out.padded(t.getDayOfMonth(), 2).ascii('/').ascii(MONTHS[t.getMonthValue() - 1]).ascii('/')
                .padded(t.getYear(), 4).ascii(':').padded(t.getHour(), 2).ascii(':').padded(t.getMinute(), 2)
                .ascii(':').padded(t.getSecond(), 2).ascii(" +0000");
    }

    private LocalDateTime at(long epochMillis) {
        long s = Math.floorDiv(epochMillis, 1000);
        if (s != second) {
            second = s;
            time = LocalDateTime.ofEpochSecond(s, 0, ZoneOffset.UTC);
        }
        return time;
    }
}
