package dev.fulcrum.server.http;

import io.netty.handler.codec.http.HttpMethod;
import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.core.ratelimit.RateLimiter;
import dev.fulcrum.core.route.RequestPath;
import dev.fulcrum.core.text.Durations;
import dev.fulcrum.server.http.codec.RequestDecoder;
import dev.fulcrum.server.log.AccessEntry;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ByteRelay;
import dev.fulcrum.server.net.ListenerConnections;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * The client side of one connection: takes decoded requests (a {@link MessageHead}, body parts as
 * {@code ByteBuf}s, a {@link MessageEnd}; or a {@link MessageFailure}) one at a time, hands each to a
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

    /** Closes a tunnel's client channel (and so, through the relay, its server channel) when idle. */
    private static final ChannelInboundHandlerAdapter CLOSE_WHEN_IDLE = new IdleClose();

    private final HttpListener listener;
    /**
     * Where this connection's wire bytes are counted by its handlers (plain text), or
     * {@code ByteCounter.NOT_COUNTED} (TLS: a counter before the {@code SslHandler} counts them).
     */
    private final LongConsumer bytesRead;
    private final LongConsumer bytesWritten;
    /** Decoded parts not taken yet; made on demand and dropped when empty (idle connections hold none). */
    private ArrayDeque<Object> pending;
    private ChannelHandlerContext ctx;
    private RequestDecoder decoder;
    private MessageWriter writer;
    /** The connection's one timer; the four below are its parts. */
    private ConnectionClock clock;
    private RequestHeadTimer headTimer;
    private RequestBodyTimer bodyTimer;
    private ResponseTimer responseTimer;
    private IdleTimer idleTimer;
    private String clientIp;
    /** The verified client certificate's subject, read at the first request (after the handshake); null without one. */
    private String clientCertSubject;
    private boolean clientCertRead;
    private ProxyExchange current;
    /** No more requests on this connection: an error was sent, or a close was asked for. */
    private boolean finished;
    private boolean closing;
    /** Response sent, output shut: reading only to discard what the client still sends. */
    private boolean lingering;
    /** This is one stream of an HTTP/2 connection (its request arrives as HTTP/1.1 from {@link Http2StreamBridge}). */
    private boolean http2;
    /** The current request is a gRPC call: Fulcrum's own errors answer it as gRPC statuses ({@link GrpcErrors}). */
    private boolean grpc;

    /**
     * @param bytesRead    told what the client sends once the connection is a tunnel (the decoder counts it before)
     * @param bytesWritten told every byte written to the client
     */
    FrontendHandler(HttpListener listener, LongConsumer bytesRead, LongConsumer bytesWritten) {
        this.listener = listener;
        this.bytesRead = bytesRead;
        this.bytesWritten = bytesWritten;
    }

    /** Where the bytes written to the client are counted (a tunnel's relay from the server counts there too). */
    LongConsumer bytesWritten() {
        return bytesWritten;
    }

    Channel channel() {
        return ctx.channel();
    }

    String clientIp() {
        return clientIp;
    }

    String clientCertSubject() {
        if (!clientCertRead) {
            clientCertSubject = ClientCertHeader.subject(ctx.channel());
            clientCertRead = true;
        }
        return clientCertSubject;
    }

    /** The response budget of the HTTP/2 connection this stream belongs to; null on HTTP/1.1. */
    Http2ResponseBudget responseBudget() {
        return Http2ResponseBudget.of(ctx.channel());
    }

    /** The connection's response timer, bound to each exchange in turn. */
    ResponseTimer responseTimer() {
        return responseTimer;
    }

    /** Writes the responses of this connection (from this handler's place in the pipeline). */
    MessageWriter writer() {
        return writer;
    }

    /** True when the connection must close after the current response (graceful close). */
    boolean isClosing() {
        return closing;
    }

    /** The connection is an HTTP/2 stream (its requests are HTTP/1.1 renderings of HEADERS). */
    boolean isHttp2() {
        return http2;
    }

    /** The protocol the client spoke, for the access log: {@code HTTP/2.0} on a stream, else the request line's. */
    String protocolOf(MessageHead request) {
        return http2 ? "HTTP/2.0" : request.version().text();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.http2 = ctx.channel() instanceof Http2StreamChannel;
        this.decoder = ctx.pipeline().get(RequestDecoder.class);
        this.writer = new MessageWriter(ctx, bytesWritten);
        var config = listener.config();
        this.clock = new ConnectionClock(ctx.executor());
        this.headTimer = new RequestHeadTimer(clock, config.requestHeaderTimeout().toNanos(), this::headTimedOut);
        this.bodyTimer = new RequestBodyTimer(clock, config.requestBodyTimeout().toNanos(),
                config.requestBodyMinRate(), this::bodyTimedOut);
        this.responseTimer = new ResponseTimer(clock);
        this.idleTimer = new IdleTimer(clock, config.idleTimeout().toNanos(), this::idleTimedOut);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        clientIp = ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress() : "unknown";
        headTimer.start();
        idleTimer.start();
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!finished && (msg instanceof MessageHead || msg instanceof ByteBuf || msg instanceof MessageEnd
                || msg instanceof MessageFailure)) {
            if (msg instanceof ByteBuf part) {
                bodyTimer.received(part.readableBytes());
            } else if (msg instanceof MessageEnd) {
                bodyTimer.stop();
            }
            if (pending == null) {
                pending = new ArrayDeque<>(4);
            }
            pending.add(msg);
            process();
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        idleTimer.touch(); // once per read, not per decoded part
        if (lingering) {
            ctx.read(); // discard until the client closes or the linger time is up
        } else {
            timeNextHead();
            maybeRead();
        }
    }

    /** Between requests, the head timeout runs from the first byte of the next head (the idle timeout before it). */
    private void timeNextHead() {
        if (current == null && !finished && !headTimer.running() && decoder.headStarted()) {
            headTimer.start();
        }
    }

    /** Something was written to the client (a flush completed): for the idle timeout. */
    void clientActivity() {
        idleTimer.touch();
    }

    /** Called by the exchange when it can take more (server connected, a body part flushed). */
    void resume() {
        process();
        maybeRead();
    }

    private void process() {
        while (!finished) {
            if (current == null) {
                Object o = pollPending();
                if (o == null) {
                    return;
                }
                if (o instanceof MessageFailure failure) {
                    headTimer.stop();
                    rejectRequest(failure);
                    return;
                }
                if (o instanceof MessageHead request) {
                    headTimer.stop();
                    grpc = GrpcErrors.isGrpc(request);
                    ProxyRoute route = route(request);
                    if (route == null) {
                        return; // answered by Fulcrum: the connection closes
                    }
                    current = new ProxyExchange(this, listener, request, route);
                    bodyTimer.start();
                    current.start();
                } else {
                    // body parts of a request that was already answered
                    ReferenceCountUtil.release(o);
                }
                continue;
            }
            if (!current.wantsBody() || nothingPending()) {
                return;
            }
            Object o = pollPending();
            if (!(o instanceof MessageFailure failure)) {
                current.sendBody(o);
            } else {
                // the body broke the framing rules (bad chunk, too long): never forward the rest
                ProxyExchange e = current;
                if (e.responseStarted()) {
                    current = null;
                    e.clientClosed();
                    closeNow();
                } else {
                    rejectRequest(failure); // first: the request's access-log line is this answer's
                    e.clientClosed();
                }
            }
        }
    }

    private void maybeRead() {
        if (finished || !nothingPending() || !ctx.channel().isActive()) {
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
        String reason = "request body too slow (request-body-timeout " + Durations.format(config.requestBodyTimeout())
                + ", request-body-min-rate " + config.requestBodyMinRate() + " bytes/s)";
        if (e.responseStarted()) {
            e.clientClosed(); // the server connection holds half a request: it closes, never back to the pool
            closeNow();
        } else {
            sendError(HttpResponseStatus.REQUEST_TIMEOUT, reason, e.isHead()); // first: its access-log line
            e.clientClosed();
        }
    }

    /**
     * The route {@code request} takes, or null when Fulcrum answered it itself: 400 for a target
     * that cannot be routed (it climbs above the root, bad percent-encoding), 404 when no route
     * matches, the route's redirect, 429 over the route's rate limit.
     */
    private ProxyRoute route(MessageHead request) {
        ListenerRoutes routes = listener.routes();
        ProxyRoute route = routes.everything();
        boolean head = request.method() == HttpMethod.HEAD;
        if (route == null) {
            String path = RequestPath.normalise(request.target());
            if (path == null) {
                answerUnforwarded(request, null, 400, "request target cannot be routed", id -> ErrorResponses.encode(
                        ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "request target cannot be routed", head, id));
                return null;
            }
            route = routes.match(request, path);
            if (route == null) {
                answerUnforwarded(request, null, 404, "no route", id -> ErrorResponses.encode(
                        ctx.alloc(), HttpResponseStatus.NOT_FOUND, "no route", head, id));
                return null;
            }
        }
        RouteConfig.Redirect redirect = route.redirect();
        if (redirect != null) {
            answerUnforwarded(request, route, redirect.status(), "redirect of route " + route.name(),
                    id -> ErrorResponses.redirect(ctx.alloc(), redirect.status(), redirect.location(), id));
            return null;
        }
        RouteLimit limit = route.limit();
        if (limit != null) {
            long wait = limit.acquire(request, clientIp, System.nanoTime());
            if (wait != RateLimiter.ALLOWED) {
                answerUnforwarded(request, route, 429, "over the rate limit of route " + route.name(),
                        id -> ErrorResponses.tooManyRequests(ctx.alloc(), wait, head, id));
                return null;
            }
        }
        return route;
    }

    /** A request the decoder refused: its status (400, 405, 413, 431) and one line saying why. */
    private void rejectRequest(MessageFailure failure) {
        sendError(HttpResponseStatus.valueOf(failure.status()), ErrorResponses.oneLine(failure.reason()), false);
    }

    /**
     * Sends one of Fulcrum's own responses and closes; the connection takes no more requests. The
     * answer carries the current request's {@code X-Request-Id} (a new one when no request could be
     * read) and is the request's access-log line.
     */
    void sendError(HttpResponseStatus status, String reason, boolean head) {
        ProxyExchange e = current;
        CharSequence requestId = e == null ? RequestId.next() : e.requestId();
        ByteBuf response = e != null && grpc ? GrpcErrors.encode(ctx.alloc(), status.code(), reason, requestId)
                : ErrorResponses.encode(ctx.alloc(), status, reason, head, requestId);
        if (e != null) {
            e.answeredByFulcrum(status.code(), response.readableBytes());
        } else {
            logAnswer(null, null, status.code(), response.readableBytes(), requestId.toString());
        }
        answer(null, status.code(), reason, response);
    }

    /**
     * Fulcrum's own answer to {@code request}, which no exchange took (no route, a redirect, over
     * a rate limit): with the request's {@code X-Request-Id} (the client's when valid, else a new
     * one) and its access-log line, under {@code route} when one matched.
     */
    private void answerUnforwarded(MessageHead request, ProxyRoute route, int status, String reason,
                                   Function<CharSequence, ByteBuf> response) {
        CharSequence requestId = request.value(RequestId.ensure(request));
        // a redirect stays one: a gRPC client treats it as the error it is for it anyway
        ByteBuf answer = grpc && status >= 400 ? GrpcErrors.encode(ctx.alloc(), status, reason, requestId)
                : response.apply(requestId);
        logAnswer(request, route, status, answer.readableBytes(), requestId.toString());
        answer(route, status, reason, answer);
    }

    /**
     * Sends {@code response}, one of Fulcrum's own with {@code status}, and closes after it; counted
     * under the current exchange's route and pool, else under {@code route} (null: no route) and no pool.
     */
    private void answer(ProxyRoute route, int status, String reason, ByteBuf response) {
        long elapsed = current == null ? 0 : current.elapsedNanos();
        String pool = current == null ? ProxyStats.NO_POOL : current.poolName();
        ProxyRoute counted = current == null ? route : current.route();
        finished = true;
        bodyTimer.stop();
        current = null;
        releasePending();
        listener.stats().responded(counted, pool, null, status, elapsed);
        log.debug("listener {}: {} to {}: {}", listener.name(), status, clientIp, reason);
        bytesWritten.accept(response.readableBytes());
        closeAfter(ctx.writeAndFlush(response), true);
    }

    /**
     * The access-log line of a request Fulcrum answered without an exchange: one it could not read
     * ({@code request} null: 400, 408, 431) or one it did not forward.
     */
    private void logAnswer(MessageHead request, ProxyRoute route, int status, long bytesOut, String requestId) {
        AccessLog accessLog = listener.accessLog();
        if (accessLog.enabled()) {
            accessLog.log(new AccessEntry(System.currentTimeMillis(), clientIp, listener.name(),
                    route == null ? null : route.name(), null, null,
                    request == null ? null : request.method().name(), request == null ? null : request.target(),
                    request == null ? (http2 ? "HTTP/2.0" : null) : protocolOf(request), status, 0, bytesOut, 0, requestId, null, null));
        }
    }

    /** The exchange's response ended; {@code lastWrite} is the write of its last part. */
    void exchangeEnded(boolean keepAlive, boolean requestComplete, ChannelFuture lastWrite) {
        current = null;
        bodyTimer.stop();
        responseTimer.unbind();
        if (!keepAlive || closing || listener.isClosing()) {
            closeAfter(lastWrite, !requestComplete);
            return;
        }
        process();
        timeNextHead();
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

    /**
     * A response was broken off: closes at once ({@link #closeNow}); on an HTTP/2 stream the reset
     * passes on the server's own ({@code serverReset}, null when the server sent none) when it means
     * the same to the client ({@link Http2StreamBridge#serverReset}).
     */
    void breakOff(io.netty.handler.codec.http2.Http2Error serverReset) {
        Http2StreamBridge bridge = http2 && serverReset != null ? ctx.pipeline().get(Http2StreamBridge.class) : null;
        if (bridge != null) {
            bridge.serverReset(serverReset);
        }
        closeNow();
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
    void switchToTunnel(Channel backend, MessageHead switching) {
        finished = true;
        current = null;
        releasePending();
        writer.writeResponse(switching, 1, false, writer.voidPromise());
        ctx.flush();
        ChannelPipeline p = ctx.pipeline();
        // what the client sends from now on; what the server sends is counted by its relay
        p.addLast("relay", new ByteRelay(backend, bytesRead, ByteCounter.NOT_COUNTED));
        long idleNanos = listener.config().idleTimeout().toNanos();
        if (idleNanos > 0) {
            // an idle tunnel (no byte either way for idle-timeout) closes, as nginx's
            // proxy_read_timeout closes an idle WebSocket: otherwise idle tunnels pin server connections
            p.addBefore("relay", "idle", new IdleStateHandler(false, 0, 0, idleNanos, TimeUnit.NANOSECONDS));
            p.addBefore("relay", "idle-close", CLOSE_WHEN_IDLE);
        }
        // bytes the decoder still held (counted when they came) go to the server as they are, not
        // through the relay, which would count them again; then the relay reads
        ByteBuf held = decoder.takeUndecoded();
        p.remove(this);
        p.remove(HttpProxyInitializer.DECODER);
        if (held.isReadable()) {
            backend.writeAndFlush(held, backend.voidPromise());
        } else {
            held.release();
        }
        p.channel().read();
    }

    /** {@code request-header-timeout} passed: 408 when part of a head came, else the connection just closes. */
    private void headTimedOut() {
        if (current == null && !finished) {
            if (decoder.headStarted()) {
                sendError(HttpResponseStatus.REQUEST_TIMEOUT, "request header timeout of "
                        + Durations.format(listener.config().requestHeaderTimeout()) + " passed", false);
            } else {
                closeNow();
            }
        }
    }

    /** Nothing read or written for {@code idle-timeout}: closes when that is idleness that pins resources. */
    private void idleTimedOut() {
        boolean idleBetweenRequests = current == null && nothingPending() && !decoder.headStarted();
        // waiting on the client for body bytes it does not send: as idle as no request at all
        boolean stalledUpload = current != null && nothingPending() && current.wantsBody();
        // a client that does not take its response holds the server connection just the same
        boolean stalledDownload = current != null && current.stalledOnClient();
        if (idleBetweenRequests || stalledUpload || stalledDownload) {
            log.debug("listener {}: closing idle connection from {}", listener.name(), clientIp);
            if (current != null) {
                current.clientClosed();
            }
            closeNow();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ListenerConnections.GRACEFUL_CLOSE) {
            closing = true;
            if (current == null && nothingPending() && !decoder.headStarted()) {
                closeNow();
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        clock.close();
        if (current != null) {
            current.clientClosed();
            current = null;
        }
        finished = true;
        releasePending();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        clock.close(); // the connection became a tunnel: nothing of this handler's is timed any more
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

    private boolean nothingPending() {
        return pending == null;
    }

    /** The next decoded part, or null; the deque goes once it is empty. */
    private Object pollPending() {
        ArrayDeque<Object> q = pending;
        if (q == null) {
            return null;
        }
        Object o = q.poll();
        if (q.isEmpty()) {
            pending = null;
        }
        return o;
    }

    private void releasePending() {
        Object o;
        while ((o = pollPending()) != null) {
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
