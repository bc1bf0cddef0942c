package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.http.codec.ResponseDecoder;

import dev.fulcrum.core.pool.Server;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to servers, kept per event loop so that a request only ever uses a
 * connection of its own thread (no hand-off, no locks): each loop has its own map from server to
 * idle connections, touched only by that loop. A connection comes back here only after a complete
 * response that allows keep-alive; it leaves when reused (most recent first), when the server
 * closes it, after {@code idleTimeout}, or when its server is removed from the pool.
 *
 * <p>The production {@link ServerConnector}. New connections are made here too ({@link #connect}),
 * with the pipeline of {@link #initServerPipeline}: a {@link ResponseDecoder} (it tells whether a
 * connection may come back after a response) and a {@link BackendHandler} (which writes requests
 * with its {@link MessageWriter}), and counted on the {@link Server} (opened/closed).
 *
 * <p>Thread-safety: {@link #connect}, {@link #takeIdle}, {@link #park} and {@link #hasIdle} must be
 * called on {@code loop}; {@link #closeAll} from any thread.
 */
final class BackendConnectionPool implements ServerConnector {

    private final Bootstrap template;
    private final long idleTimeoutNanos;
    private final Map<EventLoop, LoopPool> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    BackendConnectionPool(Bootstrap template, Duration idleTimeout) {
        this.template = template;
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /**
     * A server connection's pipeline: {@code bytes -> codec (response decoder, request encoder) ->
     * backend}. The {@code codec} name is what a WebSocket upgrade removes.
     */
    static void initServerPipeline(Channel ch, Server server) {
        ResponseDecoder decoder = HttpCodecs.responseDecoder();
        ch.pipeline().addLast(BackendHandler.DECODER, decoder);
        ch.pipeline().addLast("backend", new BackendHandler(server, decoder));
    }

    @Override
    public Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout) {
        Promise<Channel> connected = loop.newPromise();
        open(loop, server, connectTimeout).addListener((ChannelFutureListener) cf -> {
            if (cf.isSuccess()) {
                connected.setSuccess(cf.channel());
            } else {
                connected.setFailure(cf.cause());
            }
        });
        return connected;
    }

    private ChannelFuture open(EventLoop loop, Server server, Duration connectTimeout) {
        Bootstrap b = template.clone(loop)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, connectTimeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        initServerPipeline(ch, server);
                    }
                });
        ChannelFuture f = b.connect(server.address().host(), server.address().port());
        f.addListener((ChannelFutureListener) cf -> {
            if (cf.isSuccess()) {
                server.connectionOpened();
                Channel ch = cf.channel();
                // once per connection: a listener added at each park would pile up on a keep-alive
                // connection, one per request, until it closes (issue 12)
                ch.closeFuture().addListener(c -> closed(ch, server));
            }
        });
        return f;
    }

    /**
     * A connection of {@code server} closed (on its loop): counted, and out of the idle deque when it
     * idled there. {@code remove} is a scan, once per connection, of one loop's idle connections to
     * one server (no more than its peak of concurrent requests there); it starts at the oldest end,
     * where the connections the sweeper expires sit.
     */
    private void closed(Channel ch, Server server) {
        server.connectionClosed();
        LoopPool lp = loops.get(ch.eventLoop());
        ArrayDeque<Channel> idle = lp == null ? null : lp.idle.get(server);
        if (idle != null) {
            idle.remove(ch);
        }
    }

    @Override
    public Channel takeIdle(EventLoop loop, Server server) {
        LoopPool lp = loops.get(loop);
        if (lp == null) {
            return null;
        }
        ArrayDeque<Channel> idle = lp.idle.get(server);
        while (idle != null && !idle.isEmpty()) {
            Channel ch = idle.pollLast();
            if (ch.isActive()) {
                return ch;
            }
        }
        return null;
    }

    @Override
    public boolean hasIdle(EventLoop loop, Server server) {
        LoopPool lp = loops.get(loop);
        if (lp == null) {
            return false;
        }
        ArrayDeque<Channel> idle = lp.idle.get(server);
        return idle != null && !idle.isEmpty();
    }

    /**
     * Keeps a connection whose response completed with keep-alive. A read stays pending on it so
     * that the server closing it is noticed at once (and any byte it sends closes it).
     */
    @Override
    public void park(Channel ch) {
        BackendHandler handler = ch.pipeline().get(BackendHandler.class);
        Server server = handler.server();
        if (closed || server.isRemoved() || !ch.isActive()) {
            handler.park(System.nanoTime());
            ch.close();
            return;
        }
        handler.park(System.nanoTime());
        LoopPool lp = loops.computeIfAbsent((EventLoop) ch.eventLoop(), LoopPool::new);
        ArrayDeque<Channel> idle = lp.idle.computeIfAbsent(server, s -> new ArrayDeque<>());
        idle.addLast(ch); // leaves on close, see connect()
        ch.read();
    }

    /** Closes every idle connection and stops the sweepers. */
    @Override
    public void closeAll() {
        closed = true;
        for (LoopPool lp : loops.values()) {
            lp.loop.execute(lp::closeAll);
        }
    }

    /** One event loop's idle connections; touched only on that loop. */
    private final class LoopPool {
        final EventLoop loop;
        final Map<Server, ArrayDeque<Channel>> idle = new HashMap<>();
        final ScheduledFuture<?> sweeper;

        LoopPool(EventLoop loop) {
            this.loop = loop;
            long period = Math.max(TimeUnit.MILLISECONDS.toNanos(100), Math.min(idleTimeoutNanos / 4,
                    TimeUnit.SECONDS.toNanos(1)));
            this.sweeper = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
        }

        /** Closes connections idle too long or to servers no longer in the pool. */
        void sweep() {
            long now = System.nanoTime();
            for (Iterator<Map.Entry<Server, ArrayDeque<Channel>>> it = idle.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Server, ArrayDeque<Channel>> e = it.next();
                List<Channel> expired = new ArrayList<>();
                for (Channel ch : e.getValue()) {
                    long since = ch.pipeline().get(BackendHandler.class) instanceof BackendHandler h
                            ? h.idleSinceNanos() : now;
                    if (e.getKey().isRemoved() || now - since >= idleTimeoutNanos) {
                        expired.add(ch);
                    }
                }
                expired.forEach(Channel::close);
                if (e.getValue().isEmpty() && e.getKey().isRemoved()) {
                    it.remove();
                }
            }
        }

        void closeAll() {
            sweeper.cancel(false);
            List<Channel> all = new ArrayList<>();
            idle.values().forEach(all::addAll);
            idle.clear();
            all.forEach(Channel::close);
        }
    }
}
