package dev.fulcrum.server.http;

import dev.fulcrum.core.text.Durations;
import dev.fulcrum.core.health.RequestOutcome;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.log.AccessEntry;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ByteRelay;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.tls.HandshakeFailure;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.core.route.RequestPath;
import dev.fulcrum.server.http.message.MessageHead;
import java.time.Duration;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;

/**
 * One client request on its way through the proxy: picks a server, gets a connection (pooled or
 * new), forwards the head and streams the body, relays the response back, and retries on another
 * server when that is safe. Reads the pool's snapshot and settings once, at the start.
 *
 * <p>Its life is one {@link Phase}, and every change goes through {@link #moveTo}, which refuses
 * a transition the table does not list ({@link Phase#checkTransition}):
 * <pre>
 *   NEW ─► CONNECTING ─► SENDING_HEAD ─► BODY_STREAMING ─► AWAITING_RESPONSE ─► RESPONSE_STREAMING ─► DONE
 *              ▲              └────────────────┴──────────────────┴─► RESPONSE_STREAMING or TUNNEL
 *              └──── RETRYING ◄── the try failed before any response byte (from CONNECTING..AWAITING_RESPONSE)
 *   any phase that is not final ─► FAILED;  TUNNEL, DONE and FAILED are final
 * </pre>
 * <table>
 *   <caption>Phases; an attempt is open (its server counts the request) from CONNECTING to RESPONSE_STREAMING</caption>
 *   <tr><th>phase</th><th>meaning</th><th>may move to</th></tr>
 *   <tr><td>NEW</td><td>made, no server chosen</td><td>CONNECTING, FAILED</td></tr>
 *   <tr><td>CONNECTING</td><td>a server chosen ({@link Server#requestStarted()}), no connection yet</td>
 *       <td>SENDING_HEAD, RETRYING, FAILED</td></tr>
 *   <tr><td>SENDING_HEAD</td><td>connection attached, head written, its write not confirmed</td>
 *       <td>BODY_STREAMING, AWAITING_RESPONSE (a retry of a request the client sent whole),
 *       RESPONSE_STREAMING, TUNNEL, RETRYING, FAILED</td></tr>
 *   <tr><td>BODY_STREAMING</td><td>head confirmed; the client's body parts go out one at a time</td>
 *       <td>AWAITING_RESPONSE, RESPONSE_STREAMING, TUNNEL, RETRYING, FAILED</td></tr>
 *   <tr><td>AWAITING_RESPONSE</td><td>the whole request went out; waiting for the final response head
 *       (1xx interim responses pass without a change)</td><td>RESPONSE_STREAMING, TUNNEL, RETRYING, FAILED</td></tr>
 *   <tr><td>RESPONSE_STREAMING</td><td>final response head received; its body is relayed (the request
 *       body may still be streaming: a server may answer early)</td><td>DONE, FAILED</td></tr>
 *   <tr><td>RETRYING</td><td>the try failed before any response byte and may go to another server</td>
 *       <td>CONNECTING, FAILED</td></tr>
 *   <tr><td>TUNNEL</td><td>101 to a WebSocket: bytes relayed both ways; the server counts the request
 *       until the tunnel closes</td><td>(final)</td></tr>
 *   <tr><td>DONE</td><td>the response ended; the connection went back to the pool or closed</td><td>(final)</td></tr>
 *   <tr><td>FAILED</td><td>Fulcrum answered with its own error, broke a response off, or the client
 *       went away</td><td>(final)</td></tr>
 * </table>
 * Facts that are not phases stay fields: whether some body byte was sent (it forbids a retry), whether
 * the client's last body part was taken, a write to the server in flight (flow control), the client's
 * {@code 100-continue} and keep-alive wishes, whether the try used a pooled connection.
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
 * request with no body byte sent is retried like a reset one, anything else gets a 504. A request
 * an HTTP/2 server says it did not process (REFUSED_STREAM, or above a GOAWAY's last stream id) is
 * retried whatever its method when no body byte went out, on this server again (another stream or
 * connection) when it is the only one left, and not counted as the server's failure.
 *
 * <p>Server connections: a pooled one is reused only when it was made with the pool's current TLS
 * (a reload that changed it leaves the old ones to close); a new one is lent only once its TLS
 * handshake completed, so a refused handshake is a failed connect. After its response a connection
 * goes back to the pool unless it has carried {@code max-requests-per-connection} requests.
 *
 * <p>Counting: {@link Server#requestStarted()} once per attempt (entering CONNECTING) and
 * {@link Server#requestFinished()} exactly once for it (leaving the open-attempt phases, in
 * {@link #moveTo}); a WebSocket tunnel counts as one request until it closes.
 *
 * <p>{@code X-Request-Id}: the client's when valid, else a new one ({@link RequestId}), set before
 * the head goes to a server and put on Fulcrum's own answer. The access log gets one line per
 * request, when it ends: the response ended (its status), the tunnel opened (101), the response
 * broke off (the status sent), Fulcrum answered ({@link #answeredByFulcrum}), or the client went
 * away (the status sent, 499 before any). Bytes in are the head and the body parts as received
 * (without chunked framing), bytes out what the client's {@link MessageWriter} wrote for it.
 *
 * <p>Confined to the client channel's event loop, as is every server connection it uses.
 */
final class ProxyExchange {

    /** The phases of one request; the class comment has the transition table. */
    enum Phase {
        NEW, CONNECTING, SENDING_HEAD, BODY_STREAMING, AWAITING_RESPONSE, RESPONSE_STREAMING, RETRYING,
        TUNNEL, DONE, FAILED;

        /** A try is under way: its server counts the request. */
        boolean attemptOpen() {
            return this == CONNECTING || this == SENDING_HEAD || this == BODY_STREAMING || this == AWAITING_RESPONSE
                    || this == RESPONSE_STREAMING;
        }

        /** Nothing more happens to the request. */
        boolean isFinal() {
            return this == TUNNEL || this == DONE || this == FAILED;
        }

        /** The current try's server confirmed taking the request head. */
        boolean headWritten() {
            return this == BODY_STREAMING || this == AWAITING_RESPONSE || this == RESPONSE_STREAMING;
        }

        boolean allows(Phase next) {
            return switch (this) {
                case NEW -> next == CONNECTING || next == FAILED;
                case CONNECTING -> next == SENDING_HEAD || next == RETRYING || next == FAILED;
                case SENDING_HEAD -> next == BODY_STREAMING || next == AWAITING_RESPONSE || next == RESPONSE_STREAMING
                        || next == TUNNEL || next == RETRYING || next == FAILED;
                case BODY_STREAMING -> next == AWAITING_RESPONSE || next == RESPONSE_STREAMING || next == TUNNEL
                        || next == RETRYING || next == FAILED;
                case AWAITING_RESPONSE -> next == RESPONSE_STREAMING || next == TUNNEL || next == RETRYING
                        || next == FAILED;
                case RESPONSE_STREAMING -> next == DONE || next == FAILED;
                case RETRYING -> next == CONNECTING || next == FAILED;
                case TUNNEL, DONE, FAILED -> false;
            };
        }

        /** @throws IllegalStateException when the table has no {@code this -> next}: a bug, never a network event */
        void checkTransition(Phase next) {
            if (!allows(next)) {
                throw new IllegalStateException("illegal transition of a proxied request: " + this + " -> " + next);
            }
        }
    }

    /** The parts of a request written to the server, each confirmed before the next goes. */
    private enum RequestPart {
        /** The head; body parts follow. */
        HEAD,
        /** The head and the end of a request the client sent whole already (a retry). */
        WHOLE,
        BODY,
        END
    }

    /** Tries a request gets after servers refused it unprocessed, beyond the pool's {@code retries}. */
    static final int MAX_REFUSED_TRIES = 3;
    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);
    private static final HttpResponseStatus LOOP_DETECTED = new HttpResponseStatus(508, "Loop Detected");
    /**
     * Interim (1xx) responses passed on per request at most: a server that sends them without end
     * would otherwise stream heads to the client for ever, and as fast as it can write them.
     */
    static final int MAX_INTERIM_RESPONSES = 16;

    private final FrontendHandler front;
    private final HttpListener listener;
    /** The request head, rewritten in place for the servers once its facts were read (constructor). */
    private final MessageHead request;
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
    /** The pool's TLS to its servers from the same view as the settings; null = plain text. */
    private final PoolTls tls;
    /** The route's response timeout and retries where it sets them, else the pool's. */
    private final Duration responseTimeout;
    private final int retries;
    /** The route the request took, and the pool it chose. */
    private final ProxyRoute route;
    private final PoolRuntime pool;

    /** Where this request's server connections (or HTTP/2 streams) come from: the pool's protocol's. */
    private final ServerConnector connector;
    private final ServerChoice choice;
    private Phase phase = Phase.NEW;
    private int attempts;
    /** Tries the servers refused unprocessed ({@link #retryRefused}): not counted against {@code retries}. */
    private int refusedTries;
    private Server server;
    /** The current try uses a pooled keep-alive connection. */
    private boolean reused;
    private Channel backend;
    private BackendHandler backendHandler;
    private String lastFailure;

    /** Some body byte went to a server, on this try or an earlier one: no retry any more. */
    private boolean bodyBytesSent;
    /** The client's last body part was taken: the request is whole on our side. */
    private boolean bodyEnded;
    /** A write to the current server (head or body part) has not completed: the next part waits. */
    private boolean writePending;
    /** Decided at the response head: the server connection may be kept after the response. */
    private boolean serverReusable;
    /** Decided at the response head: the client connection stays open after the response. */
    private boolean clientKeepAlive;
    /**
     * The write of the response's end to the client (a real promise: the client connection may close
     * after it); the head and body parts go with the void promise, and one promise per server read
     * ({@link #onServerReadComplete}) tells when to read again — one promise per read, not per part.
     */
    private ChannelFuture lastClientWrite;
    /** Something was written to the client since the last flush. */
    private boolean clientWritten;
    private int interimResponses;
    /** The server's 101 to the WebSocket asked for, until its end: then the connections become a tunnel. */
    private MessageHead switching;
    /**
     * The flush to the client not completed yet, or null: the server is read again once it does.
     * Only the newest counts: an older one (of a try before a retry) completes first, writes
     * completing in order, and must not read the newer try's connection.
     */
    private ChannelFuture clientFlush;
    /** The server connection {@link #clientFlush} read from: read again when it flushed, if still the one in use. */
    private Channel flushedFrom;
    /** Completes {@link #clientFlush}: one listener for every server read of the request (not one per read). */
    private final ChannelFutureListener clientFlushed = this::clientFlushed;
    /** What the write to the server in flight carries: what its completion does ({@link #serverWritten}). */
    private RequestPart writing;
    /** Completes each write to the server: one listener for every part of the request (not one per part). */
    private final ChannelFutureListener serverWritten = this::serverWritten;
    /** The rest of the response body going by splice(2), or null. */
    private BodySplice splice;
    private final ResponseTimer responseTimer;

    /** The client's HTTP/2 connection's response budget (null on HTTP/1.1): the server is read while it has room. */
    private final Http2ResponseBudget budget;
    /** The server's RST_STREAM that broke the response off (an HTTP/2 server), or null. */
    private io.netty.handler.codec.http2.Http2Error serverReset;
    /** Waiting for room in {@link #budget} before the next server read. */
    private boolean awaitingBudget;
    private final Runnable budgetFreed = this::budgetFreed;

    /** The target as the client sent it, when the route strips a prefix (the access log's path); else null. */
    private final String sentTarget;
    /** The index of the head's {@code X-Request-Id} field, kept or added. */
    private final int requestIdField;
    /** Bytes received from the client for this request: the head, then the body parts. */
    private long bytesIn;
    /** The client writer's count when the request started: its bytes out are the difference. */
    private final long writtenBefore;
    /** The status of the final response head, once it came. */
    private int responseStatus;
    /** The request's access-log line was made (or the log was off): one per request at most. */
    private boolean logged;

    /** The status logged for a request whose client went away before any response (nginx's). */
    static final int CLIENT_CLOSED = 499;

    ProxyExchange(FrontendHandler front, HttpListener listener, MessageHead request, ProxyRoute route) {
        this.front = front;
        this.listener = listener;
        this.request = request;
        this.route = route;
        this.pool = route.nextPool();
        this.loop = front.channel().eventLoop();
        this.head = request.method() == HttpMethod.HEAD;
        this.upgrade = ForwardedHeaders.isUpgrade(request);
        this.requestKeepAlive = ForwardedHeaders.isKeepAlive(request);
        PoolRuntime.View view = pool.view(); // servers and settings of one moment, one read
        this.settings = view.settings();
        this.tls = view.tls();
        this.responseTimeout = route.responseTimeout(settings);
        this.retries = route.retries(settings);
        this.responseTimer = front.responseTimer();
        responseTimer.bind(this, responseTimeout.toNanos());
        this.budget = front.responseBudget();
        this.connector = listener.serverConnector(settings.protocol());
        this.choice = new ServerChoice(view.snapshot(), settings, connector, loop,
                request, front.clientIp());
        this.looped = ForwardedHeaders.hasLooped(request, listener.viaName());
        this.hostMissing = request.hostIndex() < 0;
        this.expectContinue = expectsContinue(request);
        this.bytesIn = request.storedLength() + 2L; // before any edit: as received, with the blank line
        this.writtenBefore = front.writer().bytesWritten();
        this.requestIdField = RequestId.ensure(request);
        // last: rewrites the request's head in place, after keep-alive and hash keys were read
        ForwardedHeaders.toServer(request, upgrade, front.clientIp(), listener.config().tls() != null,
                listener.viaName(), front.isHttp2());
        ClientCertHeader.toServer(request, front.clientCertSubject());
        if (route.stripPrefix() != null) {
            sentTarget = request.target();
            request.setTarget(RequestPath.stripPrefix(sentTarget, route.stripPrefix()));
        } else {
            sentTarget = null;
        }
        route.requestEdits().apply(request); // the route's word over what the proxy added
    }

    /** The route this request took. */
    ProxyRoute route() {
        return route;
    }

    /** The pool this request's route chose. */
    String poolName() {
        return pool.name();
    }

    /** {@code Expect: 100-continue} in HTTP/1.1 (RFC 9110 10.1.1; as Netty's HttpUtil reads it). */
    private static boolean expectsContinue(MessageHead request) {
        if (request.minorVersion() == 0) {
            return false;
        }
        int i = request.indexOf(HttpHeaderNames.EXPECT);
        return i >= 0 && request.valueEqualsIgnoreCase(i, HttpHeaderValues.CONTINUE);
    }

    /**
     * The one place the phase changes. Counts the request on the try's server: started on entering
     * CONNECTING, finished on leaving the open-attempt phases (except into TUNNEL, which finishes
     * when the tunnel closes).
     */
    private void moveTo(Phase next) {
        phase.checkTransition(next);
        if (next == Phase.CONNECTING) {
            server.requestStarted();
        } else if (phase.attemptOpen() && !next.attemptOpen() && next != Phase.TUNNEL) {
            server.requestFinished();
        }
        phase = next;
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
        Server first = choice.first();
        if (first == null) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "every server of pool " + choice.poolName()
                    + " is at max-connections-per-server");
            return;
        }
        tryServer(first);
    }

    /** True for a HEAD request: its answers carry no body. */
    boolean isHead() {
        return head;
    }

    /** Time since the request head arrived. */
    long elapsedNanos() {
        return System.nanoTime() - startNanos;
    }

    /** The request's {@code X-Request-Id}, as a view over its head. */
    CharSequence requestId() {
        return request.value(requestIdField);
    }

    /**
     * Fulcrum answers this request itself with {@code status}, {@code bytes} written past the
     * client's writer (see {@link FrontendHandler#sendError}): its access-log line.
     */
    void answeredByFulcrum(int status, long bytes) {
        logLine(status, bytes);
    }

    /** Makes the request's access-log line, once, when the log is on. */
    private void logLine(int status, long bytesPastWriter) {
        if (logged) {
            return;
        }
        logged = true;
        AccessLog accessLog = listener.accessLog();
        if (!accessLog.enabled()) {
            return;
        }
        long duration = System.nanoTime() - startNanos;
        int referer = request.indexOf(HttpHeaderNames.REFERER);
        int userAgent = request.indexOf(HttpHeaderNames.USER_AGENT);
        accessLog.log(new AccessEntry(System.currentTimeMillis() - duration / 1_000_000, front.clientIp(),
                listener.name(), route.name(), pool.name(), server == null ? null : server.id(),
                request.method().name(), sentTarget != null ? sentTarget : request.target(), front.protocolOf(request), status, bytesIn,
                front.writer().bytesWritten() - writtenBefore + bytesPastWriter, duration,
                request.valueString(requestIdField), referer < 0 ? null : request.valueString(referer),
                userAgent < 0 ? null : request.valueString(userAgent)));
    }

    /** True when the next body part from the client can be written to the server now. */
    boolean wantsBody() {
        return (phase == Phase.BODY_STREAMING || phase == Phase.RESPONSE_STREAMING) && !writePending && !bodyEnded;
    }

    /**
     * True while the client may rightly hold its body back: it asked for {@code 100 Continue} and
     * none was passed on yet (the server's wait, not the client's).
     */
    boolean awaitingContinue() {
        return expectContinue && !responseStarted();
    }

    /** True once the server's final response head was received (it may be on its way to the client). */
    boolean responseStarted() {
        return phase == Phase.RESPONSE_STREAMING || phase == Phase.DONE || phase == Phase.TUNNEL;
    }

    /**
     * Writes one part of the client's body to the server — a {@code ByteBuf} of body bytes or the
     * {@link MessageEnd} — re-framed by the server connection's {@link RequestWriter}; reading
     * resumes when it flushed.
     */
    void sendBody(Object part) {
        boolean last = part instanceof MessageEnd;
        bodyEnded |= last;
        if (part instanceof ByteBuf b) {
            bytesIn += b.readableBytes();
            bodyBytesSent |= b.isReadable();
        }
        writeToServer(part, last ? RequestPart.END : RequestPart.BODY);
    }

    /**
     * Writes {@code msg} (head or body part) to the current server; {@link #serverWritten} goes on
     * once it completed. No further part goes out meanwhile ({@link #writePending}).
     */
    private void writeToServer(Object msg, RequestPart part) {
        writePending = true;
        writing = part;
        Channel ch = backend;
        RequestWriter out = backendHandler.writer();
        ChannelPromise promise = ch.newPromise();
        switch (msg) {
            case MessageHead h -> out.writeRequest(h, promise);
            case MessageEnd e -> out.writeEnd(e, promise);
            case ByteBuf b -> out.writeBody(b, promise);
            default -> throw new IllegalArgumentException("not a request part: " + msg);
        }
        ch.flush();
        promise.addListener(serverWritten);
    }

    /**
     * A write to a server completed. Still on the same try: after a success, the next step of
     * {@link #writing}; after a failure the connection closes (its channelInactive reports it).
     */
    private void serverWritten(ChannelFuture f) {
        Channel ch = f.channel();
        if (ch != backend || phase.isFinal()) {
            return; // a try that ended meanwhile
        }
        if (!f.isSuccess()) {
            ch.close(); // writePending stays: nothing more goes to a broken connection
            return;
        }
        writePending = false;
        if (!responseStarted()) {
            responseTimer.progress(); // the server took this part: the wait starts again
        }
        switch (writing) {
            case HEAD, WHOLE -> {
                if (phase == Phase.SENDING_HEAD) { // (a server may answer before the head's write completes)
                    moveTo(writing == RequestPart.WHOLE ? Phase.AWAITING_RESPONSE : Phase.BODY_STREAMING);
                }
                front.resume();
            }
            case BODY -> front.resume();
            case END -> {
                if (phase == Phase.BODY_STREAMING) {
                    moveTo(Phase.AWAITING_RESPONSE);
                }
            }
        }
    }

    private void tryServer(Server s) {
        server = s;
        attempts++;
        moveTo(Phase.CONNECTING);
        Channel idle = takeIdle(s);
        reused = idle != null;
        if (reused) {
            attach(idle);
            return;
        }
        int attempt = attempts;
        connector.connect(loop, s, settings.connectTimeout(), tls, settings.maxRequestsPerConnection())
                .addListener((GenericFutureListener<Future<Channel>>) f -> {
                    if (phase != Phase.CONNECTING || attempt != attempts) {
                        if (f.isSuccess()) {
                            connector.park(f.getNow()); // fresh and unused: keep it
                        }
                    } else if (f.isSuccess()) {
                        attach(f.getNow());
                    } else {
                        attemptFailed(connectFailure(f.cause()), null);
                    }
                });
    }

    /**
     * An idle connection to {@code s} made with the pool's current TLS; one made with other TLS
     * settings (a reload changed them, or turned TLS on or off) is closed, not reused.
     */
    private Channel takeIdle(Server s) {
        Channel idle;
        while ((idle = connector.takeIdle(loop, s, tls)) != null
                && idle.pipeline().get(BackendHandler.class).tls() != tls) {
            idle.close();
        }
        return idle;
    }

    private String connectFailure(Throwable cause) {
        if (cause instanceof HandshakeFailure) {
            return "failed the TLS handshake: " + cause.getMessage();
        }
        if (cause instanceof ConnectTimeoutException) {
            return "did not accept the connection within " + Durations.format(settings.connectTimeout());
        }
        if (cause instanceof ConnectException) {
            return "refused the connection";
        }
        return "could not be reached (" + ErrorResponses.oneLine(String.valueOf(cause.getMessage())) + ")";
    }

    private void attach(Channel ch) {
        moveTo(Phase.SENDING_HEAD);
        backend = ch;
        backendHandler = ch.pipeline().get(BackendHandler.class);
        backendHandler.lend(this, head);
        if (hostMissing) {
            ForwardedHeaders.setServerHost(request, server.address().toString());
        }
        if (!upgrade && settings.maxRequestsPerConnection() > 0 && !settings.protocol().multiplexed()) {
            // the connection's last request says so: the server closes first (its TIME_WAIT, not
            // ours); a retry on a connection with requests left takes the field out again
            ForwardedHeaders.lastOnConnection(request,
                    backendHandler.requests() >= settings.maxRequestsPerConnection());
        }
        // A retry of a request the client already sent whole (so with no body: RetryPolicy allows
        // no retry once body bytes went out): nothing more comes from the client, so this try ends
        // the request itself. Without the end, the connection's encoder would still wait for a body
        // and the connection could not be reused.
        boolean whole = bodyEnded;
        if (whole) {
            backendHandler.writer().writeRequest(request, ch.voidPromise());
        }
        writeToServer(whole ? MessageEnd.NO_TRAILERS : request, whole ? RequestPart.WHOLE : RequestPart.HEAD);
        readServer(ch);
    }

    /**
     * Reads the server once, unless the client's HTTP/2 connection holds its limit of unsent
     * response bytes ({@link Http2ResponseBudget}): then once it sent some. On HTTP/1.1 the client's
     * socket is the bound (the next read waits for the flush to the client).
     */
    private void readServer(Channel ch) {
        if (budget == null || !budget.full()) {
            ch.read();
        } else if (!awaitingBudget) {
            awaitingBudget = true;
            budget.await(budgetFreed);
        }
    }

    /** Room in the budget: the read that waited for it, unless the try ended or another read came meanwhile. */
    private void budgetFreed() {
        awaitingBudget = false;
        Channel ch = backend;
        if (ch != null && !phase.isFinal() && clientFlush == null && splice == null) {
            readServer(ch);
        }
    }

    /**
     * Waiting for the client's HTTP/2 connection to take bytes (other streams' included) before the
     * server is read: the client is the slow one, so the response timeout does not count it.
     */
    boolean awaitingBudget() {
        return awaitingBudget;
    }

    // ---- server side -------------------------------------------------------------------------

    /**
     * What the server connection's decoder emitted: a response head, a body part, the end, or a
     * failure (the response could not be framed: the try fails, or the response is broken off).
     */
    void onServerMessage(Object msg) {
        if (phase.isFinal()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        switch (msg) {
            case MessageHead response -> onResponseHead(response);
            case ByteBuf part -> onResponseBody(part);
            case MessageEnd end -> onResponseEnd(end);
            case MessageFailure failure -> serverFailed(ErrorResponses.oneLine(failure.reason()));
            default -> ReferenceCountUtil.release(msg);
        }
    }

    private void onResponseHead(MessageHead response) {
        int code = response.status();
        if (code == 101) {
            if (upgrade && response.hasToken(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)) {
                // switched at the 101's end: the decoder emits the end right after the head, and
                // must be out of the pipeline only once it did (the bytes after it are the tunnel's)
                switching = response;
            } else if (upgrade) {
                serverFailed("switched to a protocol other than the websocket asked for");
            } else {
                serverFailed("switched protocols without being asked to");
            }
            return;
        }
        if (code >= 100 && code < 200) {
            if (++interimResponses > MAX_INTERIM_RESPONSES) {
                serverFailed("sent more than " + MAX_INTERIM_RESPONSES + " interim (1xx) responses");
                return;
            }
            // 100 Continue (the client waits for it before sending its body), 103 Early Hints...
            if (request.minorVersion() == 0) {
                return; // HTTP/1.0 clients know no interim responses (RFC 9110 15.2)
            }
            ForwardedHeaders.interim(response);
            MessageWriter out = front.writer();
            out.writeResponse(response, 1, false, out.voidPromise());
            out.writeEnd(MessageEnd.NO_TRAILERS, out.voidPromise());
            clientWritten = true; // flushed at the read's end, and the server is read again once written
            if (expectContinue) {
                expectContinue = false;
                front.resume(); // the client sends its body now: its body clock starts
            }
            return;
        }
        responseTimer.stop();
        moveTo(Phase.RESPONSE_STREAMING);
        responseStatus = code;
        boolean bodyFollows = !head && code != 204 && code != 304;
        // a close-delimited body is the decoder's to know: BackendHandler.reusable() refuses it at the end
        serverReusable = ForwardedHeaders.isKeepAlive(response) && !upgrade;
        int clientMinor = request.minorVersion();
        clientKeepAlive = requestKeepAlive && !listener.isClosing() && !front.isClosing()
                && !ForwardedHeaders.needsCloseDelimiting(response, clientMinor, bodyFollows);
        ForwardedHeaders.toClient(response, clientMinor, bodyFollows, clientKeepAlive);
        route.responseEdits().apply(response);
        String setCookie = choice.setCookieFor(server);
        if (setCookie != null) {
            response.add("Set-Cookie", setCookie);
        }
        listener.stats().responded(route, pool.name(), server, code, System.nanoTime() - startNanos);
        listener.observer().serverOutcome(pool, server, code >= 500 ? RequestOutcome.SERVER_5XX : RequestOutcome.SUCCESS);
        MessageWriter out = front.writer();
        out.writeResponse(response, clientMinor, head, out.voidPromise());
        clientWritten = true;
    }

    private void onResponseBody(ByteBuf part) {
        if (phase != Phase.RESPONSE_STREAMING) {
            part.release(); // what followed a response head that failed this try
            return;
        }
        MessageWriter out = front.writer();
        out.writeBody(part, out.voidPromise());
        clientWritten = true;
    }

    private void onResponseEnd(MessageEnd end) {
        if (switching != null) {
            switchToTunnel(switching);
            return;
        }
        if (phase != Phase.RESPONSE_STREAMING) {
            return; // the end of an interim (1xx) response
        }
        lastClientWrite = front.writer().writeEnd(end, front.channel().newPromise());
        responseEnded();
    }

    /** End of one read from the server: flush to the client, read again once that flushed. */
    void onServerReadComplete() {
        if (phase.isFinal() || backend == null || splice != null) {
            return; // a splice reads by itself
        }
        Channel ch = backend;
        if (phase == Phase.RESPONSE_STREAMING && listener.splices()) {
            splice = BodySplice.startIfWorth(ch, backendHandler.decoder(), front.channel(), front.writer(), spliceListener());
            if (splice != null) {
                clientWritten = false; // the splice flushes what was written before it
                return;
            }
        }
        if (!clientWritten) {
            readServer(ch);
            return;
        }
        clientWritten = false;
        // an empty write after the parts: its promise completes once everything before it is written
        ChannelFuture w = front.channel().writeAndFlush(Unpooled.EMPTY_BUFFER);
        clientFlush = w;
        flushedFrom = ch;
        w.addListener(clientFlushed);
    }

    /** A flush to the client completed: the server it read from is read again (when still in use). */
    private void clientFlushed(ChannelFuture f) {
        front.clientActivity();
        if (f != clientFlush) {
            return; // an older try's flush: the newer one reads
        }
        clientFlush = null;
        Channel ch = flushedFrom;
        flushedFrom = null;
        if (f.isSuccess() && ch == backend && !phase.isFinal()) {
            readServer(ch);
        }
    }

    /**
     * True while response bytes wait for the client to take them (the server is not read meanwhile):
     * a client that stops reading holds its server connection this way, so the idle timeout
     * treats it like a client that stops sending.
     */
    boolean stalledOnClient() {
        return !phase.isFinal() && (clientFlush != null || splice != null);
    }

    /** A splice moves the rest of the body (see {@link BodySplice}); its end is the response's end. */
    private BodySplice.Listener spliceListener() {
        return new BodySplice.Listener() {
            @Override
            public void spliced(int bytes) {
                listener.stats().written(bytes); // past the client's writer, which counts what it writes
                front.clientActivity();
            }

            @Override
            public void splicedAll() {
                splice = null;
                serverReusable = false; // see BodySplice: the connection reads by itself from now on
            }

            @Override
            public void spliceFailed(Throwable cause) {
                splice = null;
                if (!front.channel().isActive()) {
                    clientClosed(); // the client went away: not the server's fault
                } else if (!phase.isFinal()) {
                    serverFailed("broke off the response (" + ErrorResponses.oneLine(String.valueOf(cause.getMessage())) + ")");
                }
            }
        };
    }

    private void responseEnded() {
        moveTo(Phase.DONE);
        logLine(responseStatus, 0);
        Channel ch = backend;
        // the whole request reached this server (a server may answer before it took all of it)
        boolean requestSent = bodyEnded && !writePending;
        // checked before detaching: bytes left over after the response would poison the next request
        boolean reusable = serverReusable && requestSent && backendHandler.reusable()
                && (settings.maxRequestsPerConnection() == 0 || settings.protocol().multiplexed()
                        || backendHandler.requests() < settings.maxRequestsPerConnection());
        detach();
        front.channel().flush();
        if (reusable) {
            connector.park(ch);
        } else {
            ch.close();
        }
        ChannelFuture w = lastClientWrite;
        lastClientWrite = null;
        front.exchangeEnded(clientKeepAlive && bodyEnded, bodyEnded, w);
    }

    /** The server connection closed while this request used it. */
    void onServerClosed(BackendHandler handler) {
        if (phase.isFinal() || handler != backendHandler) {
            return;
        }
        if (handler.unprocessed() && !responseStarted()) {
            // the server said it did not process the request (HTTP/2 REFUSED_STREAM, or a GOAWAY
            // whose last stream id is below this stream's): any method may go again, unless body
            // bytes are gone (they are not kept); not the server's fault, as a drain is not
            detach();
            retryRefused(handler.closeReason());
            return;
        }
        serverFailed(handler.closeReason());
    }

    /** The current attempt failed on an open (or just closed) server connection. */
    private void serverFailed(String reason) {
        Channel ch = backend;
        if (backendHandler != null) {
            serverReset = backendHandler.serverReset(); // what a broken-off HTTP/2 response passes on
        }
        detach();
        if (ch != null) {
            ch.close();
        }
        attemptFailed(reason, ch);
    }

    private void attemptFailed(String reason, Channel ch) {
        boolean headWritten = phase.headWritten();
        // a pooled connection that died before it took our request is the keep-alive race (the
        // server timed it out), not a failure of the server
        boolean serversFault = !(reused && !headWritten);
        tryFailed(reason, serversFault, HttpResponseStatus.BAD_GATEWAY, RetryPolicy.mayRetry(request.method(),
                ch != null, headWritten, bodyBytesSent, phase == Phase.RESPONSE_STREAMING));
    }

    /**
     * The server did not process the request (its stream was refused, or above a GOAWAY's last
     * stream): tried again, on another server or on this one over another stream, as long as no
     * body byte went out (the body is not kept); else 502. Not held against the server, and not
     * taken from the pool's {@code retries} (a rolling restart's GOAWAY must not fail requests of a
     * pool with {@code retries: 0}, as Envoy retries refused streams too), but at most
     * {@value #MAX_REFUSED_TRIES} times: a server that refuses everything is not tried forever.
     */
    private void retryRefused(String reason) {
        responseTimer.stop();
        Server refused = server;
        lastFailure = "server " + refused.id() + " " + reason;
        log.debug("pool {}: request {} {}: {}", choice.poolName(), request.method(), request.target(), lastFailure);
        if (!bodyBytesSent && refusedTries < MAX_REFUSED_TRIES) {
            refusedTries++;
            moveTo(Phase.RETRYING);
            Server next = choice.nextAfterRefusal(refused);
            if (next != null) {
                listener.stats().retried(pool.name());
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
        if (!phase.attemptOpen() || phase == Phase.RESPONSE_STREAMING) {
            return;
        }
        Channel ch = backend;
        detach();
        if (ch != null) {
            ch.close(); // the server may still answer; that answer has no one to go to
        }
        tryFailed("did not answer within " + Durations.format(responseTimeout), true,
                HttpResponseStatus.GATEWAY_TIMEOUT, RetryPolicy.mayRetryAfterTimeout(request.method(), bodyBytesSent));
    }

    /**
     * The current try failed (its connection is detached already): counted against the server when
     * {@code serversFault}, then the response is broken off if it had started, else the request goes
     * to another server when {@code retryable} and tries are left, else the client gets {@code status}.
     */
    private void tryFailed(String reason, boolean serversFault, HttpResponseStatus status, boolean retryable) {
        responseTimer.stop();
        Server failed = server;
        if (serversFault) {
            failed.failed();
            listener.observer().serverOutcome(pool, failed, RequestOutcome.GATEWAY_FAILURE);
        }
        lastFailure = "server " + failed.id() + " " + reason;
        boolean retry = retryable && attempts - refusedTries <= retries;
        log.debug("pool {}: request {} {}: {}{}", choice.poolName(), request.method(), request.target(), lastFailure,
                retry ? "; retrying on another server if one is left" : "");
        if (phase == Phase.RESPONSE_STREAMING) {
            moveTo(Phase.FAILED);
            logLine(responseStatus, 0); // broken off: the client got this status and part of the body
            front.breakOff(serverReset);
            return;
        }
        if (retry) {
            moveTo(Phase.RETRYING);
            Server next = choice.next(failed);
            if (next != null) {
                listener.stats().retried(pool.name());
                tryServer(next);
                return;
            }
        }
        fail(status, lastFailure);
    }

    /** Answers the client with an error of Fulcrum's own, then the connection closes. */
    private void fail(HttpResponseStatus status, String reason) {
        moveTo(Phase.FAILED);
        responseTimer.stop();
        front.sendError(status, reason, head);
    }

    private void switchToTunnel(MessageHead response) {
        responseTimer.stop();
        moveTo(Phase.TUNNEL); // the tunnel is one long request for the drain logic: finished when it closes
        Channel ch = backend;
        detach();
        Server s = server;
        ch.closeFuture().addListener(f -> s.requestFinished());
        listener.stats().responded(route, pool.name(), server, 101, System.nanoTime() - startNanos);
        ForwardedHeaders.switchingProtocols(response);
        front.switchToTunnel(ch, response);
        logLine(101, 0); // at the switch: the tunnel's bytes are the connection's, not the request's
        // what the server sends reaches the client: counted as written to it
        ch.pipeline().addLast("relay", new ByteRelay(front.channel(), ByteCounter.NOT_COUNTED, front.bytesWritten()));
        ch.pipeline().remove(BackendHandler.class);
        ch.pipeline().remove(BackendHandler.DECODER);
        ch.read(); // the relay reads only when asked; bytes the codec held have reached it already
    }

    /**
     * The client went away (or broke its request off): drop the server connection unless the
     * response already ended.
     */
    void clientClosed() {
        if (phase.isFinal()) {
            return;
        }
        logLine(responseStarted() ? responseStatus : CLIENT_CLOSED, 0);
        moveTo(Phase.FAILED);
        responseTimer.stop();
        Channel ch = backend;
        detach();
        if (ch != null) {
            ch.close();
        }
    }

    private void detach() {
        if (backendHandler != null) {
            backendHandler.release();
        }
        backend = null;
        backendHandler = null;
        writePending = false;
    }
}
