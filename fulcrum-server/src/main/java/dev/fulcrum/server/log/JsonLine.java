package dev.fulcrum.server.log;

/**
 * {@code format: json}: one JSON object per line, its fields always present and always in this
 * order (null when there is no value):
 * {@code time} (ISO 8601, UTC, milliseconds), {@code client}, {@code listener}, {@code route},
 * {@code pool}, {@code server}, {@code method}, {@code path}, {@code protocol}, {@code status}
 * (a number), {@code bytes_in}, {@code bytes_out}, {@code duration_ms} (a number with three
 * decimals), {@code request_id}, {@code referer}, {@code user_agent}. Confined to the writer thread.
 */
final class JsonLine implements LineFormat {

    private final LogTime time = new LogTime();

    @Override
    public void append(AccessEntry e, LineBuffer out) {
        out.ascii("{\"time\":\"");
        time.iso(e.startMillis(), out);
        out.ascii("\",\"client\":").jsonString(e.client());
        out.ascii(",\"listener\":").jsonString(e.listener());
        out.ascii(",\"route\":").jsonString(e.route());
        out.ascii(",\"pool\":").jsonString(e.pool());
        out.ascii(",\"server\":").jsonString(e.server());
        out.ascii(",\"method\":").jsonString(e.method());
        out.ascii(",\"path\":").jsonString(e.path());
        out.ascii(",\"protocol\":").jsonString(e.protocol());
        out.ascii(",\"status\":").numberOr(e.status(), "null");
        out.ascii(",\"bytes_in\":").number(e.bytesIn());
        out.ascii(",\"bytes_out\":").number(e.bytesOut());
        out.ascii(",\"duration_ms\":").thousandths(e.durationNanos() / 1000);
        out.ascii(",\"request_id\":").jsonString(e.requestId());
        out.ascii(",\"referer\":").jsonString(e.referer());
        out.ascii(",\"user_agent\":").jsonString(e.userAgent());
        out.ascii("}\n");
    }
}
