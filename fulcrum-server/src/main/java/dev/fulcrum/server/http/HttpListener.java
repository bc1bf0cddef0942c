package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ConnectionLimit;
import dev.fulcrum.server.net.ListenerConnections;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.net.ListenerSockets;
import dev.fulcrum.server.net.ListenerTls;
import dev.fulcrum.server.metrics.ProxyMetrics;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.concurrent.CompletableFuture;

/**
 * An HTTP listener: accepts client connections on its address (HTTP/1.1, and HTTP/2 when its
 * {@code http2} is on) and proxies their requests to its pools, with keep-alive on both sides,
 * streamed bodies under backpressure, retries on another server, and WebSocket tunnels (HTTP/1.1). The data path is {@link HttpProxyInitializer} ->
 * {@link FrontendHandler} -> {@link ProxyExchange} -> {@link ServerConnector} ({@link BackendConnectionPool}) /
 * {@link BackendHandler}, each client connection and its server connections on one event loop.
 *
 * <p>Life cycle as {@link ListenerRuntime} says; {@link #closeGracefully} stops accepting, closes
 * idle keep-alive connections, lets in-flight requests finish (their responses say
 * {@code Connection: close}; an HTTP/2 connection gets GOAWAY and its open streams finish) and
 * force-closes whatever is left at the timeout.
 *
 * <p>Thread-safe.
 */
public final class HttpListener implements ListenerRuntime {

    private static final Logger log = LoggerFactory.getLogger(HttpListener.class);
    /** How long an idle pooled server connection is kept. */
    public static final Duration DEFAULT_SERVER_IDLE_TIMEOUT = Duration.ofSeconds(60);

    /** Replaced with the routes by a reload that changes only them ({@link #reconfigure}). */
    private volatile FulcrumConfig.Listener config;
    private volatile ListenerRoutes routes;
    /** The running pools by name, for routes built on a reload. */
    private final Function<String, PoolRuntime> pools;
    private final AccessLog accessLog;
    /** Large response bodies go by splice(2) when the transport allows it ({@link BodySplice}). */
    private final boolean splices = BodySplice.enabled();
    private final Transport transport;
    private final ProxyStats stats;
    private final ProxyObserver observer;
    private final String viaName;
    private final ServerConnector backendPool;
    /** Streams of multiplexed connections, for pools whose protocol is HTTP/2. */
    private final ServerConnector h2Pool;
    private final ListenerConnections connections = new ListenerConnections();
    private volatile ListenerSockets sockets;
    /** Set by {@link #start}, null without TLS; its certificates are swapped in place by a reload. */
    private volatile ListenerTls ssl;

    /** The instance name of listeners made without one (tests): what {@code Via} says. */
    public static final String DEFAULT_INSTANCE_NAME = "fulcrum";

    public HttpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport) {
        this(config, pool, transport, DEFAULT_SERVER_IDLE_TIMEOUT, ProxyObserver.NONE, null, DEFAULT_INSTANCE_NAME);
    }

    /**
     * @param observer     told of every attempt's outcome (passive outlier detection)
     * @param metrics      where the listener's Prometheus series live; null for none
     * @param instanceName the config's {@code name}: the {@code Via} entry this listener adds to
     *                     requests, and the one that marks a request loop
     */
    public HttpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport,
                        ProxyObserver observer, ProxyMetrics metrics, String instanceName) {
        this(config, pool, transport, DEFAULT_SERVER_IDLE_TIMEOUT, observer, metrics, instanceName);
    }

    /** @param serverIdleTimeout how long idle keep-alive connections to servers are kept */
    public HttpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport,
                        Duration serverIdleTimeout) {
        this(config, pool, transport, serverIdleTimeout, ProxyObserver.NONE, null, DEFAULT_INSTANCE_NAME);
    }

    public HttpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport,
                        Duration serverIdleTimeout, ProxyObserver observer, ProxyMetrics proxyMetrics,
                        String instanceName) {
        this(config, onlyPool(pool), transport, serverIdleTimeout, observer, proxyMetrics, instanceName, AccessLog.OFF);
    }

    /**
     * A listener whose routes send requests to the pools {@code pools} names (the registry's).
     *
     * @param observer     told of every attempt's outcome (passive outlier detection)
     * @param metrics      where the listener's Prometheus series live; null for none
     * @param instanceName the config's {@code name}: the {@code Via} entry this listener adds to
     *                     requests, and the one that marks a request loop
     */
    public HttpListener(FulcrumConfig.Listener config, Function<String, PoolRuntime> pools, Transport transport,
                        ProxyObserver observer, ProxyMetrics metrics, String instanceName, AccessLog accessLog) {
        this(config, pools, transport, DEFAULT_SERVER_IDLE_TIMEOUT, observer, metrics, instanceName, accessLog);
    }

    private HttpListener(FulcrumConfig.Listener config, Function<String, PoolRuntime> pools, Transport transport,
                         Duration serverIdleTimeout, ProxyObserver observer, ProxyMetrics proxyMetrics,
                         String instanceName, AccessLog accessLog) {
        this(config, pools, transport, new BackendConnectionPool(serverBootstrap(transport), serverIdleTimeout),
                new ServerH2ConnectionPool(serverBootstrap(transport), serverIdleTimeout), observer, proxyMetrics,
                instanceName, accessLog);
    }

    /** The template of connections to servers: on the transport's channels, read only when asked. */
    private static Bootstrap serverBootstrap(Transport transport) {
        return new Bootstrap()
                .channel(transport.socketChannelClass())
                .resolver(transport.resolver())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true);
    }

    /**
     * A listener whose requests take their server connections from {@code connector}. Tests give a
     * connector of {@code EmbeddedChannel}s and a null {@code transport} (the listener is then never
     * started: its client connections are built with {@link #clientInitializer()}).
     */
    HttpListener(FulcrumConfig.Listener config, PoolRuntime pool, Transport transport, ServerConnector connector,
                 ProxyObserver observer, ProxyMetrics proxyMetrics, String instanceName, AccessLog accessLog) {
        this(config, onlyPool(pool), transport, connector, connector, observer, proxyMetrics, instanceName, accessLog);
    }

    private HttpListener(FulcrumConfig.Listener config, Function<String, PoolRuntime> pools, Transport transport,
                         ServerConnector connector, ServerConnector h2Connector, ProxyObserver observer,
                         ProxyMetrics proxyMetrics, String instanceName, AccessLog accessLog) {
        this.config = config;
        this.accessLog = accessLog;
        this.viaName = ForwardedHeaders.viaName(instanceName);
        this.observer = observer;
        this.pools = pools;
        this.transport = transport;
        // a listener built alone (tests) counts into metrics of its own, the same way
        ProxyMetrics metrics = proxyMetrics == null ? ProxyMetrics.unregistered() : proxyMetrics;
        this.stats = new ProxyStats(metrics, metrics.listener(config.name()));
        this.routes = ListenerRoutes.of(config, pools, stats);
        this.backendPool = connector;
        this.h2Pool = h2Connector;
    }

    /** For a listener built around one pool (tests): its routes may name that pool only. */
    private static Function<String, PoolRuntime> onlyPool(PoolRuntime pool) {
        return name -> name.equals(pool.name()) ? pool : null;
    }

    /** The pipeline builder of this listener's client connections (plain HTTP). */
    HttpProxyInitializer clientInitializer() {
        return new HttpProxyInitializer(this, null);
    }

    @Override
    public String name() {
        return config.name();
    }

    FulcrumConfig.Listener config() {
        return config;
    }

    ListenerRoutes routes() {
        return routes;
    }

    /**
     * A reload that changes only this listener's routes swaps them in place: the socket and the
     * open connections stay; each request after the swap is routed by the new table, each one
     * before it finishes on its old route (a request never sees half of each).
     */
    @Override
    public boolean reconfigure(FulcrumConfig.Listener next) {
        if (!config.differsOnlyInRoutes(next)) {
            return false;
        }
        ListenerRoutes built = routes.reloaded(next, pools, stats);
        config = next;
        routes = built;
        log.info("listener {}: routes replaced by the reloaded config ({})", name(), routesText());
        return true;
    }

    boolean splices() {
        return splices;
    }

    /** Where this listener's requests are logged, when it is enabled. */
    AccessLog accessLog() {
        return accessLog;
    }

    /** For the log: "pool app", or "3 routes". */
    private String routesText() {
        ProxyRoute only = routes.everything();
        if (only != null && only.redirect() == null && config.pool() != null) {
            return "pool " + config.pool();
        }
        return routes.all().size() + (routes.all().size() == 1 ? " route" : " routes");
    }

    /** Where this listener's requests to HTTP/1.1 pools get their server connections. */
    ServerConnector backendPool() {
        return backendPool;
    }

    /** Where this listener's requests to a pool speaking {@code protocol} get their server connections (or streams). */
    ServerConnector serverConnector(UpstreamProtocol protocol) {
        return protocol.multiplexed() ? h2Pool : backendPool;
    }

    ProxyObserver observer() {
        return observer;
    }

    /** This instance in {@code Via}: the config's name as a token. */
    String viaName() {
        return viaName;
    }

    /** Retries and other counters of this listener's pool traffic. */
    public ProxyStats stats() {
        return stats;
    }

    boolean isClosing() {
        return connections.isClosing();
    }

    @Override
    public List<X509Certificate> certificates() {
        ListenerTls current = ssl;
        return current == null ? List.of() : current.certificates();
    }

    @Override
    public String reloadCertificates() {
        ListenerTls current = ssl;
        return current == null ? null : current.reload(config.tls());
    }

    @Override
    public CompletableFuture<Void> start() {
        CompletableFuture<Void> started = new CompletableFuture<>();
        try {
            ssl = ListenerTls.load(config);
        } catch (IllegalStateException e) {
            started.completeExceptionally(e);
            return started;
        }
        ServerBootstrap b = new ServerBootstrap()
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new HttpProxyInitializer(this, ssl));
        ListenerSockets.bind(transport, b, ConnectionLimit.of(name(), config.maxConnections()), name(),
                config.listen()).whenComplete((bound, failure) -> {
            if (failure == null) {
                sockets = bound;
                log.info("listener {} accepting http on {} ({}, {} socket(s)), {}", name(), config.listen(),
                        transport.name(), bound.size(), routesText());
                started.complete(null);
            } else {
                started.completeExceptionally(failure);
            }
        });
        return started;
    }


    /** The bound address (useful with port 0 in tests); null before start. */
    public InetSocketAddress localAddress() {
        ListenerSockets s = sockets;
        return s == null ? null : s.localAddress();
    }

    /**
     * Admits a new client connection unless the listener is closing; counts it. {@code max-connections}
     * is kept before this, by the listening sockets' {@link ConnectionLimit}: a connection over it is
     * not accepted yet.
     */
    boolean admit(Channel ch) {
        if (!connections.admit(ch)) {
            return false;
        }
        stats.connectionOpened();
        ch.closeFuture().addListener(f -> stats.connectionClosed());
        return true;
    }

    @Override
    public void stopAccepting() {
        ListenerSockets s = sockets;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public CompletableFuture<Void> closeGracefully(Duration timeout) {
        stopAccepting();
        // idle pooled server connections belong to no client connection: they go once all have
        return connections.closeGracefully(timeout).thenRun(() -> {
            backendPool.closeAll();
            h2Pool.closeAll();
        });
    }

    /** The open client connections (for tests: a connection's own state, such as its {@link Http2ResponseBudget}). */
    Iterable<io.netty.channel.Channel> clientConnections() {
        return connections.clients();
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
