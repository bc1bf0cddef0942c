package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.ResponseDecoder;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.fulcrum.server.tls.HandshakeFailure;

import javax.net.ssl.SSLException;
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
    /** The TLS the connection was made with (null: plain text): a pool's new TLS settings make it stale. */
    private final PoolTls tls;
    /** Requests lent this connection so far, for {@code max-requests-per-connection}. */
    private int requests;
    /** The request using this connection; null while pooled. */
    private ProxyExchange exchange;
    private long idleSinceNanos;
    private boolean reset;
    /** Why the server ended the stream or connection, when it said so (HTTP/2); null otherwise. */
    private String endReason;
    /** The server's RST_STREAM on this stream (null when it sent none, or a code HTTP/2 does not define). */
    private io.netty.handler.codec.http2.Http2Error serverReset;
    /** The server said it did not process the request (HTTP/2 REFUSED_STREAM, or GOAWAY below it). */
    private boolean unprocessed;
    /** Why TLS with the server failed after the handshake, or null. */
    private String tlsFailure;
    /** The server sent something over this TLS connection (its TLS failures are logged again from now). */
    private boolean answered;

    /** The end of an HTTP/1.1 connection: requests go out as HTTP/1.1 bytes ({@link MessageWriter}). */
    BackendHandler(Server server, ResponseDecoder decoder) {
        this(server, decoder, MessageWriter::new);
    }

    /** @param writers makes the request writer of this connection from the handler's context */
    BackendHandler(Server server, ResponseDecoder decoder, Function<ChannelHandlerContext, RequestWriter> writers) {
        this(server, decoder, writers, null);
    }

    /** @param tls the TLS the connection was made with; null for plain text */
    BackendHandler(Server server, ResponseDecoder decoder, Function<ChannelHandlerContext, RequestWriter> writers,
                   PoolTls tls) {
        this.server = server;
        this.decoder = decoder;
        this.writers = writers;
        this.tls = tls;
    }

    /** The TLS this connection was made with; null for plain text. */
    PoolTls tls() {
        return tls;
    }

    /** How many requests were lent this connection, the current one included. */
    int requests() {
        return requests;
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
        requests++;
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
        if (tlsFailure != null) {
            return "ended TLS: " + tlsFailure;
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

    /** The server reset this stream with {@code error} (null: a code HTTP/2 does not define). */
    void serverReset(io.netty.handler.codec.http2.Http2Error error) {
        this.serverReset = error;
    }

    /** The server's RST_STREAM error on this stream, or null. */
    io.netty.handler.codec.http2.Http2Error serverReset() {
        return serverReset;
    }

    /** True when the server said it did not process the request sent here (see {@link #serverEnded}). */
    boolean unprocessed() {
        return unprocessed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tls != null && !answered) {
            answered = true; // once per connection: TLS with the server works again
            TlsFailureLog.answered(server);
        }
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
        SSLException ssl = tls == null ? null : HandshakeFailure.tlsError(cause);
        if (ssl != null) {
            // after the handshake: with TLS 1.3 a server refuses a client certificate only now
            tlsFailure = HandshakeFailure.of(ssl, tls.nameFor(server.address()), tls.caName()).getMessage();
            TlsFailureLog.failed(tls.pool(), server, "TLS failed", tlsFailure);
        }
        if (cause instanceof IOException) {
            // ordinary network trouble (reset by peer...): no stack trace, the exchange logs the failure
            reset = true;
        } else {
            log.debug("server {} connection failed: {}", server.id(), cause.toString());
        }
        ctx.close();
    }
}
