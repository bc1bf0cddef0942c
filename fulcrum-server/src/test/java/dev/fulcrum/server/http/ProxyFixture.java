package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.metrics.ProxyMetrics;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;

import dev.fulcrum.server.testing.Loopback;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A proxy in-process for one test: a registry with one pool (health checks off, so servers are up
 * at once), an {@link HttpListener} on a free 127.0.0.1 port, and the transport under it. Settings
 * are the spec's defaults unless a test changes them before {@link #start()}.
 */
final class ProxyFixture implements AutoCloseable {

    final List<HostPort> servers = new ArrayList<>();
    Algorithm algorithm = Algorithm.ROUND_ROBIN;
    HashKey hashKey = HashKey.SOURCE_IP;
    String stickyCookie = "";
    Duration connectTimeout = Duration.ofSeconds(2);
    Duration responseTimeout = Duration.ofSeconds(30);
    int retries = 2;
    int maxConnectionsPerServer = 0;
    int maxConnections = 100_000;
    Duration idleTimeout = Duration.ofSeconds(60);
    Duration requestHeaderTimeout = Duration.ofSeconds(10);
    int maxHeaderBytes = 65536;
    Duration requestBodyTimeout = Listener.DEFAULT_REQUEST_BODY_TIMEOUT;
    long requestBodyMinRate = Listener.DEFAULT_REQUEST_BODY_MIN_RATE;
    Duration serverIdleTimeout = HttpListener.DEFAULT_SERVER_IDLE_TIMEOUT;
    FulcrumConfig.Tls tls;
    /** The pool's {@code tls} to its servers; null = plain text. */
    FulcrumConfig.ServerTls serverTls;
    int maxRequestsPerConnection;
    /** The listener's http2; null: the default (on with tls, off without). */
    FulcrumConfig.Http2 http2;
    /** The proxy's event loops; 1 makes every client share one pool of server connections. */
    int workerThreads = 2;
    /** The transport kind; null: what production picks ({@code fulcrum.transport} or the default). */
    Transport.Kind transportKind;
    /** What the proxy speaks to the pool's servers. */
    UpstreamProtocol protocol = UpstreamProtocol.HTTP_1_1;
    /** Whether the listener counts into Prometheus series, as in production (off: faster, fewer moving parts). */
    boolean metrics;

    Transport transport;
    /** The pool as started: a test reloads it with {@code registry.applyPools(List.of(poolConfig))}. */
    PoolConfig poolConfig;
    Registry registry;
    PoolRuntime pool;
    HttpListener listener;
    /** The listener's port: a free one at start unless a test chose it before. */
    int port;

    ProxyFixture servers(TestBackend... backends) {
        for (TestBackend b : backends) {
            servers.add(b.address());
        }
        return this;
    }

    ProxyFixture start() throws Exception {
        poolConfig = new PoolConfig("app", algorithm, hashKey, stickyCookie,
                servers.stream().map(a -> new ServerEntry(a, 1)).toList(), connectTimeout, responseTimeout,
                retries, Duration.ZERO, Duration.ofSeconds(30), maxConnectionsPerServer,
                new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                        Duration.ofSeconds(1), 2, 3, 0.1),
                OutlierDetection.DEFAULT, protocol, serverTls, maxRequestsPerConnection);
        if (port == 0) {
            port = Loopback.freePort();
        }
        Listener listenerConfig = new Listener("web", new HostPort("127.0.0.1", port), Protocol.HTTP, "app", tls,
                maxConnections, idleTimeout, requestHeaderTimeout, maxHeaderBytes, requestBodyTimeout,
                requestBodyMinRate);
        if (http2 != null) {
            listenerConfig = listenerConfig.withHttp2(http2);
        }
        registry = Registry.fromConfig(new FulcrumConfig("test", FulcrumConfig.Admin.DEFAULT,
                List.of(listenerConfig), List.of(poolConfig), List.of(), List.of(), null, null), Clock.systemUTC());
        pool = registry.pool("app");
        transport = transportKind == null ? Transport.create(workerThreads)
                : Transport.create(transportKind, workerThreads);
        ProxyMetrics proxyMetrics = metrics ? new FulcrumMetrics(registry).proxy() : null;
        listener = new HttpListener(listenerConfig, pool, transport, serverIdleTimeout, ProxyObserver.NONE,
                proxyMetrics, HttpListener.DEFAULT_INSTANCE_NAME);
        listener.start().get();
        return this;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.closeGracefully(Duration.ZERO).join();
        }
        if (registry != null) {
            registry.close();
        }
        if (transport != null) {
            transport.close();
        }
    }
}
