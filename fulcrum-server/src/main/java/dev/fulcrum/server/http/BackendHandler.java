package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.ResponseDecoder;

import dev.fulcrum.core.pool.Server;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.function.Function;

/**
 * The tail of a server connection's pipeline (after its {@link ResponseDecoder}). While the connection
 * is lent to a request it hands every response part to that {@link ProxyExchange}; while it idles
 * in the {@link BackendConnectionPool} any byte from the server is a protocol error and closes it.
 * Confined to its channel's event loop (which is also the client's).
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

    private final Server server;
    /** The name of the server connection's response decoder in its pipeline. */
    static final String DECODER = "codec";

    private final ResponseDecoder decoder;
    private final Function<ChannelHandlerContext, RequestWriter> writers;
    private RequestWriter writer;
    /** The request using this connection; null while pooled. */
    private ProxyExchange exchange;
    private long idleSinceNanos;
    private boolean reset;
    /** Why the server ended the stream or connection, when it said so (HTTP/2); null otherwise. */
    private String endReason;
    /** The server said it did not process the request (HTTP/2 REFUSED_STREAM, or GOAWAY below it). */
    private boolean unprocessed;

    /** The end of an HTTP/1.1 connection: requests go out as HTTP/1.1 bytes ({@link MessageWriter}). */
    BackendHandler(Server server, ResponseDecoder decoder) {
        this(server, decoder, MessageWriter::new);
    }

    /** @param writers makes the request writer of this connection from the handler's context */
    BackendHandler(Server server, ResponseDecoder decoder, Function<ChannelHandlerContext, RequestWriter> writers) {
        this.server = server;
        this.decoder = decoder;
        this.writers = writers;
    }

    Server server() {
        return server;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        writer = writers.apply(ctx);
    }

    /** Writes the requests sent on this connection (one after another; it carries each message's framing). */
    RequestWriter writer() {
        return writer;
    }

    /** The connection's response decoder (a splice takes body bytes past it). */
    ResponseDecoder decoder() {
        return decoder;
    }

    /** Lent to {@code exchange}, whose request (a HEAD request when {@code head}) goes out next. */
    void lend(ProxyExchange exchange, boolean head) {
        this.exchange = exchange;
        decoder.expect(head);
    }

    /** The request is done with the connection (it goes to the pool, closes, or becomes a tunnel). */
    void release() {
        this.exchange = null;
    }

    /** Back to the pool: later events concern no request, and any byte from the server closes it. */
    void park(long nowNanos) {
        this.exchange = null;
        this.idleSinceNanos = nowNanos;
        decoder.idle();
    }

    /** After a response's last part: whether the connection's bytes were framed exactly (see {@link ResponseDecoder}). */
    boolean reusable() {
        return decoder.reusable();
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    /** Why the connection ended, as the one-line error says it. */
    String closeReason() {
        if (endReason != null) {
            return endReason;
        }
        return reset ? "reset the connection" : "closed the connection";
    }

    /**
     * The server ended this stream saying why ({@code reason}, one line); {@code unprocessed} when
     * it also said that it did not process the request, so that any request may go to another
     * server (RFC 9113 8.7). Called before the stream closes.
     */
    void serverEnded(String reason, boolean unprocessed) {
        this.endReason = reason;
        this.unprocessed = unprocessed;
    }

    /** True when the server said it did not process the request sent here (see {@link #serverEnded}). */
    boolean unprocessed() {
        return unprocessed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (exchange != null) {
            exchange.onServerMessage(msg);
        } else {
            ReferenceCountUtil.release(msg);
            log.debug("server {} sent data on an idle connection; closing it", server.id());
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.onServerReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ProxyExchange e = exchange;
        exchange = null;
        if (e != null) {
            e.onServerClosed(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // ordinary network trouble (reset by peer...): no stack trace, the exchange logs the failure
            reset = true;
        } else {
            log.debug("server {} connection failed: {}", server.id(), cause.toString());
        }
        ctx.close();
    }
}
