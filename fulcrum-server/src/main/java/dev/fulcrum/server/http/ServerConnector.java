package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.Channel;
import dev.fulcrum.server.http.codec.ResponseDecoder;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

import java.time.Duration;

/**
 * Where a {@link ProxyExchange} gets its server connections: an idle keep-alive one of its event
 * loop, or a new one, and where it leaves one whose response ended cleanly. Every connection it
 * hands out has a server pipeline ending in a {@link ResponseDecoder} and a {@link BackendHandler}
 * ({@link BackendConnectionPool#initServerPipeline}). {@link BackendConnectionPool} for HTTP/1.1
 * pools and {@link ServerH2ConnectionPool} (whose "connections" are HTTP/2 streams) for h2c and h2 pools
 * in production; tests hand out {@code EmbeddedChannel}s.
 *
 * <p>Every method but {@link #closeAll} must be called on {@code loop} (the connection's loop).
 */
interface ServerConnector {

    /** An open idle connection to {@code server} of this loop, or null. */
    Channel takeIdle(EventLoop loop, Server server);

    /** True when an idle connection to {@code server} waits on this loop (it escapes max-connections-per-server). */
    boolean hasIdle(EventLoop loop, Server server);

    /**
     * Opens a new connection to {@code server} on {@code loop} (for HTTP/2, a stream on a new or
     * starting connection); the future, completed on {@code loop}, fails on refusal or timeout.
     */
    Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout);

    /**
     * As {@link #connect(EventLoop, Server, Duration)}, over TLS made with {@code tls} when not
     * null: the future completes once the connection is ready for a request (after the TLS
     * handshake), and fails on a failed handshake too ({@code HandshakeFailure}). A connector that
     * cannot originate TLS refuses it rather than speak plain text (the config keeps {@code tls}
     * to the pools whose connector can).
     */
    default Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout, PoolTls tls) {
        if (tls != null) {
            throw new UnsupportedOperationException("pool " + tls.pool() + ": this connector does not originate TLS");
        }
        return connect(loop, server, connectTimeout);
    }

    /**
     * As {@link #connect(EventLoop, Server, Duration, PoolTls)}, for a pool whose connections carry
     * at most {@code maxRequestsPerConnection} requests (0: no limit). The HTTP/2 connector counts
     * them itself (streams opened on a connection); for HTTP/1.1 the exchange does (the last
     * request says {@code Connection: close}), so the default ignores it.
     */
    default Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout, PoolTls tls,
                                    int maxRequestsPerConnection) {
        return connect(loop, server, connectTimeout, tls);
    }

    /**
     * As {@link #takeIdle(EventLoop, Server)}, for a request of a pool whose TLS is now {@code tls}.
     * The HTTP/2 connector hands out only streams of connections made with {@code tls} (and retires
     * the others); the caller checks an HTTP/1.1 connection's TLS itself.
     */
    default Channel takeIdle(EventLoop loop, Server server, PoolTls tls) {
        return takeIdle(loop, server);
    }

    /**
     * Takes back a connection whose response completed with keep-alive and exact framing (an
     * HTTP/2 stream closes: its connection stays).
     */
    void park(Channel ch);

    /** Closes every idle connection (the listener closed); any thread. */
    void closeAll();
}
