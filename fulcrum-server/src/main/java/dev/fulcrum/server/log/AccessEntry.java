package dev.fulcrum.server.log;

/**
 * What one access-log line says, made on the event loop when a request (or a TCP connection)
 * ends and formatted later, on the access log's writer thread: only references and numbers the
 * data path already has, so making one costs one small object and no formatting. Immutable.
 *
 * <p>Null stands for "none" and is written as {@code null} (JSON) or {@code -} (combined): a
 * request Fulcrum answered before a server was tried has no {@code server}; a request the decoder
 * refused has no method, path, protocol, referer or user agent; a TCP connection has no method,
 * path, status ({@code 0}), request id, referer or user agent.
 *
 * @param startMillis   when the request arrived (the connection, for TCP), milliseconds since the epoch
 * @param client        the client's IP address
 * @param listener      the listener's name
 * @param route         the route's name ({@code LISTENER#N} when the route has none)
 * @param pool          the pool the route sends to
 * @param server        the last server tried, {@code host:port}
 * @param method        the request method
 * @param path          the request target as forwarded (path and query)
 * @param protocol      {@code HTTP/1.1}, {@code HTTP/1.0} or {@code TCP}
 * @param status        the status the client got; 499 when it went away before a response head; 0 for TCP
 * @param bytesIn       bytes received from the client: request head and body (TCP: all); 0 when unread
 * @param bytesOut      bytes sent to the client: response head and body (TCP: all)
 * @param durationNanos from {@code startMillis} to the end of the response (of the connection, for TCP)
 * @param requestId     the {@code X-Request-Id} the server got (and Fulcrum's own answer carried)
 * @param referer       the {@code Referer} header
 * @param userAgent     the {@code User-Agent} header
 */
public record AccessEntry(long startMillis, String client, String listener, String route, String pool,
                          String server, String method, String path, String protocol, int status, long bytesIn,
                          long bytesOut, long durationNanos, String requestId, String referer, String userAgent) {

    /** The {@code protocol} of a TCP connection's line. */
    public static final String TCP = "TCP";

    /** The line of a TCP connection that ended. */
    public static AccessEntry tcp(long startMillis, String client, String listener, String route, String pool,
                                  String server, long bytesIn, long bytesOut, long durationNanos) {
        return new AccessEntry(startMillis, client, listener, route, pool, server, null, null, TCP, 0, bytesIn,
                bytesOut, durationNanos, null, null, null);
    }
}
