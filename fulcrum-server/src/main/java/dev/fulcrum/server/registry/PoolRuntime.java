package dev.fulcrum.server.registry;

import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;

/**
 * A running pool: the core {@link Pool} (servers and snapshots) plus its settings from the config
 * (timeouts, retries, health check...). The data plane holds a {@code PoolRuntime} and reads
 * {@link #snapshot()} and {@link #settings()} once per request; a reload swaps the settings with
 * one volatile write.
 */
public final class PoolRuntime {

    private final Pool pool;
    private volatile PoolConfig settings;
    /** Addresses the config file lists (the rest came through the API or the auto-scaler). */
    private final java.util.Set<String> fromConfig = java.util.concurrent.ConcurrentHashMap.newKeySet();

    PoolRuntime(Pool pool, PoolConfig settings) {
        this.pool = pool;
        this.settings = settings;
    }

    public String name() {
        return pool.name();
    }

    public Pool pool() {
        return pool;
    }

    /** The current snapshot (servers in rotation + balancer); a volatile read. */
    public PoolSnapshot snapshot() {
        return pool.snapshot();
    }

    /** Timeouts, retries, health check and the rest of the pool's config; a volatile read. */
    public PoolConfig settings() {
        return settings;
    }

    void setSettings(PoolConfig settings) {
        this.settings = settings;
    }

    java.util.Set<String> fromConfig() {
        return fromConfig;
    }
}
