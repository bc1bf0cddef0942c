package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.text.Redact;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A whole, validated config file (spec config.md), with every default filled in. Built only by
 * {@link ConfigLoader}; once built it is known to be consistent (names unique, references exist,
 * ranges hold), so the runtime never re-checks it. Immutable.
 *
 * @param ha        null when the file has no {@code ha} section
 * @param dsr       null when the file has no {@code dsr} section
 * @param accessLog null when the file has no {@code access-log} section (no access log)
 * @param cluster   null when the file has no {@code cluster} section (one node, its file: spec cluster.md)
 */
public record FulcrumConfig(String name, Admin admin, List<Listener> listeners, List<PoolConfig> pools,
                            List<Alert> alerts, List<Autoscale> autoscale, Ha ha, Dsr dsr,
                            AccessLogConfig accessLog, Cluster cluster) {

    public FulcrumConfig {
        listeners = List.copyOf(listeners);
        pools = List.copyOf(pools);
        alerts = List.copyOf(alerts);
        autoscale = List.copyOf(autoscale);
    }

    /** A config outside a cluster. */
    public FulcrumConfig(String name, Admin admin, List<Listener> listeners, List<PoolConfig> pools,
                         List<Alert> alerts, List<Autoscale> autoscale, Ha ha, Dsr dsr, AccessLogConfig accessLog) {
        this(name, admin, listeners, pools, alerts, autoscale, ha, dsr, accessLog, null);
    }

    /** A config without an access log, as code that builds one by hand (the demo, tests) wants it. */
    public FulcrumConfig(String name, Admin admin, List<Listener> listeners, List<PoolConfig> pools,
                         List<Alert> alerts, List<Autoscale> autoscale, Ha ha, Dsr dsr) {
        this(name, admin, listeners, pools, alerts, autoscale, ha, dsr, null);
    }

    public PoolConfig pool(String poolName) {
        return pools.stream().filter(p -> p.name().equals(poolName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no pool " + poolName));
    }

    /** {@code admin}: where the admin API listens and the token mutations need ("" = none). */
    /**
     * {@code admin}: where the admin API listens, the token mutations need ("" = none), and the
     * extra host names its {@code Host} header may carry (lower case; see {@code admin.allowed-hosts}).
     * {@link #toString()} never shows the token.
     */
    public record Admin(HostPort listen, String token, List<String> allowedHosts) {
        public static final Admin DEFAULT = new Admin(new HostPort("127.0.0.1", 9901), "", List.of());

        public Admin {
            allowedHosts = List.copyOf(allowedHosts);
        }

        /** Without extra host names, as code that builds an admin section by hand wants it. */
        public Admin(HostPort listen, String token) {
            this(listen, token, List.of());
        }

        @Override
        public String toString() {
            return "Admin[listen=" + listen + ", token=" + Redact.secret(token) + ", allowedHosts=" + allowedHosts + "]";
        }
    }

    public enum Protocol { HTTP, TCP }

    /** One {@code listeners[]} entry. {@code tls} is null when TLS is not terminated here. */
    /**
     * One {@code listeners[]} entry. {@code requestBodyTimeout} and {@code requestBodyMinRate}
     * (bytes per second, 0 = no rate) bound how slowly a client may send a request body.
     * {@code pool} is null for an http listener written with {@code routes}; {@code routes} are an
     * http listener's, in order (one route for everything when written with {@code pool}), none
     * for tcp. Routes are part of the entry: a reload that changes them replaces the listener.
     */
    public record Listener(String name, HostPort listen, Protocol protocol, String pool, Tls tls,
                           int maxConnections, Duration idleTimeout, Duration requestHeaderTimeout,
                           int maxHeaderBytes, Duration requestBodyTimeout, long requestBodyMinRate,
                           List<RouteConfig> routes, Http2 http2) {

        public static final Duration DEFAULT_REQUEST_BODY_TIMEOUT = Duration.ofSeconds(30);
        public static final long DEFAULT_REQUEST_BODY_MIN_RATE = 500;

        public Listener {
            routes = List.copyOf(routes);
            if (http2 == null) {
                http2 = Http2.defaultFor(protocol, tls);
            }
        }

        /** A listener with {@code http2} at its default: on with TLS, off without. */
        public Listener(String name, HostPort listen, Protocol protocol, String pool, Tls tls, int maxConnections,
                        Duration idleTimeout, Duration requestHeaderTimeout, int maxHeaderBytes,
                        Duration requestBodyTimeout, long requestBodyMinRate, List<RouteConfig> routes) {
            this(name, listen, protocol, pool, tls, maxConnections, idleTimeout, requestHeaderTimeout, maxHeaderBytes,
                    requestBodyTimeout, requestBodyMinRate, routes, null);
        }

        /** This listener with {@code http2} as given (tests). */
        public Listener withHttp2(Http2 next) {
            return new Listener(name, listen, protocol, pool, tls, maxConnections, idleTimeout, requestHeaderTimeout,
                    maxHeaderBytes, requestBodyTimeout, requestBodyMinRate, routes, next);
        }

        /**
         * True when {@code other} is this listener with other routes (and the {@code pool} they
         * come from) only: what a running listener can take without a new socket.
         */
        public boolean differsOnlyInRoutes(Listener other) {
            return new Listener(name, listen, protocol, other.pool, tls, maxConnections, idleTimeout,
                    requestHeaderTimeout, maxHeaderBytes, requestBodyTimeout, requestBodyMinRate, other.routes, http2)
                    .equals(other);
        }

        /** A listener sending everything to {@code pool}: over http, through its one route {@code NAME#1}. */
        public Listener(String name, HostPort listen, Protocol protocol, String pool, Tls tls, int maxConnections,
                        Duration idleTimeout, Duration requestHeaderTimeout, int maxHeaderBytes,
                        Duration requestBodyTimeout, long requestBodyMinRate) {
            this(name, listen, protocol, pool, tls, maxConnections, idleTimeout, requestHeaderTimeout, maxHeaderBytes,
                    requestBodyTimeout, requestBodyMinRate,
                    protocol == Protocol.HTTP ? List.of(RouteConfig.everything(name, pool)) : List.of());
        }

        /** A listener with the default body timeout and rate. */
        public Listener(String name, HostPort listen, Protocol protocol, String pool, Tls tls, int maxConnections,
                        Duration idleTimeout, Duration requestHeaderTimeout, int maxHeaderBytes) {
            this(name, listen, protocol, pool, tls, maxConnections, idleTimeout, requestHeaderTimeout, maxHeaderBytes,
                    DEFAULT_REQUEST_BODY_TIMEOUT, DEFAULT_REQUEST_BODY_MIN_RATE);
        }
    }

    /**
     * {@code listeners[].http2}: whether an {@code http} listener accepts HTTP/2 (by ALPN {@code h2}
     * with TLS, by the connection preface without: prior knowledge), and how many streams one client
     * connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
     */
    public record Http2(boolean enabled, int maxConcurrentStreams) {
        public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;
        public static final Http2 OFF = new Http2(false, DEFAULT_MAX_CONCURRENT_STREAMS);
        public static final Http2 ON = new Http2(true, DEFAULT_MAX_CONCURRENT_STREAMS);

        /** On for an http listener with TLS, off otherwise (plain text HTTP/2 is for clients that ask for it). */
        public static Http2 defaultFor(Protocol protocol, Tls tls) {
            return protocol == Protocol.HTTP && tls != null ? ON : OFF;
        }
    }

    /**
     * {@code listeners[].tls}: at least one certificate, the first the default for a client whose SNI
     * no certificate covers (or refused then, with {@code sniStrict}); {@code clientCa} null when
     * clients need no certificate.
     */
    public record Tls(List<Certificate> certificates, TlsVersion minVersion, Path clientCa, boolean sniStrict) {
        /** The largest PEM file (certificate chain or key) read; a long chain is a few KiB. */
        public static final int MAX_PEM_BYTES = dev.fulcrum.server.io.BoundedFile.ONE_MIB;

        public Tls {
            certificates = List.copyOf(certificates);
        }

        /** The short form {@code cert:} + {@code key:}, with the defaults. */
        public Tls(Path cert, Path key) {
            this(List.of(new Certificate(cert, key)), TlsVersion.TLS_V1_2, null, false);
        }
    }

    /** One {@code tls.certificates[]} entry: a PEM chain (leaf first) and its PKCS#8 PEM key. */
    public record Certificate(Path cert, Path key) {
    }

    /** {@code tls.min-version}: the lowest protocol a listener accepts; nothing below TLS 1.2 exists here. */
    public enum TlsVersion {
        TLS_V1_2("TLSv1.2"), TLS_V1_3("TLSv1.3");

        private final String protocol;

        TlsVersion(String protocol) {
            this.protocol = protocol;
        }

        /** The JSSE / Netty protocol name, which is also the config spelling. */
        public String protocol() {
            return protocol;
        }
    }

    /**
     * One {@code pools[]} entry. {@code tls} is null when the servers are spoken to in plain text;
     * {@code maxRequestsPerConnection} 0 = a server connection is reused without limit.
     */
    public record PoolConfig(String name, Algorithm algorithm, HashKey hashKey, String stickyCookie,
                             List<ServerEntry> servers, Duration connectTimeout, Duration responseTimeout,
                             int retries, Duration slowStart, Duration drainTimeout,
                             int maxConnectionsPerServer, HealthCheck healthCheck,
                             OutlierDetection outlierDetection, UpstreamProtocol protocol, ServerTls tls,
                             int maxRequestsPerConnection) {
        public PoolConfig {
            servers = List.copyOf(servers);
        }

        /** A plain-text pool whose server connections are reused without limit, as code that builds one by hand wants it. */
        public PoolConfig(String name, Algorithm algorithm, HashKey hashKey, String stickyCookie,
                          List<ServerEntry> servers, Duration connectTimeout, Duration responseTimeout,
                          int retries, Duration slowStart, Duration drainTimeout,
                          int maxConnectionsPerServer, HealthCheck healthCheck,
                          OutlierDetection outlierDetection, UpstreamProtocol protocol) {
            this(name, algorithm, hashKey, stickyCookie, servers, connectTimeout, responseTimeout, retries,
                    slowStart, drainTimeout, maxConnectionsPerServer, healthCheck, outlierDetection, protocol, null, 0);
        }

        /** A pool that speaks HTTP/1.1 to its servers (the default {@code protocol}), in plain text. */
        public PoolConfig(String name, Algorithm algorithm, HashKey hashKey, String stickyCookie,
                          List<ServerEntry> servers, Duration connectTimeout, Duration responseTimeout,
                          int retries, Duration slowStart, Duration drainTimeout,
                          int maxConnectionsPerServer, HealthCheck healthCheck,
                          OutlierDetection outlierDetection) {
            this(name, algorithm, hashKey, stickyCookie, servers, connectTimeout, responseTimeout, retries,
                    slowStart, drainTimeout, maxConnectionsPerServer, healthCheck, outlierDetection,
                    UpstreamProtocol.HTTP_1_1);
        }
    }

    /**
     * {@code pools[].protocol}: what Fulcrum speaks to the pool's servers. {@code h2c} is HTTP/2
     * over plain TCP by prior knowledge; {@code h2} is HTTP/2 over TLS, agreed by ALPN ({@code h2}
     * only, no HTTP/1.1 fallback): its pool always has a {@code tls} ({@link ServerTls#DEFAULT} when
     * the file has none).
     */
    public enum UpstreamProtocol {
        HTTP_1_1("http/1.1"), H2C("h2c"), H2("h2");

        private final String configName;

        UpstreamProtocol(String configName) {
            this.configName = configName;
        }

        /** As written in the config file. */
        public String configName() {
            return configName;
        }

        /** True for the HTTP/2 protocols: requests go on streams of multiplexed connections. */
        public boolean multiplexed() {
            return this != HTTP_1_1;
        }
    }

    /**
     * {@code pools[].tls}: TLS from Fulcrum to the servers. {@code ca} null = the system's trust
     * store; {@code serverName} "" = each server's host (SNI, and the name verified); {@code cert}
     * and {@code key} both null = no client certificate; {@code verify} false = any certificate is
     * accepted (logged as a warning at load).
     */
    public record ServerTls(Path ca, String serverName, Path cert, Path key, boolean verify) {
        /** Verified against the system's trust store, by each server's host, without a client certificate. */
        public static final ServerTls DEFAULT = new ServerTls(null, "", null, null, true);
    }

    /** {@code pools[].servers[]}: weight 0..256, 0 = no new traffic. */
    public record ServerEntry(HostPort address, int weight) {
    }

    public enum CheckType { HTTP, TCP, NONE }

    /**
     * {@code health-check}. {@code expectStatus} is the inclusive range {@code [expectStatusLow,
     * expectStatusHigh]}; {@code jitter} is a fraction (0.1 for {@code 10%}); {@code host} "" means
     * the server address.
     */
    public record HealthCheck(CheckType type, String path, String host, int expectStatusLow,
                              int expectStatusHigh, Duration interval, Duration timeout, int rise, int fall,
                              double jitter) {
        public static final HealthCheck DEFAULT = new HealthCheck(CheckType.HTTP, "/health", "", 200, 399,
                Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, 0.10);
    }

    /** {@code outlier-detection}. */
    public record OutlierDetection(int consecutiveGatewayFailures, int consecutive5xx, Duration baseEjection,
                                   int maxEjectionPercent) {
        public static final OutlierDetection DEFAULT = new OutlierDetection(3, 5, Duration.ofSeconds(30), 50);
    }

    public enum AlertType { LOG, WEBHOOK }

    /**
     * One {@code alerts[]} entry; {@code url} is null for {@code log}. {@link #toString()} hides
     * the password of the URL's userinfo.
     */
    public record Alert(AlertType type, URI url, Duration timeout) {
        @Override
        public String toString() {
            return "Alert[type=" + type + ", url=" + (url == null ? null : Redact.urls(url.toString()))
                    + ", timeout=" + timeout + "]";
        }
    }

    /** One {@code autoscale[]} entry. */
    public record Autoscale(String pool, Metric metric, double scaleOutAbove, double scaleInBelow, Duration window,
                            Duration cooldown, int minServers, int maxServers, Provisioner provisioner) {
    }

    /** {@code autoscale[].metric}: gauge {@code name} scraped at {@code path}, divided by {@code scale}. */
    public record Metric(String path, String name, double scale, Duration interval) {
    }

    public enum ProvisionerType { PROCESS, EXEC }

    /**
     * {@code autoscale[].provisioner}. For {@code process}: {@code command} with {@code {port}} and
     * the port range; for {@code exec}: the {@code scale-out} and {@code scale-in} commands.
     */
    public record Provisioner(ProvisionerType type, List<String> command, int portLow, int portHigh,
                              List<String> scaleOut, List<String> scaleIn) {
        public Provisioner {
            command = List.copyOf(command);
            scaleOut = List.copyOf(scaleOut);
            scaleIn = List.copyOf(scaleIn);
        }
    }

    /** {@code ha}: VRRPv3. {@code notify} ("" = none) is {@code notifyCommand}. */
    public record Ha(String networkInterface, int virtualRouterId, int priority, Duration advertInterval,
                     boolean preempt, List<String> virtualIps, List<String> unicastPeers, String notifyCommand) {
        public Ha {
            virtualIps = List.copyOf(virtualIps);
            unicastPeers = List.copyOf(unicastPeers);
        }
    }

    /**
     * {@code dsr}: Direct Server Return for {@code virtualIp} on {@code ports}, servers of
     * {@code pool}; {@code answerArp}: this instance answers ARP for the virtual IP (instead of a
     * route to it); {@code tableGrace}: in a cluster, how long after a change of the shared table the
     * previous one still serves flows the router moved here (0: not at all).
     */
    public record Dsr(String networkInterface, String virtualIp, List<Integer> ports, String pool, boolean answerArp,
                      Duration tableGrace) {

        /** Long enough for a router to move flows after a change (ECMP reconvergence), short of idle expiry. */
        public static final Duration DEFAULT_TABLE_GRACE = Duration.ofSeconds(30);
        /** A flow idle longer than this is forgotten anyway (TCP idle expiry). */
        public static final Duration MAX_TABLE_GRACE = Duration.ofMinutes(15);

        public Dsr {
            ports = List.copyOf(ports);
        }
    }

    /**
     * {@code cluster} (spec cluster.md): the etcd members to talk to, the key prefix, this node's
     * name, the lease that keeps it in the member list, where the last applied state is kept, and
     * TLS to etcd ({@code tls} null for plain http). {@code listens}: the node file's listeners
     * written with only {@code name} and {@code listen}, which bind a shared listener elsewhere on
     * this node (listener name -> address), in file order.
     */
    public record Cluster(List<URI> etcd, String prefix, String node, Duration leaseTtl, Path stateDir,
                          EtcdTls tls, java.util.Map<String, HostPort> listens) {
        public Cluster {
            etcd = List.copyOf(etcd);
            listens = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(listens));
        }
    }

    /** {@code cluster.tls}: the CA that signs etcd's certificate; a client certificate and key, both or neither (null). */
    public record EtcdTls(Path ca, Path cert, Path key) {
    }
}
