package dev.fulcrum.server.tcp;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.metrics.ProxyMetrics;
import dev.fulcrum.server.net.ConnectionLimit;
import dev.fulcrum.server.net.ListenerConnections;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.net.ListenerSockets;
import dev.fulcrum.server.net.ListenerTls;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;

import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A {@code protocol: tcp} listener: accepts connections on its address and relays each one, byte
 * for byte and in both directions, to a server of its pool (see {@link TcpSession} for the pick,
 * connect and retry rules, {@link dev.fulcrum.server.net.ByteRelay} for backpressure and
 * half-close). Every session counts as one in-flight request of its server, so draining a server
 * waits for its TCP sessions.
 *
 * <p>With {@code tls} set, the listener terminates TLS (certificate and key in PEM) and relays the
 * plain bytes; the end of a TLS session is a full close (close_notify), not a half-close.
 *
 * <p>With {@link ProxyMetrics}, the listener reports its open client connections
 * ({@code fulcrum_connections_active}) and the bytes on its client sockets
 * ({@code fulcrum_bytes_total}, TLS records included); a TCP session has no requests to count.
 *
 * <p>With the access log on, each connection is one line when it closes (see {@link TcpSession}).
 *
 * <p>A graceful close stops accepting and lets sessions end on their own until the timeout, then
 * closes the rest: a TCP session has no request boundary at which to stop it earlier.
 *
 * <p>Thread-safe: life-cycle methods may be called from any thread.
 */
public final class TcpListener implements ListenerRuntime {

    private final FulcrumConfig.Listener config;
    private final PoolRuntime pool;
    private final Transport transport;
    private final ProxyObserver observer;
    /** Null when the listener runs without metrics (tests). */
    private final ListenerMetrics metrics;
    private final ListenerConnections connections = new ListenerConnections();
    private final AccessLog accessLog;
    private volatile ListenerSockets sockets;
    /** Set by {@link #start}, null without TLS; its certificates are swapped in place by a reload. */
    private volatile ListenerTls tls;

    public TcpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport) {
        this(config, pool, transport, ProxyObserver.NONE);
    }

    /** @param observer told of every connect's outcome (passive outlier detection) */
    public TcpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport, ProxyObserver observer) {
        this(config, pool, transport, observer, null, AccessLog.OFF);
    }

    /**
     * @param observer  told of every connect's outcome (passive outlier detection)
     * @param metrics   where the listener's connection and byte series live; null for none
     * @param accessLog where each connection's line goes when it closes (when it is enabled)
     */
    public TcpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport, ProxyObserver observer,
                       ProxyMetrics metrics, AccessLog accessLog) {
        this.config = config;
        this.accessLog = accessLog;
        this.pool = pool;
        this.transport = transport;
        this.observer = observer;
        this.metrics = metrics == null ? null : metrics.listener(config.name());
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public List<X509Certificate> certificates() {
        ListenerTls current = tls;
        return current == null ? List.of() : current.certificates();
    }

    @Override
    public String reloadCertificates() {
        ListenerTls current = tls;
        return current == null ? null : current.reload(config.tls());
    }

    @Override
    public CompletableFuture<Void> start() {
        CompletableFuture<Void> started = new CompletableFuture<>();
        try {
            tls = ListenerTls.load(config);
        } catch (IllegalStateException e) {
            started.completeExceptionally(e);
            return started;
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new TcpRelayInitializer(config, pool, transport, observer, tls, connections, metrics,
                        accessLog));
        ListenerSockets.bind(transport, bootstrap, ConnectionLimit.of(config.name(), config.maxConnections()),
                config.name(), config.listen()).whenComplete((bound, failure) -> {
            if (failure == null) {
                sockets = bound;
                started.complete(null);
            } else {
                started.completeExceptionally(failure);
            }
        });
        return started;
    }

    /** The bound address (the real port when the config asked for port 0); null before start. */
    public InetSocketAddress localAddress() {
        ListenerSockets s = sockets;
        return s == null ? null : s.localAddress();
    }

    @Override
    public void stopAccepting() {
        ListenerSockets s = sockets;
        if (s != null) {
            s.close(); // callers expect the port free on return
        }
    }

    @Override
    public CompletableFuture<Void> closeGracefully(Duration timeout) {
        stopAccepting();
        return connections.closeGracefully(timeout);
    }

    @Override
    public int activeConnections() {
        return connections.open();
    }

    @Override
    public boolean isAccepting() {
        ListenerSockets s = sockets;
        return s != null && s.isAccepting();
    }
}
