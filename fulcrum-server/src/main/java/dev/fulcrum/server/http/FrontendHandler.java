package dev.fulcrum.server.http;

import dev.fulcrum.server.net.ByteRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The client side of one connection: takes decoded requests one at a time, hands each to a
 * {@link ProxyExchange}, and decides when to read more from the client. Reading is explicit
 * ({@code AUTO_READ} is off): the next read happens only when the current request can take more
 * body (its last body part flushed to the server) or when waiting for the next request head.
 * Whatever one read decoded beyond what can be used now (a body part before the server connection
 * is ready, a pipelined request) waits in {@code pending}, which is at most one read's worth.
 *
 * <p>A request the decoder rejected is answered 400/413/431 and never forwarded; the connection
 * then closes. Idle keep-alive connections close after {@code idle-timeout}; a graceful close of
 * the listener closes idle connections at once and the others after their current response.
 *
 * <p>One instance per client connection, confined to its event loop.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);
    /** Longest a lingering close waits for the client to stop sending. */
    static final long LINGER_MILLIS = 2000;

    /** User event: the listener is closing gracefully. */
    static final Object GRACEFUL_CLOSE = new Object() {
        @Override
        public String toString() {
            return "graceful close";
        }
    };

    /** Closes a tunnel's client channel (and so, through the relay, its server channel) when idle. */
    private static final ChannelInboundHandlerAdapter CLOSE_WHEN_IDLE = new IdleClose();

    private final HttpListener listener;
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private RequestHeadGuard guard;
    private ClientResponseEncoder encoder;
    private RequestBodyTimer bodyTimer;
    private ResponseTimer responseTimer;
    private String clientIp;
    private ProxyExchange current;
    /** No more requests on this connection: an error was sent, or a close was asked for. */
    private boolean finished;
    private boolean closing;
    /** Response sent, output shut: reading only to discard what the client still sends. */
    private boolean lingering;

    FrontendHandler(HttpListener listener) {
        this.listener = listener;
    }

    Channel channel() {
        return ctx.channel();
    }

    String clientIp() {
        return clientIp;
    }

    /** The connection's response timer, bound to each exchange in turn. */
    ResponseTimer responseTimer() {
        return responseTimer;
    }

    ClientResponseEncoder encoder() {
        return encoder;
    }

    /** True when the connection must close after the current response (graceful close). */
    boolean isClosing() {
        return closing;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.guard = ctx.pipeline().get(RequestHeadGuard.class);
        this.encoder = ctx.pipeline().get(ClientResponseEncoder.class);
        var config = listener.config();
        this.responseTimer = new ResponseTimer(ctx.channel().eventLoop());
        this.bodyTimer = new RequestBodyTimer(ctx.executor(), config.requestBodyTimeout().toNanos(),
                config.requestBodyMinRate(), this::bodyTimedOut);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        clientIp = ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress() : "unknown";
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpObject o && !finished) {
            if (o instanceof HttpContent c && !(o instanceof HttpRequest)) {
                bodyTimer.received(c.content().readableBytes());
                if (o instanceof LastHttpContent) {
                    bodyTimer.stop();
                }
            }
            pending.add(o);
            process();
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (lingering) {
            ctx.read(); // discard until the client closes or the linger time is up
        } else {
            maybeRead();
        }
    }

    /** Called by the exchange when it can take more (server connected, a body part flushed). */
    void resume() {
        process();
        maybeRead();
    }

    private void process() {
        while (!finished) {
            if (current == null) {
                HttpObject o = pending.poll();
                if (o == null) {
                    return;
                }
                if (o instanceof HttpRequest request) {
                    guard.headReceived();
                    if (request.decoderResult().isFailure()) {
                        rejectRequest(request);
                        ReferenceCountUtil.release(o);
                        return;
                    }
                    current = new ProxyExchange(this, listener, request);
                    bodyTimer.start();
                    current.start();
                } else {
                    // body parts of a request that was already answered
                    ReferenceCountUtil.release(o);
                }
                continue;
            }
            if (!current.wantsBody() || pending.isEmpty()) {
                return;
            }
            HttpObject o = pending.poll();
            if (o instanceof HttpContent content && !content.decoderResult().isFailure()) {
                current.sendBody(content);
            } else {
                // the body broke the framing rules (bad chunk, too long): never forward the rest
                ProxyExchange e = current;
                current = null;
                boolean answered = e.responseStarted();
                e.clientClosed();
                if (answered) {
                    ReferenceCountUtil.release(o);
                    closeNow();
                } else {
                    rejectRequest(o);
                    ReferenceCountUtil.release(o);
                }
            }
        }
    }

    private void maybeRead() {
        if (finished || !pending.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        if (current == null) {
            ctx.read();
        } else if (current.wantsBody()) {
            if (!current.awaitingContinue()) {
                bodyTimer.waiting();
            }
            ctx.read();
        }
    }

    /** The client sent its body too slowly ({@link RequestBodyTimer}): 408, and the server connection closes. */
    private void bodyTimedOut() {
        ProxyExchange e = current;
        if (e == null || finished || !e.wantsBody()) {
            return;
        }
        var config = listener.config();
        String reason = "request body too slow (request-body-timeout " + ErrorResponses.format(config.requestBodyTimeout())
                + ", request-body-min-rate " + config.requestBodyMinRate() + " bytes/s)";
        boolean answered = e.responseStarted();
        e.clientClosed(); // the server connection holds half a request: it closes, never back to the pool
        if (answered) {
            closeNow();
        } else {
            sendError(HttpResponseStatus.REQUEST_TIMEOUT, reason, e.isHead());
        }
    }

    private void rejectRequest(HttpObject bad) {
        HttpResponseStatus status = ErrorResponses.statusFor(bad.decoderResult());
        sendError(status, ErrorResponses.reasonFor(bad.decoderResult(), listener.config().maxHeaderBytes()), false);
    }

    /** Sends one of Fulcrum's own responses and closes; the connection takes no more requests. */
    void sendError(HttpResponseStatus status, String reason, boolean head) {
        long elapsed = current == null ? 0 : current.elapsedNanos();
        finished = true;
        bodyTimer.stop();
        current = null;
        releasePending();
        listener.stats().responded(null, status.code(), elapsed);
        log.debug("listener {}: {} to {}: {}", listener.name(), status.code(), clientIp, reason);
        encoder.answeringHead(head);
        closeAfter(ctx.writeAndFlush(ErrorResponses.create(status, reason, head)), true);
    }

    /** The exchange's response ended; {@code lastWrite} is the write of its last part. */
    void exchangeEnded(boolean keepAlive, boolean requestComplete, ChannelFuture lastWrite) {
        current = null;
        bodyTimer.stop();
        if (!keepAlive || closing || listener.isClosing()) {
            closeAfter(lastWrite, !requestComplete);
            return;
        }
        guard.awaitNextHead();
        process();
        maybeRead();
    }

    /**
     * Closes once {@code lastWrite} flushed. When the client may still be sending (a body we did
     * not read), closing at once would make the kernel answer its bytes with a reset that can
     * destroy our response before the client reads it; so half-close first, read and discard for at
     * most {@link #LINGER_MILLIS}, then close (a lingering close, as Apache and nginx do).
     */
    private void closeAfter(ChannelFuture lastWrite, boolean clientMaySend) {
        finished = true;
        current = null;
        releasePending();
        lastWrite.addListener((ChannelFutureListener) f -> {
            if (!clientMaySend || !f.isSuccess() || !(ctx.channel() instanceof DuplexChannel duplex)
                    || ctx.pipeline().get(SslHandler.class) != null) {
                ctx.close();
                return;
            }
            lingering = true;
            duplex.shutdownOutput().addListener(done -> ctx.read());
            var linger = ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
            // a client that closes first must not keep this connection's handlers for the linger time
            ctx.channel().closeFuture().addListener(closed -> linger.cancel(false));
        });
    }

    /** Closes at once: a response was broken off, the client must see it truncated. */
    void closeNow() {
        finished = true;
        bodyTimer.stop();
        current = null;
        releasePending();
        ctx.close();
    }

    /**
     * The server agreed to switch protocols: sends its 101 and turns this connection into a byte
     * tunnel to {@code backend} (HTTP handlers out, a {@link ByteRelay} in). The decoder goes last so
     * that bytes it still holds reach the relay.
     */
    void switchToTunnel(Channel backend, HttpResponse switching) {
        finished = true;
        current = null;
        releasePending();
        encoder.answeringHead(false);
        ctx.writeAndFlush(switching);
        ChannelPipeline p = ctx.pipeline();
        p.addLast("relay", new ByteRelay(backend));
        p.remove(this);
        p.remove(RequestHeadGuard.class);
        p.remove(ClientResponseEncoder.class);
        if (p.get(HttpProxyInitializer.IDLE) != null) {
            // an idle tunnel (no byte either way for idle-timeout) closes, as nginx's
            // proxy_read_timeout closes an idle WebSocket: otherwise idle tunnels pin server connections
            p.addAfter(HttpProxyInitializer.IDLE, "idle-close", CLOSE_WHEN_IDLE);
        }
        // bytes the decoder still held reach the relay as a read batch on removal; then ask for more
        p.remove(HttpProxyInitializer.DECODER);
        p.channel().read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == RequestHeadGuard.TIMED_OUT) {
            if (current == null && !finished) {
                if (guard.headStarted()) {
                    sendError(HttpResponseStatus.REQUEST_TIMEOUT, "request header timeout of "
                            + ErrorResponses.format(listener.config().requestHeaderTimeout()) + " passed", false);
                } else {
                    closeNow();
                }
            }
        } else if (evt instanceof IdleStateEvent) {
            boolean idleBetweenRequests = current == null && pending.isEmpty() && !guard.headStarted();
            // waiting on the client for body bytes it does not send: as idle as no request at all
            boolean stalledUpload = current != null && pending.isEmpty() && current.wantsBody();
            // a client that does not take its response holds the server connection just the same
            boolean stalledDownload = current != null && current.stalledOnClient();
            if (idleBetweenRequests || stalledUpload || stalledDownload) {
                log.debug("listener {}: closing idle connection from {}", listener.name(), clientIp);
                if (current != null) {
                    current.clientClosed();
                }
                closeNow();
            }
        } else if (evt == GRACEFUL_CLOSE) {
            closing = true;
            if (current == null && pending.isEmpty() && !guard.headStarted()) {
                closeNow();
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        bodyTimer.close();
        if (current != null) {
            current.clientClosed();
            current = null;
        }
        finished = true;
        releasePending();
        responseTimer.close();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        bodyTimer.close(); // the connection became a tunnel: nothing of this handler's is timed any more
        responseTimer.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("listener {}: client {}: {}", listener.name(), clientIp, cause.getMessage());
        } else {
            log.debug("listener {}: client {} failed: {}", listener.name(), clientIp, cause.toString());
        }
        ctx.close();
    }

    private void releasePending() {
        HttpObject o;
        while ((o = pending.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    @io.netty.channel.ChannelHandler.Sharable
    private static final class IdleClose extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }
    }
}
