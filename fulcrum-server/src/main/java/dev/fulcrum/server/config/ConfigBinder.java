package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.config.FulcrumConfig.Admin;
import dev.fulcrum.server.config.FulcrumConfig.Alert;
import dev.fulcrum.server.config.FulcrumConfig.AlertType;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.config.FulcrumConfig.Dsr;
import dev.fulcrum.server.config.FulcrumConfig.Ha;
import dev.fulcrum.server.config.FulcrumConfig.Http2;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.Certificate;
import dev.fulcrum.server.config.FulcrumConfig.Tls;
import dev.fulcrum.server.config.FulcrumConfig.TlsVersion;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Binds the root of a composed YAML document to a {@link FulcrumConfig}: the top-level keys,
 * admin, listeners, alerts, ha and dsr here; a listener's routes, pools, autoscale and access-log
 * through {@link RouteBinder}, {@link PoolBinder}, {@link AutoscaleBinder} and {@link AccessLogBinder};
 * then the {@code pool:} references. Every mistake goes to the
 * {@link ConfigSource}; the result is meaningful only when it has none. Confined to one thread,
 * used for one load.
 */
final class ConfigBinder {

    static final List<String> ROOT_KEYS = List.of("name", "admin", "listeners", "pools", "alerts", "autoscale",
            "ha", "dsr", "access-log", "cluster");
    static final List<String> ADMIN_KEYS = List.of("listen", "token", "allowed-hosts");
    static final List<String> LISTENER_KEYS = List.of("name", "listen", "protocol", "pool", "routes", "tls",
            "max-connections", "idle-timeout", "request-header-timeout", "max-header-bytes", "request-body-timeout",
            "request-body-min-rate", "http2");
    static final List<String> HTTP2_KEYS = List.of("enabled", "max-concurrent-streams");
    /** RFC 9113 §6.5.2 advises at least 100; more than a few thousand open streams per client is a flood. */
    static final int MAX_CONCURRENT_STREAMS = 10_000;
    static final List<String> TLS_KEYS = List.of("certificates", "cert", "key", "min-version", "client-ca",
            "sni-strict");
    static final List<String> CERTIFICATE_KEYS = List.of("cert", "key");
    static final List<String> ALERT_KEYS = List.of("type", "url", "timeout");
    static final List<String> HA_KEYS = List.of("interface", "virtual-router-id", "priority", "advert-interval",
            "preempt", "virtual-ips", "unicast-peers", "notify");
    static final List<String> DSR_KEYS = List.of("interface", "virtual-ip", "ports", "pool", "answer-arp", "table-grace");

    /** VRRPv3 counts the advertisement interval in centiseconds in 12 bits (RFC 5798 5.2.7). */
    static final Duration MIN_ADVERT = Duration.ofMillis(10);
    static final Duration MAX_ADVERT = Duration.ofMillis(40_950);

    /** Linux interface names: at most 15 bytes, no '/' or blanks. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.:@-]{1,15}");

    private final ConfigSource source;
    private final PoolReferences poolRefs = new PoolReferences();
    private final RouteBinder routeBinder = new RouteBinder(poolRefs);

    ConfigBinder(ConfigSource source) {
        this.source = source;
    }

    /** The bound config; when {@link ConfigSource#hasErrors()} afterwards, a partial one (or null) to ignore. */
    FulcrumConfig bind(Node root) {
        Section s = Section.open(root, "", source, ROOT_KEYS);
        if (s == null) {
            return null;
        }
        String name = s.get("name", null, ConfigBinder::instanceName);
        Section adminSection = s.section("admin", ADMIN_KEYS);
        Admin admin = adminSection == null ? Admin.DEFAULT : admin(adminSection);
        boolean inCluster = s.has("cluster");
        java.util.Map<String, HostPort> listens = new java.util.LinkedHashMap<>();
        List<Listener> listeners = listeners(s, admin, inCluster ? listens : null);
        PoolBinder poolBinder = new PoolBinder();
        List<PoolConfig> pools = poolBinder.pools(s);
        List<Alert> alerts = alerts(s);
        List<Autoscale> autoscale = new AutoscaleBinder().autoscale(s, poolRefs);
        Section haSection = s.section("ha", HA_KEYS);
        Ha ha = haSection == null ? null : ha(haSection);
        Section dsrSection = s.section("dsr", DSR_KEYS);
        // a cluster node's file names a shared pool, which comes from etcd: the node's composed
        // document (which always has the shared pools) checks the name
        boolean dsrPoolFromEtcd = inCluster && !s.has("pools");
        Dsr dsr = dsrSection == null ? null : dsr(dsrSection, dsrPoolFromEtcd);
        AccessLogConfig accessLog = AccessLogBinder.bind(s);
        Section clusterSection = s.section("cluster", ClusterBinder.KEYS);
        String instance = name == null ? hostName() : name;
        FulcrumConfig.Cluster cluster = clusterSection == null ? null
                : ClusterBinder.bind(clusterSection, instance, listens);
        poolRefs.check(poolBinder.names());
        poolRefs.checkPlainText(pools);
        if (dsr != null) {
            dsrServersAreIpv4(dsrSection, dsr.pool(), pools);
        }
        if (source.hasErrors()) {
            return null;
        }
        return new FulcrumConfig(instance, admin, listeners, pools, alerts, autoscale, ha, dsr, accessLog, cluster);
    }

    /** This machine's host name, the default instance {@code name}. */
    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            // No resolvable name: the kernel's host name is still what the operator calls the box.
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "fulcrum" : env;
        }
    }

    private static Admin admin(Section s) {
        HostPort listen = s.get("listen", Admin.DEFAULT.listen(), HostPort::parse);
        String token = s.get("token", Admin.DEFAULT.token(), ConfigBinder::token);
        List<String> allowedHosts = s.values("allowed-hosts", Admin.DEFAULT.allowedHosts(), ConfigValues::hostName);
        return new Admin(listen, token, allowedHosts);
    }

    /**
     * @param listens null outside a cluster; in one, where a listener written with only {@code name}
     *                and {@code listen} goes (it binds a shared listener from etcd elsewhere on this node)
     */
    private List<Listener> listeners(Section root, Admin admin, java.util.Map<String, HostPort> listens) {
        List<Listener> out = new ArrayList<>();
        FirstSeen<String> names = new FirstSeen<>("listener name");
        FirstSeen<HostPort> addresses = new FirstSeen<>("listen address");
        if ((!root.has("listeners") || root.isEmptyList("listeners")) && !root.has("dsr") && listens == null) {
            // in a cluster the listeners come from etcd
            // an instance that only forwards DSR packets needs no listener
            root.error("listeners", "at least one listener is required (or a dsr section)");
        }
        List<Node> items = root.list("listeners");
        for (int i = 0; i < items.size(); i++) {
            Section s = root.item("listeners", items, i, LISTENER_KEYS);
            if (s == null) {
                continue;
            }
            String name = s.require("name", ConfigValues::name);
            names.add(name, s, "name");
            HostPort listen = s.require("listen", HostPort::parse);
            addresses.add(listen, s, "listen");
            if (admin.listen().equals(listen)) {
                s.error("listen", "address " + listen + " is the admin API's (admin.listen)");
            }
            if (listens != null && s.keys().size() == 2 && name != null && listen != null) {
                listens.put(name, listen); // only the address: the rest of the listener is etcd's
                continue;
            }
            Protocol protocol = s.get("protocol", Protocol.HTTP, text -> ConfigValues.choice(text, Protocol.values()));
            String pool = s.get("pool", null, ConfigValues::name);
            poolRefs.add(pool, s, "pool");
            if (protocol == Protocol.TCP) {
                poolRefs.addPlainText(pool, s, "pool", "tcp listeners relay bytes and do not originate TLS; use an"
                        + " http listener, or let the servers speak TLS to the clients through a pool without tls");
            }
            List<RouteConfig> routes = routeBinder.routes(s, name, protocol, pool);
            Section tlsSection = s.section("tls", TLS_KEYS);
            Tls tls = tlsSection == null ? null : tls(tlsSection);
            int maxConnections = s.integer("max-connections", 100_000, 1, Integer.MAX_VALUE);
            Duration idleTimeout = s.get("idle-timeout", Duration.ofSeconds(60), ConfigValues::positiveDuration);
            Duration headerTimeout = s.get("request-header-timeout", Duration.ofSeconds(10),
                    ConfigValues::positiveDuration);
            int maxHeaderBytes = s.integer("max-header-bytes", 65_536, 1024, 1_048_576);
            Duration bodyTimeout = s.get("request-body-timeout", Listener.DEFAULT_REQUEST_BODY_TIMEOUT,
                    ConfigValues::positiveDuration);
            int bodyMinRate = s.integer("request-body-min-rate", (int) Listener.DEFAULT_REQUEST_BODY_MIN_RATE, 0,
                    1_000_000_000);
            Http2 http2 = http2(s, protocol, tls);
            out.add(new Listener(name, listen, protocol, pool, tls, maxConnections, idleTimeout, headerTimeout,
                    maxHeaderBytes, bodyTimeout, bodyMinRate, routes, http2));
        }
        return out;
    }

    /**
     * {@code http2: true|false} or {@code {enabled, max-concurrent-streams}}; default on with TLS.
     * Only an http listener speaks HTTP/2: on a tcp one the key is a mistake.
     */
    private static Http2 http2(Section s, Protocol protocol, Tls tls) {
        Http2 fallback = Http2.defaultFor(protocol, tls);
        if (!s.has("http2")) {
            return fallback;
        }
        if (protocol != Protocol.HTTP) {
            s.error("http2", "not allowed for protocol tcp (only for protocol http)");
            return fallback;
        }
        if (!(s.at("http2") instanceof MappingNode)) {
            return new Http2(s.get("http2", fallback.enabled(), ConfigValues::bool), fallback.maxConcurrentStreams());
        }
        Section h = s.section("http2", HTTP2_KEYS);
        boolean enabled = h.get("enabled", true, ConfigValues::bool);
        int streams = h.integer("max-concurrent-streams", Http2.DEFAULT_MAX_CONCURRENT_STREAMS, 1,
                MAX_CONCURRENT_STREAMS);
        return new Http2(enabled, streams);
    }

    /**
     * Checked now, so that a missing or unreadable file, or a key that is not its certificate's, fails
     * {@code validate} at its line, not the first handshake.
     */
    private static Tls tls(Section s) {
        List<Certificate> certificates = new ArrayList<>();
        if (s.has("certificates")) {
            if (s.has("cert") || s.has("key")) {
                s.error(s.has("cert") ? "cert" : "key",
                        "give either certificates: or the short form cert: + key:, not both");
            }
            if (s.isEmptyList("certificates")) {
                s.error("certificates", "at least one certificate is required");
            }
            s.eachItem("certificates", CERTIFICATE_KEYS, (item, i) -> certificate(item).ifPresent(certificates::add));
        } else {
            certificate(s).ifPresent(certificates::add);
        }
        TlsVersion minVersion = s.get("min-version", TlsVersion.TLS_V1_2, ConfigValues::tlsVersion);
        Path clientCa = s.get("client-ca", null, text -> text.isEmpty() ? null : clientCa(text));
        boolean sniStrict = s.get("sni-strict", false, ConfigValues::bool);
        return new Tls(certificates, minVersion, clientCa, sniStrict);
    }

    private static Path clientCa(String text) {
        Path file = ConfigValues.readableFile(text);
        CertificateFiles.caProblem(file).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        return file;
    }

    private static Optional<Certificate> certificate(Section s) {
        Path cert = s.require("cert", ConfigValues::readableFile);
        Path key = s.require("key", ConfigValues::readableFile);
        if (cert == null || key == null) {
            return Optional.empty();
        }
        Optional<String> problem = CertificateFiles.problem(cert, key);
        problem.ifPresent(p -> s.error("key", p));
        return problem.isPresent() ? Optional.empty() : Optional.of(new Certificate(cert, key));
    }

    private static List<Alert> alerts(Section root) {
        List<Alert> out = new ArrayList<>();
        List<Node> items = root.list("alerts");
        for (int i = 0; i < items.size(); i++) {
            Section s = root.item("alerts", items, i, ALERT_KEYS);
            if (s == null) {
                continue;
            }
            AlertType type = s.require("type", text -> ConfigValues.choice(text, AlertType.values()));
            URI url = null;
            if (type == AlertType.WEBHOOK) {
                url = s.require("url", ConfigValues::httpUrl);
            } else if (type == AlertType.LOG) {
                s.notAllowed("url", "for type log (only for type webhook)");
            }
            Duration timeout = s.get("timeout", Duration.ofSeconds(5), ConfigValues::positiveDuration);
            out.add(new Alert(type, url, timeout));
        }
        return out;
    }

    private static Ha ha(Section s) {
        String networkInterface = s.require("interface", ConfigBinder::interfaceName);
        Integer routerId = s.require("virtual-router-id", text -> ConfigValues.integer(text, 1, 255));
        int priority = s.integer("priority", 100, 1, 254);
        Duration advert = s.get("advert-interval", Duration.ofSeconds(1), ConfigBinder::advertInterval);
        boolean preempt = s.get("preempt", true, ConfigValues::bool);
        List<String> virtualIps = List.of();
        if (!s.has("virtual-ips")) {
            s.error("virtual-ips", "required key is missing");
        } else {
            virtualIps = s.values("virtual-ips", List.of(), ConfigValues::ipv4WithPrefix);
            if (s.isEmptyList("virtual-ips")) {
                s.error("virtual-ips", "at least one virtual IP is required, like [\"10.0.0.100/24\"]");
            }
        }
        List<String> peers = s.values("unicast-peers", List.of(), ConfigValues::ipv4);
        String notify = s.string("notify", "");
        return new Ha(networkInterface, routerId == null ? 0 : routerId, priority, advert, preempt, virtualIps,
                peers, notify);
    }

    private Dsr dsr(Section s, boolean poolFromEtcd) {
        String networkInterface = s.require("interface", ConfigBinder::interfaceName);
        String virtualIp = s.require("virtual-ip", ConfigValues::ipv4);
        List<Integer> ports = s.values("ports", List.of(80), ConfigValues::port);
        if (s.isEmptyList("ports")) {
            s.error("ports", "at least one port is required, like [80]");
        }
        String pool = s.require("pool", ConfigValues::name);
        if (!poolFromEtcd) {
            poolRefs.add(pool, s, "pool");
            poolRefs.addPlainText(pool, s, "pool", "dsr forwards packets to the servers as they come and does not"
                    + " originate TLS");
        }
        boolean answerArp = s.get("answer-arp", false, ConfigValues::bool);
        Duration tableGrace = s.get("table-grace", Dsr.DEFAULT_TABLE_GRACE, ConfigBinder::tableGrace);
        return new Dsr(networkInterface, virtualIp, ports, pool, answerArp, tableGrace);
    }

    private static Duration tableGrace(String text) {
        Duration d = ConfigValues.duration(text);
        if (d.compareTo(Dsr.MAX_TABLE_GRACE) > 0) {
            throw new IllegalArgumentException(text + " is out of range; expected 0s..15m (a flow idle longer"
                    + " is forgotten anyway)");
        }
        return d;
    }

    /**
     * DSR hands packets to its servers by their MAC, which it finds from their IPv4 address in the
     * neighbour table: its pool takes only IPv4 addresses (no names, no IPv6).
     */
    private static void dsrServersAreIpv4(Section dsr, String poolName, List<PoolConfig> pools) {
        for (PoolConfig pool : pools) {
            if (!pool.name().equals(poolName)) {
                continue;
            }
            for (FulcrumConfig.ServerEntry server : pool.servers()) {
                if (!server.address().isIpv4()) {
                    dsr.error("pool", "pool " + ConfigValues.quote(poolName) + " has server "
                            + ConfigValues.quote(server.address().toString()) + ", which is not an IPv4 address; "
                            + "DSR reaches its servers by IPv4 address and MAC on the local network");
                }
            }
        }
    }

    private static Duration advertInterval(String text) {
        Duration d = ConfigValues.duration(text);
        if (d.compareTo(MIN_ADVERT) < 0 || d.compareTo(MAX_ADVERT) > 0) {
            throw new IllegalArgumentException(text + " is out of range; expected 10ms..40950ms (40.95s)");
        }
        if (d.toMillis() % 10 != 0) {
            throw new IllegalArgumentException(text + " is not a multiple of 10ms (VRRP counts in centiseconds)");
        }
        return d;
    }

    private static String interfaceName(String text) {
        if (!INTERFACE.matcher(text).matches()) {
            throw new IllegalArgumentException("invalid interface name " + ConfigValues.quote(text)
                    + "; expected a network interface like eth0");
        }
        return text;
    }

    /** The instance's name goes into alert labels, log lines and the dashboard: one short line of text. */
    private static String instanceName(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("must not be empty");
        }
        if (!Escape.isSafe(text)) {
            throw new IllegalArgumentException(ConfigValues.quote(text) + " has a control character");
        }
        if (text.length() > 253) {
            throw new IllegalArgumentException("is " + text.length() + " characters long; at most 253");
        }
        return text;
    }

    /**
     * The token travels in an {@code Authorization} header: visible ASCII without spaces, or no
     * client could send it. Never echoed: a mistake says what is wrong, not the token.
     */
    private static String token(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("the token may only have visible ASCII characters, without spaces"
                        + " (character " + (i + 1) + " is not one)");
            }
        }
        return text;
    }
}
