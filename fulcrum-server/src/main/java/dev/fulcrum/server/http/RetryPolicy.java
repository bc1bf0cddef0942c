package dev.fulcrum.server.http;

import io.netty.handler.codec.http.HttpMethod;

import java.util.Set;

/**
 * When a failed try may go to another server. Bodies are streamed, not kept, so a request whose
 * body bytes already went to a server cannot be sent again. Within that:
 * <ul>
 *   <li>a failed connect (refused, timeout) is always retried: the server saw nothing;</li>
 *   <li>a connection closed or reset before any response byte is retried for idempotent methods
 *       (GET, HEAD, OPTIONS, PUT, DELETE, TRACE), and for others (POST, PATCH) only if not even
 *       the request head was written;</li>
 *   <li>a {@code response-timeout} (no response byte in time) is retried for idempotent methods
 *       when no body byte was sent, like Envoy's per-try timeout: a hung server then costs the
 *       client one timeout, not the request; a POST or PATCH, or a request whose body started,
 *       gets the 504 (the server may have acted);</li>
 *   <li>once the response started, never.</li>
 * </ul>
 * Pure; the count of retries ({@code retries}) is the caller's business.
 */
final class RetryPolicy {

    private static final Set<HttpMethod> IDEMPOTENT = Set.of(HttpMethod.GET, HttpMethod.HEAD,
            HttpMethod.OPTIONS, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.TRACE);

    private RetryPolicy() {
    }

    /**
     * @param connected       the try got a connection (false: the connect failed)
     * @param headWritten     the request head was written to that connection
     * @param bodyBytesSent   some request body bytes were written, on this try or an earlier one
     * @param responseStarted a response head (other than 1xx) arrived
     */
    static boolean mayRetry(HttpMethod method, boolean connected, boolean headWritten, boolean bodyBytesSent,
                            boolean responseStarted) {
        if (responseStarted || bodyBytesSent) {
            return false;
        }
        return !connected || !headWritten || IDEMPOTENT.contains(method);
    }

    /**
     * After a response timeout fired before any response byte (the request head reached the server).
     *
     * @param bodyBytesSent some request body bytes were written, on this try or an earlier one
     */
    static boolean mayRetryAfterTimeout(HttpMethod method, boolean bodyBytesSent) {
        return !bodyBytesSent && IDEMPOTENT.contains(method);
    }
}
