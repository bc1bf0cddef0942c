package dev.fulcrum.server.tcp;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sets up each accepted client channel of a TCP listener ({@code max-connections} is kept before
 * this, by the listening sockets' {@link dev.fulcrum.server.net.ConnectionLimit}): counts it, tracks it for a graceful stop and
 * reports it and its bytes to the listener's metrics (when given), adds TLS when configured ({@code tls} null otherwise), the idle timer (no byte in either direction for {@code idle-timeout}) and a {@link TcpSession}.
 *
 * <p>Thread-safe: shared by all accepted channels; the counter is atomic.
 */
final class TcpRelayInitializer extends ChannelInitializer<Channel> {

    private final FulcrumConfig.Listener config;
    private final PoolRuntime pool;
    private final Transport transport;
    private final ProxyObserver observer;
    private final SslContext tls;
    private final ChannelGroup channels;
    private final AtomicInteger clients;
    /** Null without metrics; else shared by all connections, like the listener's series. */
    private final ListenerMetrics metrics;
    private final ByteCounter byteCounter;

    TcpRelayInitializer(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport, ProxyObserver observer,
                        SslContext tls, ChannelGroup channels, AtomicInteger clients, ListenerMetrics metrics) {
        this.metrics = metrics;
        this.byteCounter = metrics == null ? null
                : new ByteCounter(n -> metrics.bytes(n, 0), n -> metrics.bytes(0, n));
        this.config = config;
        this.pool = pool;
        this.transport = transport;
        this.observer = observer;
        this.tls = tls;
        this.channels = channels;
        this.clients = clients;
    }

    @Override
    protected void initChannel(Channel client) {
        clients.incrementAndGet();
        client.closeFuture().addListener(f -> clients.decrementAndGet());
        channels.add(client);
        if (metrics != null) {
            metrics.connectionOpened();
            client.closeFuture().addListener(f -> metrics.connectionClosed());
            client.pipeline().addLast("bytes", byteCounter); // first: TLS records count too
        }
        if (tls != null) {
            client.pipeline().addLast("tls", tls.newHandler(client.alloc()));
        }
        long idleMillis = config.idleTimeout().toMillis();
        if (idleMillis > 0) {
            client.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
        }
        client.pipeline().addLast("session", new TcpSession(config.name(), pool, transport, observer, channels));
    }
}
