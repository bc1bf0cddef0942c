package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;

import java.time.Duration;

/**
 * Where a {@link ProxyExchange} gets its server connections: an idle keep-alive one of its event
 * loop, or a new one, and where it leaves one whose response ended cleanly. Every connection it
 * hands out has the server pipeline of {@link BackendConnectionPool#initServerPipeline}, ending in
 * a {@link BackendHandler}. {@link BackendConnectionPool} in production; tests hand out
 * {@code EmbeddedChannel}s.
 *
 * <p>Every method but {@link #closeAll} must be called on {@code loop} (the connection's loop).
 */
interface ServerConnector {

    /** An open idle connection to {@code server} of this loop, or null. */
    Channel takeIdle(EventLoop loop, Server server);

    /** True when an idle connection to {@code server} waits on this loop (it escapes max-connections-per-server). */
    boolean hasIdle(EventLoop loop, Server server);

    /**
     * Opens a new connection to {@code server} on {@code loop}, over TLS made with {@code tls} when
     * not null; the future completes once the connection is ready for a request (after the TLS
     * handshake), and fails on refusal, timeout, or a failed handshake ({@code HandshakeFailure}).
     */
    ChannelFuture connect(EventLoop loop, Server server, Duration connectTimeout, PoolTls tls);

    /** Takes back a connection whose response completed with keep-alive and exact framing. */
    void park(Channel ch);

    /** Closes every idle connection (the listener closed); any thread. */
    void closeAll();
}
