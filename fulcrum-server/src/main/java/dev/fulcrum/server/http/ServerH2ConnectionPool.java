package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import dev.fulcrum.server.http.codec.ResponseDecoder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 connections to the servers of h2c pools, kept per event loop like
 * {@link BackendConnectionPool}'s (no hand-off between threads, no locks): each loop has its own
 * connections to each server, touched only by that loop. What it hands to a {@link ProxyExchange}
 * is a <em>stream</em> (a Netty {@code Http2StreamChannel} with the pipeline of
 * {@link ServerH2Connection#initStreamPipeline}), which the exchange uses as it uses an HTTP/1.1
 * connection; "parking" a stream closes it, and its connection stays.
 *
 * <p>One connection per server per loop carries every request, up to the server's
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS}; only then does a request open another connection (so
 * {@code n} concurrent requests of a loop use {@code ceil(n / limit)} connections). A request that
 * finds no room waits on a starting connection with room ({@link ServerH2Connection#await}), else
 * opens one. Connections are counted on the {@link Server} (opened/closed), streams are not.
 *
 * <p>A connection's pipeline: {@code bytes -> Http2FrameCodec -> Http2MultiplexHandler ->
 * ServerH2Connection}. For {@code protocol: h2} an {@code SslHandler} (and a check that ALPN
 * chose {@code h2}) goes first, in {@link #initConnectionPipeline}, and the scheme is https; the
 * rest is the same.
 *
 * <p>Thread-safety: every method but {@link #closeAll} must be called on {@code loop}.
 */
final class ServerH2ConnectionPool implements ServerConnector {

    private static final AsciiString HTTP = AsciiString.cached("http");

    private final Bootstrap template;
    private final long idleTimeoutNanos;
    private final Map<EventLoop, LoopConnections> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    ServerH2ConnectionPool(Bootstrap template, Duration idleTimeout) {
        // the connection reads all the time: each stream's flow-control window bounds what it buffers
        this.template = template.clone().option(ChannelOption.AUTO_READ, true);
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /**
     * An HTTP/2 connection's pipeline to a server, with {@code connection} last. Settings: no server
     * push, response heads as large as an HTTP/1.1 server may send.
     */
    static void initConnectionPipeline(Channel ch, ServerH2Connection connection) {
        // protocol h2: ch.pipeline().addLast(sslHandler, alpnCheck) here, before the codec
        Http2Settings settings = Http2Settings.defaultSettings()
                .pushEnabled(false)
                .maxHeaderListSize(ResponseDecoder.MAX_HEAD_BYTES);
        ch.pipeline().addLast("h2", Http2FrameCodecBuilder.forClient().initialSettings(settings).build());
        ch.pipeline().addLast("h2-streams", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        ch.pipeline().addLast("h2-connection", connection);
    }

    @Override
    public Channel takeIdle(EventLoop loop, Server server) {
        LoopConnections lc = loops.get(loop);
        ServerH2Connection c = lc == null ? null : lc.withRoom(server);
        return c == null ? null : c.openStream();
    }

    @Override
    public boolean hasIdle(EventLoop loop, Server server) {
        LoopConnections lc = loops.get(loop);
        return lc != null && lc.withRoom(server) != null;
    }

    @Override
    public Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout) {
        Promise<Channel> stream = loop.newPromise();
        loops.computeIfAbsent(loop, LoopConnections::new).place(server, stream, connectTimeout.toNanos());
        return stream;
    }

    /** The exchange is done with the stream: it closes (reset when not ended), its connection stays. */
    @Override
    public void park(Channel stream) {
        stream.close();
    }

    @Override
    public void closeAll() {
        closed = true;
        for (LoopConnections lc : loops.values()) {
            lc.loop.execute(lc::closeAll);
        }
    }

    /** One event loop's connections; touched only on that loop. */
    private final class LoopConnections implements ServerH2Connection.Owner {
        final EventLoop loop;
        final Map<Server, List<ServerH2Connection>> connections = new HashMap<>();
        /** The last stream limit each server announced on this loop: what a starting connection assumes. */
        final Map<Server, Long> limits = new HashMap<>();
        final ScheduledFuture<?> sweeper;
        /** How long an unused connection stays silent before it gets a PING. */
        final long pingAfterNanos;

        LoopConnections(EventLoop loop) {
            this.loop = loop;
            long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(idleTimeoutNanos / 4,
                    TimeUnit.SECONDS.toNanos(1)));
            this.pingAfterNanos = Math.max(period, idleTimeoutNanos / 4);
            this.sweeper = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
        }

        ServerH2Connection withRoom(Server server) {
            List<ServerH2Connection> list = connections.get(server);
            if (list != null) {
                for (ServerH2Connection c : list) {
                    if (c.hasRoom()) {
                        return c;
                    }
                }
            }
            return null;
        }

        /** Gets {@code stream} a stream: on a ready connection with room, else a starting one, else a new one. */
        void place(Server server, Promise<Channel> stream, long connectTimeoutNanos) {
            ServerH2Connection ready = withRoom(server);
            Channel ch = ready == null ? null : ready.openStream();
            if (ch != null) {
                if (!stream.trySuccess(ch)) {
                    ch.close();
                }
                return;
            }
            List<ServerH2Connection> list = connections.computeIfAbsent(server, s -> new ArrayList<>());
            for (ServerH2Connection c : list) {
                if (c.startingWithRoom()) {
                    c.await(stream);
                    return;
                }
            }
            if (closed || server.isRemoved()) {
                stream.tryFailure(new java.net.ConnectException("the listener or the server is going away"));
                return;
            }
            ServerH2Connection c = new ServerH2Connection(server, this, HTTP,
                    limits.getOrDefault(server, ServerH2Connection.DEFAULT_ASSUMED_STREAMS), connectTimeoutNanos);
            c.await(stream);
            list.add(c);
            template.clone(loop)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, connectTimeoutNanos / 1_000_000))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            initConnectionPipeline(ch, c);
                        }
                    })
                    .connect(server.address().host(), server.address().port())
                    .addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess()) {
                            server.connectionOpened();
                            f.channel().closeFuture().addListener(x -> server.connectionClosed());
                        } else {
                            c.fail(f.cause());
                        }
                    });
        }

        @Override
        public void spill(ServerH2Connection from, Promise<Channel> stream) {
            if (!stream.isDone()) {
                place(from.server(), stream, from.connectTimeoutNanos());
            }
        }

        @Override
        public void closed(ServerH2Connection c) {
            List<ServerH2Connection> list = connections.get(c.server());
            if (list != null) {
                list.remove(c);
                if (list.isEmpty()) {
                    connections.remove(c.server());
                }
            }
        }

        @Override
        public void learned(ServerH2Connection c, long maxStreams) {
            limits.put(c.server(), Math.max(1, maxStreams));
        }

        void sweep() {
            long now = System.nanoTime();
            List<ServerH2Connection> all = new ArrayList<>();
            connections.values().forEach(all::addAll);
            for (ServerH2Connection c : all) {
                c.sweep(now, idleTimeoutNanos, pingAfterNanos);
            }
            limits.keySet().removeIf(Server::isRemoved);
        }

        void closeAll() {
            sweeper.cancel(false);
            List<ServerH2Connection> all = new ArrayList<>();
            connections.values().forEach(all::addAll);
            all.forEach(ServerH2Connection::retire);
        }
    }
}
