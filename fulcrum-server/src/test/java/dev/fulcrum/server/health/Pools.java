package dev.fulcrum.server.health;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;

import java.time.Duration;
import java.util.Arrays;

/** Pool configs for tests: round-robin, the given checks, the rest at defaults. */
final class Pools {

    private Pools() {
    }

    static HealthCheck check(CheckType type, long intervalMs, long timeoutMs, int rise, int fall) {
        return new HealthCheck(type, "/health", "", 200, 399, Duration.ofMillis(intervalMs),
                Duration.ofMillis(timeoutMs), rise, fall, 0.10);
    }

    static PoolConfig pool(String name, HealthCheck check, OutlierDetection outliers, Duration slowStart,
                           HostPort... servers) {
        return new PoolConfig(name, Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                Arrays.stream(servers).map(a -> new ServerEntry(a, 1)).toList(),
                Duration.ofSeconds(2), Duration.ofSeconds(30), 2, slowStart, Duration.ofSeconds(30), 0,
                check, outliers);
    }

    static PoolConfig pool(String name, HealthCheck check, HostPort... servers) {
        return pool(name, check, null, Duration.ZERO, servers);
    }
}
