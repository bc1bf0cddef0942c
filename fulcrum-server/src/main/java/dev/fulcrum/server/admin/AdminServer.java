package dev.fulcrum.server.admin;

import dev.fulcrum.server.net.StartException;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.registry.Registry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The admin side on {@code admin.listen}: the REST API, {@code /healthz}, {@code /metrics}, the
 * events stream and the dashboard (admin-api.md).
 *
 * <p>It runs on one event-loop thread of its own (NIO; the admin side carries little traffic), so
 * a busy dashboard or a slow scrape never takes time from the data plane's loops, and a busy data
 * plane never delays a drain.
 *
 * <p>Each connection's pipeline: {@link ConnectionLimit} (at most {@link AdminLimits#maxConnections()}
 * open), the clocks of {@link ConnectionTimeouts}, the HTTP codec, {@link RequestGate} (host, origin,
 * token and body size decided on the head, before a body byte is kept), the aggregator (bodies up to
 * {@link AdminLimits#maxBody()}), then {@link AdminHandler}.
 *
 * <p>Wiring: {@code new AdminServer(config.admin(), registry, metrics, hooks).start()} after the
 * registry is built, {@link #close()} at shutdown. A reload that changes {@code admin} needs a
 * restart of this server (close, then a new one). Thread-safe.
 */
public final class AdminServer implements AutoCloseable {

    private static final long KEEP_ALIVE_SECONDS = 15;
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final FulcrumConfig.Admin config;
    private final AdminLimits limits;
    private final AllowedHosts hosts;
    private final BearerToken token;
    private final ConnectionLimit connectionLimit;
    private final EventLoopGroup group;
    private final EventStream events;
    private final AdminHandler handler;
    private final FulcrumMetrics metrics;
    private volatile Channel serverChannel;

    public AdminServer(FulcrumConfig.Admin config, Registry registry, FulcrumMetrics metrics, AdminHooks hooks) {
        this(config, registry, metrics, hooks, AdminLimits.DEFAULT);
    }

    AdminServer(FulcrumConfig.Admin config, Registry registry, FulcrumMetrics metrics, AdminHooks hooks,
                AdminLimits limits) {
        this.config = config;
        this.metrics = metrics;
        this.limits = limits;
        this.hosts = new AllowedHosts(config.listen(), config.allowedHosts());
        this.token = new BearerToken(config.token());
        this.connectionLimit = new ConnectionLimit(limits.maxConnections());
        this.events = new EventStream();
        this.handler = new AdminHandler(registry, hooks, metrics, events, new DashboardAssets(),
                Clock.systemUTC(), version());
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-admin", true),
                NioIoHandler.newFactory());
        registry.onEvent(events::publish);
    }

    /**
     * Binds {@code admin.listen}.
     *
     * @throws StartException with a one-line message when the address cannot be bound
     */
    public void start() {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                // bounds what an events subscriber may have queued; past it the subscriber is dropped
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ConnectionTimeouts timeouts = new ConnectionTimeouts(limits);
                        ch.pipeline()
                                .addLast(connectionLimit)
                                .addLast(timeouts.byteSpy())
                                .addLast(new HttpServerCodec())
                                .addLast(timeouts)
                                .addLast(new RequestGate(hosts, token, limits))
                                // the gate refused larger bodies already; this bound is the backstop
                                .addLast(new HttpObjectAggregator(limits.maxBody()))
                                .addLast(handler);
                    }
                });
        InetSocketAddress address = new InetSocketAddress(config.listen().host(), config.listen().port());
        try {
            serverChannel = bootstrap.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new StartException("admin: cannot listen on " + config.listen() + ": " + e.getMessage());
        }
        warnWhenOpen();
        group.scheduleAtFixedRate(events::keepAlive, KEEP_ALIVE_SECONDS, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
        // the dashboard's chart starts from five minutes of history: sample even when nobody looks
        group.scheduleAtFixedRate(metrics::tick, 0, 1, TimeUnit.SECONDS);
    }

    /**
     * Without a token, whoever reaches the admin address may drain servers and reload: fine on
     * loopback, where only this host's users can, not anywhere else.
     */
    private void warnWhenOpen() {
        InetSocketAddress bound = localAddress();
        if (!token.required() && bound != null && !bound.getAddress().isLoopbackAddress()) {
            log.warn("admin API on {} is reachable from other hosts and admin.token is not set: anyone who can "
                    + "connect can drain servers and reload; set admin.token", config.listen());
        }
    }

    /** The bound address (the real port when the config asked for port 0); null before start. */
    public InetSocketAddress localAddress() {
        Channel ch = serverChannel;
        return ch == null ? null : (InetSocketAddress) ch.localAddress();
    }

    /** Open events streams (for tests and the status line). */
    public int eventSubscribers() {
        return events.subscribers();
    }

    /** Stops listening, ends the events streams and the admin thread. */
    @Override
    public void close() {
        Channel ch = serverChannel;
        if (ch != null) {
            ch.close().syncUninterruptibly();
        }
        events.closeAll();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static String version() {
        try (InputStream in = AdminServer.class.getResourceAsStream("/dev/fulcrum/server/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
