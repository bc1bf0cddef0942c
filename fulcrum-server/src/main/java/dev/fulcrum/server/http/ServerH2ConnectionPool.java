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
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import dev.fulcrum.server.http.codec.ResponseDecoder;
import dev.fulcrum.server.tls.PoolTls;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 connections to the servers of h2c and h2 pools, kept per event loop like
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
 * ServerH2Connection}. For {@code protocol: h2} the pool's {@code SslHandler} and an
 * {@link H2AlpnCheck} go first: the rest of the pipeline starts (the preface, SETTINGS) only once
 * the handshake completed and the server chose {@code h2} by ALPN, and the scheme is https. A
 * connection is made with the pool's TLS of its first request ({@link ServerH2Connection#tls}) and
 * serves only requests of that TLS: after a reload that loaded the pool's TLS anew, the old
 * connections take no new streams and close when their last one ends.
 *
 * <p>{@code max-requests-per-connection} is counted per connection, in streams opened
 * ({@link ServerH2Connection#openStream}).
 *
 * <p>Thread-safety: every method but {@link #closeAll} must be called on {@code loop}.
 */
final class ServerH2ConnectionPool implements ServerConnector {

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
     * An HTTP/2 connection's pipeline to a server, with {@code connection} last, after TLS when
     * {@code tls} is not null (an h2 pool). Settings: no server push, response heads as large as an
     * HTTP/1.1 server may send.
     */
    static void initConnectionPipeline(Channel ch, Server server, ServerH2Connection connection, PoolTls tls,
                                       long handshakeTimeoutMillis) {
        if (tls != null) {
            ch.pipeline().addLast(BackendConnectionPool.TLS, tls.newHandler(ch.alloc(), server.address(),
                    handshakeTimeoutMillis));
            ch.pipeline().addLast("h2-alpn", new H2AlpnCheck(tls, server, connection));
        }
        Http2Settings settings = Http2Settings.defaultSettings()
                .pushEnabled(false)
                .maxHeaderListSize(ResponseDecoder.MAX_HEAD_BYTES);
        ch.pipeline().addLast("h2", Http2FrameCodecBuilder.forClient().initialSettings(settings).build());
        ch.pipeline().addLast("h2-streams", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        ch.pipeline().addLast("h2-connection", connection);
    }

    /** A stream of an h2c connection with room (the plain-text pool's). */
    @Override
    public Channel takeIdle(EventLoop loop, Server server) {
        return takeIdle(loop, server, null);
    }

    @Override
    public Channel takeIdle(EventLoop loop, Server server, PoolTls tls) {
        LoopConnections lc = loops.get(loop);
        ServerH2Connection c = lc == null ? null : lc.withRoom(server, tls);
        return c == null ? null : c.openStream();
    }

    /** True when a connection of any TLS has room: what max-connections-per-server asks. */
    @Override
    public boolean hasIdle(EventLoop loop, Server server) {
        LoopConnections lc = loops.get(loop);
        return lc != null && lc.anyWithRoom(server);
    }

    @Override
    public Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout) {
        return connect(loop, server, connectTimeout, null, 0);
    }

    @Override
    public Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout, PoolTls tls) {
        return connect(loop, server, connectTimeout, tls, 0);
    }

    @Override
    public Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout, PoolTls tls,
                                   int maxRequestsPerConnection) {
        Promise<Channel> stream = loop.newPromise();
        loops.computeIfAbsent(loop, LoopConnections::new).place(server, stream, connectTimeout.toNanos(), tls,
                maxRequestsPerConnection);
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

        /**
         * A ready connection to {@code server} made with {@code tls} that has room. Those made with
         * another TLS (the pool's was loaded anew) are retired on the way: no new stream goes there.
         */
        ServerH2Connection withRoom(Server server, PoolTls tls) {
            List<ServerH2Connection> list = connections.get(server);
            if (list == null) {
                return null;
            }
            ServerH2Connection found = null;
            List<ServerH2Connection> stale = null;
            for (ServerH2Connection c : list) {
                if (c.tls() != tls) {
                    (stale == null ? stale = new ArrayList<>() : stale).add(c);
                } else if (found == null && c.hasRoom()) {
                    found = c;
                }
            }
            if (stale != null) {
                stale.forEach(ServerH2Connection::goAway); // a copy: retiring may reach closed(), which edits the list
            }
            return found;
        }

        boolean anyWithRoom(Server server) {
            List<ServerH2Connection> list = connections.get(server);
            return list != null && list.stream().anyMatch(ServerH2Connection::hasRoom);
        }

        /** Gets {@code stream} a stream: on a ready connection with room, else a starting one, else a new one. */
        void place(Server server, Promise<Channel> stream, long connectTimeoutNanos, PoolTls tls, int maxRequests) {
            ServerH2Connection ready = withRoom(server, tls);
            Channel ch = ready == null ? null : ready.openStream();
            if (ch != null) {
                if (!stream.trySuccess(ch)) {
                    ch.close();
                }
                return;
            }
            List<ServerH2Connection> list = connections.computeIfAbsent(server, s -> new ArrayList<>());
            for (ServerH2Connection c : list) {
                if (c.tls() == tls && c.startingWithRoom()) {
                    c.await(stream);
                    return;
                }
            }
            if (closed || server.isRemoved()) {
                stream.tryFailure(new java.net.ConnectException("the listener or the server is going away"));
                return;
            }
            ServerH2Connection c = new ServerH2Connection(server, this, tls, maxRequests,
                    limits.getOrDefault(server, ServerH2Connection.DEFAULT_ASSUMED_STREAMS), connectTimeoutNanos);
            c.await(stream);
            list.add(c);
            int timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeoutNanos / 1_000_000));
            template.clone(loop)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            initConnectionPipeline(ch, server, c, tls, timeoutMillis);
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
                place(from.server(), stream, from.connectTimeoutNanos(), from.tls(), from.maxRequests());
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
