package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.http.codec.ResponseDecoder;
import dev.fulcrum.server.tls.HandshakeFailure;
import dev.fulcrum.server.tls.PoolTls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.ArrayDeque;

/**
 * One multiplexed HTTP/2 connection to a server, as the last handler of its pipeline (after
 * Netty's frame codec and {@code Http2MultiplexHandler}, which pass it the connection's frames):
 * how many streams it may carry, and its life.
 *
 * <p>Streams: the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS} bounds the streams open at once
 * ({@link #openStreams} counts the streams handed out and not closed, including those whose HEADERS
 * are not written yet, which Netty does not count). Until the server's first SETTINGS arrives the
 * connection is <em>starting</em>: requests wait on it ({@link #await}) up to the limit this server
 * announced last ({@code assumedLimit}), and get their streams when it arrives; those beyond the
 * announced limit go back to the pool ({@link Owner#spill}), which finds them another connection.
 *
 * <p>With {@code max-requests-per-connection} ({@code maxRequests} above 0), the connection takes
 * no new stream once it has opened that many, and closes when its last stream ends, as after a
 * GOAWAY (the server's peer sees a graceful close, a GOAWAY of Netty's codec).
 *
 * <p>Life: a GOAWAY from the server ends new streams here (the streams it did not process learn it
 * from their own event, see {@link ServerH2ResponseBridge}); the connection closes when its last
 * stream does. Unused for {@code idleTimeout} it closes; unused and silent for {@code pingAfter} it
 * gets a PING, and closes when the answer takes longer than the pool's connect timeout. A
 * connection that is not ready (connected, SETTINGS received) within the connect timeout closes,
 * failing the requests waiting on it.
 *
 * <p>Confined to its channel's event loop (the loop of every client connection that uses it).
 */
final class ServerH2Connection extends ChannelInboundHandlerAdapter {

    /** Told of what a connection cannot do itself. */
    interface Owner {
        /** Requests that waited on {@code from} and must get their streams elsewhere. */
        void spill(ServerH2Connection from, Promise<Channel> stream);

        /** {@code c} closed: it takes no more streams. */
        void closed(ServerH2Connection c);

        /** {@code c} learned the server's stream limit: starting connections to it assume it. */
        void learned(ServerH2Connection c, long maxStreams);
    }

    /** Before a server says (RFC 9113 6.5.2 recommends servers allow at least 100). */
    static final long DEFAULT_ASSUMED_STREAMS = 100;
    /**
     * The connection's receive window: Netty returns credit as each stream's reader consumes, and
     * a stream's own window (64 KiB) bounds what one slow client holds; the connection window must
     * exceed what the slow streams hold together, or they would stall the fast ones.
     */
    static final int CONNECTION_WINDOW = 16 * 1024 * 1024;
    private static final int DEFAULT_WINDOW = 65_535;

    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private final Server server;
    private final Owner owner;
    /** {@code :scheme} of its requests: https over TLS (h2), http for h2c. */
    private final AsciiString scheme;
    /** The TLS the connection was made with (its streams' too), null for h2c. */
    private final PoolTls tls;
    /** Streams this connection may open in its life; 0 = no limit. */
    private final int maxRequests;
    /** Streams opened so far, for {@code maxRequests}. */
    private int streamsOpened;
    private final long assumedLimit;
    private final long connectTimeoutNanos;
    private final ArrayDeque<Promise<Channel>> waiters = new ArrayDeque<>();
    private Channel channel;
    private Http2StreamChannelBootstrap streams;
    private boolean ready;
    private boolean goingAway;
    private boolean closed;
    /** Why the connection failed before it was ready: what the waiting requests are told. */
    private Throwable failure;
    private long maxStreams;
    private int openStreams;
    private long idleSinceNanos = System.nanoTime();
    private long lastReadNanos = idleSinceNanos;
    /** When the unanswered PING went out; 0 when none is outstanding. */
    private long pingSentNanos;

    /**
     * @param tls         the pool's TLS for an h2 pool (the scheme is then https), null for h2c
     * @param maxRequests streams it may open in its life, 0 for no limit
     */
    ServerH2Connection(Server server, Owner owner, PoolTls tls, int maxRequests, long assumedLimit,
                       long connectTimeoutNanos) {
        this.server = server;
        this.owner = owner;
        this.tls = tls;
        this.scheme = tls == null ? HTTP : HTTPS;
        this.maxRequests = maxRequests;
        this.assumedLimit = assumedLimit;
        this.maxStreams = assumedLimit;
        this.connectTimeoutNanos = connectTimeoutNanos;
    }

    Server server() {
        return server;
    }

    Channel channel() {
        return channel;
    }

    PoolTls tls() {
        return tls;
    }

    /** Streams handed out and not closed. */
    int openStreams() {
        return openStreams;
    }

    /** Ready, and a new stream now stays within the server's limit. */
    boolean hasRoom() {
        return ready && !goingAway && !closed && openStreams < maxStreams;
    }

    /** Starting, and one more waiting request stays within the limit assumed for it. */
    boolean startingWithRoom() {
        return !ready && !goingAway && !closed && openStreams + waiters.size() < assumedLimit
                && (maxRequests == 0 || streamsOpened + waiters.size() < maxRequests);
    }

    /** A request waits for a stream of this starting connection. */
    void await(Promise<Channel> stream) {
        waiters.add(stream);
    }

    /** A new stream when there is room (its channel, registered, with the server stream pipeline), else null. */
    Channel openStream() {
        if (!hasRoom()) {
            return null;
        }
        Future<Http2StreamChannel> f = streams.open();
        if (!f.isDone()) {
            // opened on the loop, Netty registers the stream at once; should it not, it is not used
            f.addListener(done -> {
                if (done.isSuccess()) {
                    ((Channel) done.getNow()).close();
                }
            });
            return null;
        }
        if (!f.isSuccess()) {
            return null;
        }
        Http2StreamChannel stream = f.getNow();
        openStreams++;
        stream.closeFuture().addListener(c -> streamClosed());
        if (maxRequests > 0 && ++streamsOpened >= maxRequests) {
            goingAway = true; // its last stream: closes when the open ones have ended (streamClosed)
        }
        return stream;
    }

    private void streamClosed() {
        if (--openStreams == 0) {
            idleSinceNanos = System.nanoTime();
            if (goingAway || server.isRemoved()) {
                channel.close();
            }
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        streams = new Http2StreamChannelBootstrap(channel)
                .option(ChannelOption.AUTO_READ, false) // read when the exchange asks: the stream's window is the bound
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        initStreamPipeline(ch, server, scheme, tls);
                    }
                });
        ctx.executor().schedule(() -> {
            if (!ready && !closed) {
                fail(new io.netty.channel.ConnectTimeoutException("did not start HTTP/2 (its SETTINGS) within the connect timeout"));
            }
        }, connectTimeoutNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * A stream's pipeline: {@code frames -> bridge -> codec (response decoder) -> backend}, so that
     * an exchange uses a stream as it uses an HTTP/1.1 connection; the backend writes its request
     * as frames ({@link ServerH2RequestWriter}).
     */
    static void initStreamPipeline(Channel ch, Server server, AsciiString scheme, PoolTls tls) {
        ServerH2ResponseBridge bridge = new ServerH2ResponseBridge();
        ResponseDecoder decoder = HttpCodecs.responseDecoder();
        ch.pipeline().addLast("h2-bridge", bridge);
        ch.pipeline().addLast(BackendHandler.DECODER, decoder);
        ch.pipeline().addLast("backend", new BackendHandler(server, decoder,
                ctx -> new ServerH2RequestWriter(ctx, scheme, bridge), tls));
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // after the codec's preface and SETTINGS
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - DEFAULT_WINDOW));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastReadNanos = System.nanoTime();
        try {
            switch (msg) {
                case Http2SettingsFrame s -> settings(s);
                case Http2GoAwayFrame g -> goAway();
                case Http2PingFrame p when p.ack() -> pingSentNanos = 0;
                default -> { }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void settings(Http2SettingsFrame frame) {
        Long limit = frame.settings().maxConcurrentStreams();
        if (limit != null) {
            maxStreams = limit;
            owner.learned(this, limit);
        } else if (!ready) {
            maxStreams = Long.MAX_VALUE; // unlimited until the server says otherwise (RFC 9113 6.5.2)
        }
        if (!ready) {
            ready = true;
            idleSinceNanos = System.nanoTime();
            serveWaiters();
        }
    }

    private void serveWaiters() {
        while (!waiters.isEmpty()) {
            Promise<Channel> p = waiters.poll();
            Channel stream = openStream();
            if (stream != null) {
                if (!p.trySuccess(stream)) {
                    stream.close();
                }
            } else {
                owner.spill(this, p);
            }
        }
    }

    /**
     * No new stream goes here (the server's GOAWAY, or the pool's TLS changed on a reload); the
     * connection closes once its last stream has.
     */
    void goAway() {
        goingAway = true;
        while (!waiters.isEmpty()) {
            owner.spill(this, waiters.poll());
        }
        if (openStreams == 0 && channel != null) {
            channel.close();
        }
    }

    int maxRequests() {
        return maxRequests;
    }

    /** The connection failed before it was ready: its waiting requests hear {@code cause}. */
    void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        if (channel != null && channel.isActive()) {
            channel.close(); // channelInactive tells the waiters
        } else {
            ended();
        }
    }

    /**
     * The listener closes: no new stream goes here, and the connection closes once its last stream
     * has; an unused one closes at once, below the HTTP/2 codec (whose close would first write a
     * GOAWAY and wait for it, and the event loops may be stopping).
     */
    void retire() {
        goingAway = true;
        if (openStreams == 0 && channel != null) {
            channel.pipeline().firstContext().close();
        }
    }

    long connectTimeoutNanos() {
        return connectTimeoutNanos;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ended();
        ctx.fireChannelInactive();
    }

    private void ended() {
        if (closed) {
            return;
        }
        closed = true;
        Throwable cause = failure != null ? failure
                : new java.net.ConnectException("closed the connection before HTTP/2 started");
        while (!waiters.isEmpty()) {
            waiters.poll().tryFailure(cause);
        }
        owner.closed(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        javax.net.ssl.SSLException ssl = tls == null || ready ? null : HandshakeFailure.tlsError(cause);
        if (ssl != null) {
            // TLS failed after the handshake and before HTTP/2 started (under TLS 1.3 a server refuses
            // a client certificate so): a connect failure like a refused handshake, logged the same way
            HandshakeFailure failure = HandshakeFailure.of(ssl, tls.nameFor(server.address()), tls.caName());
            TlsFailureLog.failed(tls.pool(), server, "TLS failed", failure.getMessage());
            cause = failure;
        }
        fail(cause); // the connection's streams learn it as their channels close
    }

    /**
     * The pool's periodic look at this connection (on its loop): closes it idle too long, or when a
     * PING stayed unanswered; sends a PING when it has been unused and silent for {@code pingAfterNanos}.
     */
    void sweep(long now, long idleTimeoutNanos, long pingAfterNanos) {
        if (!ready || closed) {
            return;
        }
        if (pingSentNanos != 0) {
            if (now - pingSentNanos >= connectTimeoutNanos) {
                // no PING answer within the connect timeout: the server or the path is gone, and a
                // GOAWAY (the codec's graceful close) could wait on a write that never drains
                channel.pipeline().firstContext().close();
            }
            return;
        }
        if (openStreams > 0) {
            return;
        }
        if (now - idleSinceNanos >= idleTimeoutNanos || server.isRemoved()) {
            channel.close();
        } else if (now - lastReadNanos >= pingAfterNanos) {
            pingSentNanos = now == 0 ? 1 : now;
            channel.writeAndFlush(new DefaultHttp2PingFrame(now));
        }
    }
}
