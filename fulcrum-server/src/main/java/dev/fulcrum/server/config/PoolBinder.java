package dev.fulcrum.server.config;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.text.Durations;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Binds {@code pools[]}: each pool with its servers, health check and outlier detection, every
 * absent key at its config.md default. Pool names must be unique, and so must server addresses
 * within a pool. Confined to one thread, used for one load.
 */
final class PoolBinder {

    static final List<String> POOL_KEYS = List.of("name", "algorithm", "hash-key", "sticky-cookie", "servers",
            "connect-timeout", "response-timeout", "retries", "slow-start", "drain-timeout",
            "max-connections-per-server", "health-check", "outlier-detection", "protocol", "tls",
            "max-requests-per-connection");
    static final List<String> SERVER_KEYS = List.of("address", "weight");
    static final List<String> HEALTH_CHECK_KEYS = List.of("type", "path", "host", "expect-status", "interval",
            "timeout", "rise", "fall", "jitter");
    static final List<String> TLS_KEYS = List.of("ca", "server-name", "cert", "key", "verify");
    static final List<String> OUTLIER_KEYS = List.of("consecutive-gateway-failures", "consecutive-5xx",
            "base-ejection", "max-ejection-percent");

    static final int MAX_RETRIES = 10;

    private final FirstSeen<String> names = new FirstSeen<>("pool name");

    /** The valid pool names seen, in file order, for checking {@code pool:} references. */
    FirstSeen<String> names() {
        return names;
    }

    List<PoolConfig> pools(Section root) {
        List<PoolConfig> pools = new ArrayList<>();
        root.eachItem("pools", POOL_KEYS, (pool, i) -> pools.add(pool(pool)));
        return pools;
    }

    private PoolConfig pool(Section s) {
        String name = s.require("name", ConfigValues::name);
        names.add(name, s, "name");
        Algorithm algorithm = s.get("algorithm", Algorithm.ROUND_ROBIN, text -> Algorithm.fromConfigName(text)
                .orElseThrow(() -> new IllegalArgumentException("unknown value " + ConfigValues.quote(text)
                        + "; expected one of " + Algorithm.configNames())));
        HashKey hashKey = s.get("hash-key", HashKey.SOURCE_IP, HashKey::parse);
        String stickyCookie = s.get("sticky-cookie", "", ConfigValues::cookieName);
        List<ServerEntry> servers = servers(s);
        Duration connectTimeout = s.get("connect-timeout", Duration.ofSeconds(2), ConfigValues::positiveDuration);
        Duration responseTimeout = s.get("response-timeout", Duration.ofSeconds(30), ConfigValues::positiveDuration);
        int retries = s.integer("retries", 2, 0, MAX_RETRIES);
        Duration slowStart = s.get("slow-start", Duration.ZERO, ConfigValues::duration);
        Duration drainTimeout = s.get("drain-timeout", Duration.ofSeconds(30), ConfigValues::duration);
        int maxPerServer = s.integer("max-connections-per-server", 0, 0, Integer.MAX_VALUE);
        UpstreamProtocol protocol = s.get("protocol", UpstreamProtocol.HTTP_1_1, PoolBinder::protocol);
        Section check = s.section("health-check", HEALTH_CHECK_KEYS);
        HealthCheck healthCheck = check == null ? HealthCheck.DEFAULT : healthCheck(check);
        Section outlier = s.section("outlier-detection", OUTLIER_KEYS);
        OutlierDetection outlierDetection = outlier == null ? OutlierDetection.DEFAULT : outlierDetection(outlier);
        Section tlsSection = s.section("tls", TLS_KEYS);
        ServerTls tls = tlsSection == null ? null : serverTls(tlsSection);
        if (tls != null && protocol == UpstreamProtocol.H2C) {
            // h2c is plain text by definition: its connections would ignore the tls section
            s.error("protocol", "pool " + name + ": h2c is HTTP/2 in plain text, but the pool has tls;"
                    + " use h2 for HTTP/2 over TLS");
        }
        if (tls == null && protocol == UpstreamProtocol.H2) {
            // h2 is HTTP/2 over TLS by definition (there is no plain-text h2): without a tls section it
            // is TLS as an HTTPS client does it, verified by the system's trust store and each server's host
            tls = ServerTls.DEFAULT;
        }
        int maxRequests = s.integer("max-requests-per-connection", 0, 0, Integer.MAX_VALUE);
        return new PoolConfig(name, algorithm, hashKey, stickyCookie, servers, connectTimeout, responseTimeout,
                retries, slowStart, drainTimeout, maxPerServer, healthCheck, outlierDetection, protocol, tls,
                maxRequests);
    }

    /** {@code http/1.1 | h2 | h2c}. */
    private static UpstreamProtocol protocol(String text) {
        for (UpstreamProtocol p : UpstreamProtocol.values()) {
            if (p.configName().equals(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown value " + ConfigValues.quote(text)
                + "; expected one of http/1.1, h2c, h2");
    }

    /**
     * {@code tls} to the servers. Its files are read now, so that a missing file, a bundle without
     * a certificate or a key that is not its certificate's fails {@code validate} at its line,
     * not the first connection.
     */
    private static ServerTls serverTls(Section s) {
        ServerTls d = ServerTls.DEFAULT;
        Path ca = s.get("ca", d.ca(), text -> text.isEmpty() ? null : caBundle(text));
        String serverName = s.get("server-name", d.serverName(),
                text -> text.isEmpty() ? text : ConfigValues.hostName(text));
        Path cert = s.get("cert", d.cert(), text -> text.isEmpty() ? null : ConfigValues.readableFile(text));
        Path key = s.get("key", d.key(), text -> text.isEmpty() ? null : ConfigValues.readableFile(text));
        boolean verify = s.get("verify", d.verify(), ConfigValues::bool);
        if ((cert == null) != (key == null)) {
            // only when the other one was not given at all: a given one that failed is reported already
            String missing = cert == null ? "cert" : "key";
            if (!s.has(missing)) {
                s.error(missing, "a client certificate needs both cert and key; " + missing + " is missing");
            }
            return new ServerTls(ca, serverName, null, null, verify);
        }
        if (cert != null) {
            CertificateFiles.problem(cert, key).ifPresent(problem -> s.error("key", problem));
        }
        return new ServerTls(ca, serverName, cert, key, verify);
    }

    private static Path caBundle(String text) {
        Path file = ConfigValues.readableFile(text);
        CertificateFiles.caProblem(file).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        return file;
    }

    /** An empty or absent list is valid: servers may come later through the admin API or the auto-scaler. */
    private static List<ServerEntry> servers(Section pool) {
        List<ServerEntry> servers = new ArrayList<>();
        FirstSeen<HostPort> addresses = new FirstSeen<>("server address");
        pool.eachItem("servers", SERVER_KEYS, (s, i) -> {
            HostPort address = s.require("address", HostPort::parse);
            addresses.add(address, s, "address");
            int weight = s.integer("weight", 1, 0, Server.MAX_WEIGHT);
            if (address != null) {
                servers.add(new ServerEntry(address, weight));
            }
        });
        return servers;
    }

    private static HealthCheck healthCheck(Section s) {
        HealthCheck d = HealthCheck.DEFAULT;
        CheckType type = s.get("type", d.type(), text -> ConfigValues.choice(text, CheckType.values()));
        if (type == CheckType.TCP) {
            // A tcp check only connects; these would be silently ignored, which config.md forbids.
            for (String httpOnly : List.of("path", "host", "expect-status")) {
                s.notAllowed(httpOnly, "for type tcp (only for type http)");
            }
        }
        String path = s.get("path", d.path(), ConfigValues::urlPath);
        String host = s.get("host", d.host(), ConfigValues::hostHeader);
        int[] status = s.get("expect-status", new int[] {d.expectStatusLow(), d.expectStatusHigh()},
                ConfigValues::statusRange);
        Duration interval = s.get("interval", d.interval(), ConfigValues::positiveDuration);
        Duration timeout = s.get("timeout", d.timeout(), ConfigValues::positiveDuration);
        if (timeout.compareTo(interval) >= 0) {
            // Point at whichever of the two the operator wrote; timeout when both.
            s.error(s.has("timeout") || !s.has("interval") ? "timeout" : "interval",
                    "timeout " + Durations.format(timeout) + " must be less than interval "
                            + Durations.format(interval));
        }
        int rise = s.integer("rise", d.rise(), 1, Integer.MAX_VALUE);
        int fall = s.integer("fall", d.fall(), 1, Integer.MAX_VALUE);
        double jitter = s.get("jitter", d.jitter(), ConfigValues::percent);
        return new HealthCheck(type, path, host, status[0], status[1], interval, timeout, rise, fall, jitter);
    }

    private static OutlierDetection outlierDetection(Section s) {
        OutlierDetection d = OutlierDetection.DEFAULT;
        int gatewayFailures = s.integer("consecutive-gateway-failures", d.consecutiveGatewayFailures(), 1,
                Integer.MAX_VALUE);
        int fiveHundreds = s.integer("consecutive-5xx", d.consecutive5xx(), 1, Integer.MAX_VALUE);
        Duration baseEjection = s.get("base-ejection", d.baseEjection(), ConfigValues::positiveDuration);
        // "50" as in config.md, and "50%" since that is what it means.
        int maxPercent = s.get("max-ejection-percent", d.maxEjectionPercent(),
                text -> ConfigValues.integer(text.endsWith("%") ? text.substring(0, text.length() - 1) : text, 0, 100));
        return new OutlierDetection(gatewayFailures, fiveHundreds, baseEjection, maxPercent);
    }
}
