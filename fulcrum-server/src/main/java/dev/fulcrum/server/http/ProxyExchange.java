package dev.fulcrum.server.http;

import dev.fulcrum.core.health.Outcome;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.net.ByteRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;

/**
 * One client request on its way through the proxy: picks a server, gets a connection (pooled or
 * new), forwards the head and streams the body, relays the response back, and retries on another
 * server when that is safe. Reads the pool's snapshot and settings once, at the start.
 *
 * <p>Flow control: a body part is written to the server only after the previous one flushed
 * (the frontend asks {@link #wantsBody()} before each), and the server connection is read again
 * only once the response bytes of the last read were flushed to the client.
 *
 * <p>Retries (up to {@code retries}, each on a server not tried yet, as {@link ServerChoice}
 * picks): when {@link RetryPolicy} allows it, i.e. after a failed connect, or after a close/reset
 * before any response byte when no body byte was sent and the method is idempotent (or not even the
 * head was written). The {@code response-timeout} runs from the request head and restarts whenever
 * the server takes a body part, until the response head starts; when it fires, an idempotent
 * request with no body byte sent is retried like a reset one, anything else gets a 504.
 *
 * <p>Counting: {@link Server#requestStarted()} once per attempt (when the server is chosen) and
 * {@link Server#requestFinished()} exactly once for it, when the response ends or the attempt
 * fails; a WebSocket tunnel counts as one request until it closes.
 *
 * <p>Confined to the client channel's event loop, as is every server connection it uses.
 */
final class ProxyExchange {

    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);
    private static final HttpResponseStatus LOOP_DETECTED = new HttpResponseStatus(508, "Loop Detected");

    private final FrontendHandler front;
    private final HttpListener listener;
    private final HttpRequest request;
    private final HttpRequest toServer;
    private final EventLoop loop;
    private final boolean head;
    private final boolean upgrade;
    /** The client's keep-alive wish, read before its headers were rewritten for the server. */
    private final boolean requestKeepAlive;
    /** The request already passed through this instance (its Via names it): answered 508. */
    private final boolean looped;
    /** An HTTP/1.0 request without Host: each try sets its server's address as Host. */
    private final boolean hostMissing;
    /** {@code Expect: 100-continue} and no interim response yet: the client holds its body back. */
    private boolean expectContinue;
    /** When the request head arrived, for the latency histogram. */
    private final long startNanos = System.nanoTime();
    private final PoolConfig settings;

    private final ServerChoice choice;
    private int attempts;
    private Server server;
    private boolean attemptOpen;
    /** The current attempt uses a pooled keep-alive connection. */
    private boolean reused;
    private Channel backend;
    private BackendHandler backendHandler;
    private String lastFailure;

    private boolean headWritten;
    private boolean bodyBytesSent;
    private boolean lastTaken;
    private boolean requestSent;
    private boolean writePending;
    private boolean interim;
    private boolean responseStarted;
    private boolean serverReusable;
    private boolean clientKeepAlive;
    private boolean done;
    private ChannelFuture lastClientWrite;
    /** A flushed write to the client has not completed: the server is read again once it does. */
    private boolean clientWritePending;
    private final ResponseTimer responseTimer;

    ProxyExchange(FrontendHandler front, HttpListener listener, HttpRequest request) {
        this.front = front;
        this.listener = listener;
        this.request = request;
        this.loop = front.channel().eventLoop();
        this.head = HttpMethod.HEAD.equals(request.method());
        this.upgrade = ForwardedHeaders.isUpgrade(request);
        this.requestKeepAlive = HttpUtil.isKeepAlive(request);
        this.settings = listener.pool().settings();
        this.responseTimer = front.responseTimer();
        responseTimer.bind(this, settings.responseTimeout().toNanos());
        this.choice = new ServerChoice(listener.pool().snapshot(), settings, listener.backendPool(), loop,
                request, front.clientIp());
        this.looped = ForwardedHeaders.hasLooped(request, listener.viaName());
        this.hostMissing = !request.headers().contains(HttpHeaderNames.HOST);
        this.expectContinue = HttpUtil.is100ContinueExpected(request);
        // last: rewrites the request's headers in place, after keep-alive and hash keys were read
        this.toServer = ForwardedHeaders.toServer(request, front.clientIp(), listener.config().tls() != null,
                listener.viaName());
    }

    /** Picks the first server and starts connecting. */
    void start() {
        if (looped) {
            fail(LOOP_DETECTED, "request loop: the request already passed through " + listener.viaName()
                    + " (a pool lists one of its own listeners?)");
            return;
        }
        if (!choice.anyServerUp()) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server of pool " + choice.poolName() + " is up");
            return;
        }
        tryServer(choice.first());
    }

    /** True for a HEAD request: its answers carry no body. */
    boolean isHead() {
        return head;
    }

    /** Time since the request head arrived. */
    long elapsedNanos() {
        return System.nanoTime() - startNanos;
    }

    /** True when the next body part from the client can be written to the server now. */
    boolean wantsBody() {
        return !done && backend != null && headWritten && !writePending && !lastTaken;
    }

    /**
     * True while the client may rightly hold its body back: it asked for {@code 100 Continue} and
     * none was passed on yet (the server's wait, not the client's).
     */
    boolean awaitingContinue() {
        return expectContinue && !responseStarted;
    }

    /** True once the server's final response head was received (it may be on its way to the client). */
    boolean responseStarted() {
        return responseStarted;
    }

    /** Writes one part of the client's body to the server; reading resumes when it flushed. */
    void sendBody(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        lastTaken |= last;
        bodyBytesSent |= content.content().isReadable();
        writePending = true;
        if (last) {
            ForwardedHeaders.filterTrailers(((LastHttpContent) content).trailingHeaders());
        }
        Channel ch = backend;
        ch.writeAndFlush(content).addListener((ChannelFutureListener) f -> {
            if (ch != backend || done) {
                return;
            }
            writePending = false;
            if (!f.isSuccess()) {
                ch.close(); // channelInactive reports the failure
                return;
            }
            if (!responseStarted) {
                responseTimer.progress(); // the server took this part: the wait starts again
            }
            if (last) {
                requestSent = true;
            } else {
                front.resume();
            }
        });
    }

    private void tryServer(Server s) {
        if (s == null) {
            if (attempts == 0) {
                fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "every server of pool " + choice.poolName()
                        + " is at max-connections-per-server");
            } else {
                fail(HttpResponseStatus.BAD_GATEWAY, lastFailure);
            }
            return;
        }
        server = s;
        attempts++;
        attemptOpen = true;
        headWritten = false;
        requestSent = false;
        s.requestStarted();
        Channel idle = listener.backendPool().takeIdle(loop, s);
        reused = idle != null;
        if (reused) {
            attach(idle);
            return;
        }
        int attempt = attempts;
        listener.backendPool().connect(loop, s, settings.connectTimeout())
                .addListener((ChannelFutureListener) f -> {
                    if (done || attempt != attempts) {
                        if (f.isSuccess()) {
                            listener.backendPool().park(f.channel()); // fresh and unused: keep it
                        }
                    } else if (f.isSuccess()) {
                        attach(f.channel());
                    } else {
                        attemptFailed(connectFailure(f.cause()), null);
                    }
                });
    }

    private String connectFailure(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return "did not accept the connection within " + ErrorResponses.format(settings.connectTimeout());
        }
        if (cause instanceof ConnectException) {
            return "refused the connection";
        }
        return "could not be reached (" + ErrorResponses.oneLine(String.valueOf(cause.getMessage())) + ")";
    }

    private void attach(Channel ch) {
        backend = ch;
        backendHandler = ch.pipeline().get(BackendHandler.class);
        backendHandler.lend(this, head);
        if (hostMissing) {
            toServer.headers().set(HttpHeaderNames.HOST, server.address().toString());
        }
        // A retry of a request the client already sent whole (so with no body: RetryPolicy allows
        // no retry once body bytes went out): nothing more comes from the client, so this try ends
        // the request itself. Without the end, the connection's encoder would still wait for a body
        // and the connection could not be reused.
        boolean whole = lastTaken;
        if (whole) {
            ch.write(toServer);
        }
        Object last = whole ? LastHttpContent.EMPTY_LAST_CONTENT : toServer;
        ch.writeAndFlush(last).addListener((ChannelFutureListener) f -> {
            if (ch != backend || done) {
                return;
            }
            if (f.isSuccess()) {
                headWritten = true;
                requestSent = whole;
                if (!responseStarted) {
                    responseTimer.progress(); // (a server may answer before the head's write completes)
                }
                front.resume();
            } else {
                ch.close(); // channelInactive reports the failure
            }
        });
        ch.read();
    }

    // ---- server side -------------------------------------------------------------------------

    void onServerMessage(Object msg) {
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            onResponseHead(response);
        }
        if (msg instanceof HttpContent content) {
            onResponseContent(content);
        } else if (!(msg instanceof HttpResponse)) {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onResponseHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            invalidResponse("sent an invalid response ("
                    + ErrorResponses.oneLine(String.valueOf(response.decoderResult().cause().getMessage())) + ")");
            return;
        }
        int code = response.status().code();
        if (code == 101) {
            if (upgrade && response.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
                switchToTunnel(response);
            } else if (upgrade) {
                invalidResponse("switched to a protocol other than the websocket asked for");
            } else {
                invalidResponse("switched protocols without being asked to");
            }
            return;
        }
        if (code >= 100 && code < 200) {
            // 100 Continue (the client waits for it before sending its body), 103 Early Hints...
            interim = true;
            if (!request.protocolVersion().isKeepAliveDefault()) {
                return; // HTTP/1.0 clients know no interim responses (RFC 9110 15.2)
            }
            front.channel().writeAndFlush(ForwardedHeaders.interim(response));
            if (expectContinue) {
                expectContinue = false;
                front.resume(); // the client sends its body now: its body clock starts
            }
            return;
        }
        responseTimer.stop();
        responseStarted = true;
        boolean bodyFollows = !head && code != 204 && code != 304;
        boolean framed = HttpUtil.isContentLengthSet(response) || HttpUtil.isTransferEncodingChunked(response);
        serverReusable = HttpUtil.isKeepAlive(response) && (framed || !bodyFollows) && !upgrade;
        HttpVersion clientVersion = request.protocolVersion();
        clientKeepAlive = requestKeepAlive && !listener.isClosing() && !front.isClosing()
                && !ForwardedHeaders.needsCloseDelimiting(response, clientVersion, bodyFollows);
        HttpResponse out = ForwardedHeaders.toClient(response, clientVersion, bodyFollows, clientKeepAlive);
        String setCookie = choice.setCookieFor(server);
        if (setCookie != null) {
            out.headers().add(HttpHeaderNames.SET_COOKIE, setCookie);
        }
        front.encoder().answeringHead(head);
        listener.stats().responded(server, code, System.nanoTime() - startNanos);
        listener.observer().serverOutcome(listener.pool(), server, code >= 500 ? Outcome.SERVER_5XX : Outcome.SUCCESS);
        lastClientWrite = front.channel().write(out);
    }

    private void onResponseContent(HttpContent content) {
        if (interim) {
            interim = !(content instanceof LastHttpContent);
            content.release();
            return;
        }
        if (!responseStarted) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            // the server broke off in the middle of the body: the client sees a truncated response
            content.release();
            serverFailed("broke off the response (" + ErrorResponses.oneLine(
                    String.valueOf(content.decoderResult().cause().getMessage())) + ")");
            return;
        }
        if (content instanceof LastHttpContent last) {
            ForwardedHeaders.filterTrailers(last.trailingHeaders());
        }
        lastClientWrite = front.channel().write(content);
        if (content instanceof LastHttpContent) {
            responseEnded();
        }
    }

    /** End of one read from the server: flush to the client, read again once that flushed. */
    void onServerReadComplete() {
        if (done || backend == null) {
            return;
        }
        Channel ch = backend;
        ChannelFuture w = lastClientWrite;
        lastClientWrite = null;
        if (w == null) {
            ch.read();
            return;
        }
        front.channel().flush();
        clientWritePending = true;
        w.addListener((ChannelFutureListener) f -> {
            clientWritePending = false;
            if (f.isSuccess() && ch == backend && !done) {
                ch.read();
            }
        });
    }

    /**
     * True while response bytes wait for the client to take them (the server is not read meanwhile):
     * a client that stops reading holds its server connection this way, so the idle timeout
     * treats it like a client that stops sending.
     */
    boolean stalledOnClient() {
        return !done && clientWritePending;
    }

    private void responseEnded() {
        done = true;
        finishAttempt();
        Channel ch = backend;
        // checked before detaching: bytes left over after the response would poison the next request
        boolean reusable = serverReusable && requestSent && backendHandler.reusable();
        detach();
        front.channel().flush();
        if (reusable) {
            listener.backendPool().park(ch);
        } else {
            ch.close();
        }
        ChannelFuture w = lastClientWrite;
        lastClientWrite = null;
        front.exchangeEnded(clientKeepAlive && lastTaken, lastTaken, w);
    }

    /** The server connection closed while this request used it. */
    void onServerClosed(BackendHandler handler) {
        if (done || handler != backendHandler) {
            return;
        }
        serverFailed(handler.closeReason());
    }

    private void invalidResponse(String reason) {
        serverFailed(reason);
    }

    /** The current attempt failed on an open (or just closed) server connection. */
    private void serverFailed(String reason) {
        Channel ch = backend;
        detach();
        if (ch != null) {
            ch.close();
        }
        attemptFailed(reason, ch);
    }

    private void attemptFailed(String reason, Channel ch) {
        responseTimer.stop();
        Server failed = server;
        if (!(reused && !headWritten)) {
            // a pooled connection that died before it took our request is the keep-alive race
            // (the server timed it out), not a failure of the server
            failed.failed();
            listener.observer().serverOutcome(listener.pool(), failed, Outcome.GATEWAY_FAILURE);
        }
        finishAttempt();
        lastFailure = "server " + failed.id() + " " + reason;
        boolean retryable = RetryPolicy.mayRetry(request.method(), ch != null, headWritten, bodyBytesSent,
                responseStarted);
        boolean triesLeft = attempts <= settings.retries();
        log.debug("pool {}: request {} {}: {}{}", choice.poolName(), request.method(), request.uri(), lastFailure,
                retryable && triesLeft ? "; retrying on another server if one is left" : "");
        if (responseStarted) {
            done = true;
            front.closeNow();
            return;
        }
        if (retryable && triesLeft) {
            Server next = choice.next(failed);
            if (next != null) {
                listener.stats().retried();
                tryServer(next);
                return;
            }
        }
        fail(HttpResponseStatus.BAD_GATEWAY, lastFailure);
    }

    /**
     * No progress from the server for {@code response-timeout}: the try failed (a gateway failure
     * for outlier detection). Retried on another server when {@link RetryPolicy#mayRetryAfterTimeout}
     * allows it and tries are left; otherwise, or when no server is left, 504.
     */
    void responseTimedOut() {
        if (done || responseStarted) {
            return;
        }
        Channel ch = backend;
        detach();
        if (ch != null) {
            ch.close(); // the server may still answer; that answer has no one to go to
        }
        Server timedOut = server;
        timedOut.failed();
        listener.observer().serverOutcome(listener.pool(), timedOut, Outcome.GATEWAY_FAILURE);
        finishAttempt();
        String reason = "server " + timedOut.id() + " did not answer within "
                + ErrorResponses.format(settings.responseTimeout());
        boolean retryable = RetryPolicy.mayRetryAfterTimeout(request.method(), bodyBytesSent)
                && attempts <= settings.retries();
        log.debug("pool {}: request {} {}: {}{}", choice.poolName(), request.method(), request.uri(), reason,
                retryable ? "; retrying on another server if one is left" : "");
        if (retryable) {
            Server next = choice.next(timedOut);
            if (next != null) {
                lastFailure = reason;
                listener.stats().retried();
                tryServer(next);
                return;
            }
        }
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, reason);
    }

    /** Answers the client with an error of Fulcrum's own, then the connection closes. */
    private void fail(HttpResponseStatus status, String reason) {
        done = true;
        responseTimer.stop();
        finishAttempt();
        front.sendError(status, reason, head);
    }

    private void switchToTunnel(HttpResponse response) {
        responseTimer.stop();
        responseStarted = true;
        done = true;
        Channel ch = backend;
        detach();
        // the tunnel is one long request for the drain logic: finished when it closes
        attemptOpen = false;
        Server s = server;
        ch.closeFuture().addListener(f -> s.requestFinished());
        listener.stats().responded(server, 101, System.nanoTime() - startNanos);
        front.switchToTunnel(ch, ForwardedHeaders.switchingProtocols(response));
        ch.pipeline().addLast("relay", new ByteRelay(front.channel()));
        ch.pipeline().remove(BackendHandler.class);
        ch.pipeline().remove("codec");
        ch.read(); // the relay reads only when asked; bytes the codec held have reached it already
    }

    /** The client went away: drop the server connection unless the response already ended. */
    void clientClosed() {
        if (done) {
            return;
        }
        done = true;
        responseTimer.stop();
        Channel ch = backend;
        detach();
        if (ch != null) {
            ch.close();
        }
        finishAttempt();
    }

    private void detach() {
        if (backendHandler != null) {
            backendHandler.release();
        }
        backend = null;
        backendHandler = null;
        writePending = false;
    }

    private void finishAttempt() {
        if (attemptOpen) {
            attemptOpen = false;
            server.requestFinished();
        }
    }
}
