package dev.fulcrum.server.log;

/**
 * {@code format: combined}: the Apache/nginx combined format, then the request time in seconds
 * (three decimals, nginx's {@code $request_time}) and the request id:
 * <pre>
 * client - - [07/Dec/2026:01:23:45 +0000] "GET /path?q HTTP/1.1" 200 1234 "referer" "user agent" 0.012 request-id
 * </pre>
 * The byte count is {@code bytes_out}, head included (nginx's {@code $bytes_sent}, Apache's
 * {@code %O}); the time is when the request arrived, in UTC. What is absent is {@code -} (a
 * request line Fulcrum could not read, a TCP connection's request line and status). Values are
 * escaped as nginx does ({@code \xHH}). Confined to the writer thread.
 */
final class CombinedLine implements LineFormat {

    private final LogTime time = new LogTime();

    @Override
    public void append(AccessEntry e, LineBuffer out) {
        out.combined(e.client(), true).ascii(" - - [");
        time.combined(e.startMillis(), out);
        out.ascii("] \"");
        if (e.method() == null) {
            out.ascii('-');
        } else {
            out.combined(e.method(), false).ascii(' ').combined(e.path(), false).ascii(' ')
                    .combined(e.protocol(), false);
        }
        out.ascii("\" ").numberOr(e.status(), "-").ascii(' ').number(e.bytesOut());
        out.ascii(" \"").combined(e.referer(), false).ascii("\" \"").combined(e.userAgent(), false).ascii("\" ");
        out.thousandths(e.durationNanos() / 1_000_000).ascii(' ').combined(e.requestId(), true).ascii('\n');
    }
}
