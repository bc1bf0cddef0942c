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
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;

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
            "max-connections-per-server", "health-check", "outlier-detection", "protocol");
    static final List<String> SERVER_KEYS = List.of("address", "weight");
    static final List<String> HEALTH_CHECK_KEYS = List.of("type", "path", "host", "expect-status", "interval",
            "timeout", "rise", "fall", "jitter");
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
        return new PoolConfig(name, algorithm, hashKey, stickyCookie, servers, connectTimeout, responseTimeout,
                retries, slowStart, drainTimeout, maxPerServer, healthCheck, outlierDetection, protocol);
    }

    /** {@code http/1.1 | h2c}; {@code h2} needs TLS to the servers, which pools do not have yet. */
    private static UpstreamProtocol protocol(String text) {
        for (UpstreamProtocol p : UpstreamProtocol.values()) {
            if (p.configName().equals(text)) {
                if (p == UpstreamProtocol.H2) {
                    throw new IllegalArgumentException("h2 (HTTP/2 over TLS) to servers is not supported yet;"
                            + " use h2c (HTTP/2 over plain TCP) or http/1.1");
                }
                return p;
            }
        }
        throw new IllegalArgumentException("unknown value " + ConfigValues.quote(text)
                + "; expected one of http/1.1, h2c, h2");
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
