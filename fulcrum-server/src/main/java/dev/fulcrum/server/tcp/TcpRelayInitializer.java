package dev.fulcrum.server.tcp;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ListenerConnections;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.ListenerTls;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Sets up each accepted client channel of a TCP listener ({@code max-connections} is kept before
 * this, by the listening sockets' {@link dev.fulcrum.server.net.ConnectionLimit}): admits it to the
 * listener's {@link ListenerConnections} (which count it and close it gracefully), reports it and
 * its bytes to the listener's metrics (when given: with TLS a {@link ByteCounter} counts the records;
 * in plain text the session and its relay count what they read and write), adds TLS when configured ({@code tls} null
 * otherwise), the idle timer (no byte in either direction for {@code idle-timeout}) and a
 * {@link TcpSession}.
 *
 * <p>Thread-safe: shared by all accepted channels; what it shares is thread-safe.
 */
final class TcpRelayInitializer extends ChannelInitializer<Channel> {

    private final FulcrumConfig.Listener config;
    private final PoolRuntime pool;
    private final Transport transport;
    private final ProxyObserver observer;
    private final ListenerTls tls;
    private final ListenerConnections connections;
    /** Null without metrics; else shared by all connections, like the listener's series. */
    private final ListenerMetrics metrics;
    /** With metrics and TLS: counts the records, first in the pipeline. */
    private final ByteCounter byteCounter;
    /**
     * With metrics in plain text, where the session counts the bytes it reads and its relay from
     * the server the bytes it writes (the bytes on the wire: no handler needed for them); else
     * {@link ByteCounter#NOT_COUNTED}.
     */
    private final LongConsumer bytesRead;
    private final LongConsumer bytesWritten;
    private final AccessLog accessLog;

    TcpRelayInitializer(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport, ProxyObserver observer,
                        ListenerTls tls, ListenerConnections connections, ListenerMetrics metrics, AccessLog accessLog) {
        this.accessLog = accessLog;
        this.metrics = metrics;
        LongConsumer read = metrics == null ? ByteCounter.NOT_COUNTED : n -> metrics.bytes(n, 0);
        LongConsumer written = metrics == null ? ByteCounter.NOT_COUNTED : n -> metrics.bytes(0, n);
        boolean counter = metrics != null && tls != null;
        this.byteCounter = counter ? new ByteCounter(read, written) : null;
        this.bytesRead = counter ? ByteCounter.NOT_COUNTED : read;
        this.bytesWritten = counter ? ByteCounter.NOT_COUNTED : written;
        this.config = config;
        this.pool = pool;
        this.transport = transport;
        this.observer = observer;
        this.tls = tls;
        this.connections = connections;
    }

    @Override
    protected void initChannel(Channel client) {
        if (!connections.admit(client)) {
            client.close(); // accepted as the listener began closing
            return;
        }
        if (metrics != null) {
            metrics.connectionOpened();
            client.closeFuture().addListener(f -> metrics.connectionClosed());
        }
        if (byteCounter != null) {
            client.pipeline().addLast("bytes", byteCounter); // first: the TLS records are what counts
        }
        if (tls != null) {
            client.pipeline().addLast("tls", tls.newHandler());
        }
        long idleMillis = config.idleTimeout().toMillis();
        if (idleMillis > 0) {
            client.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
        }
        client.pipeline().addLast("session", new TcpSession(config.name(), pool, transport, observer, connections,
                accessLog, bytesRead, bytesWritten));
    }
}
