package dev.fulcrum.server.tcp;

import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.core.balance.Hashing;
import dev.fulcrum.core.balance.Pick;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.log.AccessEntry;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ByteRelay;
import dev.fulcrum.server.net.ListenerConnections;
import dev.fulcrum.core.health.RequestOutcome;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongConsumer;

/**
 * The start of one proxied TCP connection (a session), on the client channel: picks a server from
 * the pool's current snapshot (by source IP when the pool hashes), connects to it on the client's
 * event loop within {@code connect-timeout}, tries another server on failure (up to
 * {@code retries} more, never the same one twice), then hands both channels to a pair of
 * {@link ByteRelay}s. No server in rotation, or every try failed: the client is closed at once.
 * Once relaying it only passes reads on, and closes the session when the idle timer fires.
 *
 * <p>The server counts one connection and one request (its in-flight work, which a drain waits
 * for) from connect until the backend channel closes.
 *
 * <p>With the access log on when the connection came, its line is made when the client channel
 * closes: the server connected to (none when every try failed), the bytes the client sent and
 * the bytes relayed to it (payload, after TLS), and how long the connection lasted.
 *
 * <p>Not thread-safe: one per client connection, on its event loop.
 */
final class TcpSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(TcpSession.class);

    private final String listenerName;
    private final PoolRuntime pool;
    private final Transport transport;
    private final ProxyObserver observer;
    private final ListenerConnections connections;
    /**
     * Bytes and the end of input that arrive before the backend is connected. AUTO_READ is off, but
     * epoll still reads when the client's FIN comes (EPOLLRDHUP), so a short request followed by a
     * half-close can land here; it is replayed to the relay once the backend is up.
     */
    private final List<Object> early = new ArrayList<>(1);
    private boolean earlyEof;
    private boolean relaying;

    private final AccessLog accessLog;
    /** The access log was on when the connection came: its line is made at the close. */
    private boolean logging;
    private long startNanos;
    private long bytesIn;
    private long bytesOut;
    /** The server the session relays to; null until connected. */
    private Server connected;

    /** Where the client connection's wire bytes are counted, or {@code ByteCounter.NOT_COUNTED} (see the initializer). */
    private final LongConsumer bytesRead;
    private final LongConsumer bytesWritten;

    /**
     * @param bytesRead    told the size of every buffer the client connection reads
     * @param bytesWritten told the size of every buffer written to it
     */
    TcpSession(String listenerName, PoolRuntime pool, Transport transport, ProxyObserver observer,
               ListenerConnections connections, AccessLog accessLog, LongConsumer bytesRead,
               LongConsumer bytesWritten) {
        this.bytesRead = bytesRead;
        this.bytesWritten = bytesWritten;
        this.accessLog = accessLog;
        this.listenerName = listenerName;
        this.pool = pool;
        this.transport = transport;
        this.observer = observer;
        this.connections = connections;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel client = ctx.channel();
        if (accessLog.enabled()) {
            logging = true;
            startNanos = System.nanoTime();
        }
        PoolRuntime.View view = pool.view(); // servers and settings of one moment, one read
        PoolSnapshot snapshot = view.snapshot();
        if (!snapshot.hasServerUp()) {
            log.debug("listener {}: no server up in pool {}; closing {}", listenerName, pool.name(),
                    client.remoteAddress());
            client.close();
            return;
        }
        long hash = snapshot.algorithm().usesHashKey() ? Hashing.hash64(sourceIp(client)) : 0;
        connect(client, view, Pick.of(hash, ThreadLocalRandom.current()), view.settings().retries());
        ctx.fireChannelActive();
    }

    private void connect(Channel client, PoolRuntime.View view, Pick pick, int retriesLeft) {
        Server server = view.snapshot().pick(pick);
        if (server == null || !client.isActive()) {
            client.close();
            return;
        }
        int limit = view.settings().maxConnectionsPerServer();
        if (limit > 0 && server.activeConnections() >= limit) {
            // at max-connections-per-server: passed over like a server already tried, as for HTTP;
            // when every server is at its limit the client is closed at once (it does not wait)
            connect(client, view, pick.excluding(server), retriesLeft);
            return;
        }
        if (isThisListener(server, client)) {
            // a pool that lists this listener would connect to itself, again and again, one connection
            // per turn until file descriptors run out: skip that server (the HTTP path has Via for this)
            log.warn("listener {}: server {} of pool {} is this listener's own address; not connecting to it "
                    + "(a loop)", listenerName, server.id(), pool.name());
            connect(client, view, pick.excluding(server), retriesLeft);
            return;
        }
        PoolConfig settings = view.settings();
        Bootstrap bootstrap = new Bootstrap().group(client.eventLoop())
                .channel(transport.socketChannelClass())
                .resolver(transport.resolver())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        settings.connectTimeout().toMillis()))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel backend) {
                        // the relay is added once connected: nothing is read before
                    }
                });
        bootstrap.connect(server.address().host(), server.address().port()).addListener(
                (ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        observer.serverOutcome(pool, server, RequestOutcome.SUCCESS);
                        relay(client, f.channel(), server);
                    } else {
                        server.failed();
                        observer.serverOutcome(pool, server, RequestOutcome.GATEWAY_FAILURE);
                        log.debug("listener {}: connect to {} failed: {}", listenerName, server.id(),
                                f.cause().getMessage());
                        if (retriesLeft > 0) {
                            connect(client, view, pick.excluding(server), retriesLeft - 1);
                        } else {
                            client.close();
                        }
                    }
                });
    }

    private void relay(Channel client, Channel backend, Server server) {
        server.connectionOpened();
        server.requestStarted();
        backend.closeFuture().addListener(f -> {
            server.requestFinished();
            server.connectionClosed();
        });
        connections.addServerConnection(backend);
        if (!client.isActive()) {
            backend.close();
            return;
        }
        client.pipeline().addLast(new ByteRelay(backend));
        if (logging) {
            connected = server;
            backend.pipeline().addLast(new CountRelayed()); // what the server sends is what the client gets
        }
        backend.pipeline().addLast(new ByteRelay(client, ByteCounter.NOT_COUNTED, bytesWritten));
        relaying = true;
        for (Object msg : early) {
            backend.write(msg);
        }
        early.clear();
        backend.flush();
        if (earlyEof) {
            client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        } else {
            client.read();
        }
        backend.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            int n = bytes.readableBytes();
            bytesRead.accept(n); // here, not in the relay: bytes that came before the server connection count too
            if (logging) {
                bytesIn += n;
            }
        }
        if (relaying) {
            ctx.fireChannelRead(msg);
        } else {
            early.add(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        early.forEach(ReferenceCountUtil::release);
        early.clear();
        if (logging) {
            long duration = System.nanoTime() - startNanos;
            accessLog.log(AccessEntry.tcp(System.currentTimeMillis() - duration / 1_000_000, sourceIp(ctx.channel()),
                    listenerName, RouteConfig.defaultName(listenerName, 1), pool.name(),
                    connected == null ? null : connected.id(), bytesIn, bytesOut, duration));
        }
        ctx.fireChannelInactive();
    }

    /** On the server channel, before its relay: counts the bytes relayed to the client. */
    private final class CountRelayed extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf bytes) {
                bytesOut += bytes.readableBytes();
            }
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !relaying) {
            earlyEof = true;
            return;
        }
        if (evt instanceof IdleStateEvent) {
            // no byte either way for idle-timeout: the relay closes the backend when the client goes
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** True when {@code server} is the address this client connected to (an IP literal, or localhost). */
    private static boolean isThisListener(Server server, Channel client) {
        if (!(client.localAddress() instanceof InetSocketAddress local) || local.getPort() != server.address().port()) {
            return false;
        }
        String host = server.address().host();
        if (host.equalsIgnoreCase("localhost")) {
            return local.getAddress().isLoopbackAddress();
        }
        try {
            return InetAddress.ofLiteral(host).equals(local.getAddress());
        } catch (IllegalArgumentException notALiteral) {
            return false; // a host name: not resolved here, on the connection's event loop
        }
    }

    private static String sourceIp(Channel client) {
        return client.remoteAddress() instanceof InetSocketAddress address
                ? address.getAddress().getHostAddress() : String.valueOf(client.remoteAddress());
    }
}
