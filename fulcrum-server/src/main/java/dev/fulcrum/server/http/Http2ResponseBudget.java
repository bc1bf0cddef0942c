package dev.fulcrum.server.http;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.util.ArrayDeque;

/**
 * The response bytes one client HTTP/2 connection holds, all its streams together: the DATA its
 * streams wrote that the connection has not sent yet (in Netty's flow controller, waiting for the
 * client's windows, or in its outbound buffer, waiting for the socket), added by
 * {@link Http2StreamBridge} and taken off as each write completes. Past {@link #LIMIT} the
 * connection's streams start no new read from their servers ({@link ProxyExchange}): backpressure,
 * not an error (the servers' own flow control or TCP window holds the rest); they go on, in the
 * order they stopped, once the client took enough.
 *
 * <p>What it bounds: a client that reads some streams slowly, or opens many, cannot make the
 * proxy hold more than the limit plus the server reads already under way when it was passed (one
 * per stream at most, each one socket read or one server DATA frame). A client that stops reading
 * altogether holds that much: each stream's next read starts only once its last bytes were sent.
 *
 * <p>One per client HTTP/2 connection, on its channel ({@link #KEY}); confined to its event loop.
 */
final class Http2ResponseBudget {

    static final AttributeKey<Http2ResponseBudget> KEY = AttributeKey.valueOf("fulcrum.h2-response-budget");

    /** Response bytes a connection may hold unsent before its streams stop reading their servers. */
    static final long LIMIT = 1024 * 1024;

    private long held;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();

    /** The budget of the HTTP/2 connection {@code stream} belongs to; null on an HTTP/1.1 connection. */
    static Http2ResponseBudget of(Channel stream) {
        Channel parent = stream.parent();
        return parent == null ? null : parent.attr(KEY).get();
    }

    /** The connection holds its limit: a stream waits ({@link #await}) before it reads its server again. */
    boolean full() {
        return held >= LIMIT;
    }

    /** {@code resume} runs once the connection holds less than its limit. */
    void await(Runnable resume) {
        waiting.add(resume);
    }

    /** Response bytes written to the connection and not sent yet. */
    void hold(long bytes) {
        held += bytes;
    }

    /** Bytes sent (or dropped with their stream): the streams that waited go on while there is room. */
    void release(long bytes) {
        held -= bytes;
        while (!waiting.isEmpty() && !full()) {
            waiting.poll().run();
        }
    }

    long held() {
        return held;
    }
}
