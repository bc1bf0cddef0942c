package dev.fulcrum.server.registry;

import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;

/**
 * A running pool: the core {@link Pool} (servers and snapshots) plus its settings from the config
 * (timeouts, retries, health check...). The data plane holds a {@code PoolRuntime} and reads
 * {@link #view()} once per request: the snapshot and the settings together, with one volatile
 * read, so a request never sees a reload's new settings with the old servers or the reverse.
 * Every new snapshot and every settings change publishes a new view (on the control thread).
 */
public final class PoolRuntime {

    /** The servers in rotation and the settings, as one request uses them. */
    public record View(PoolSnapshot snapshot, PoolConfig settings) {
    }

    private final Pool pool;
    /** Written under the pool's lock only (a publish, a settings change), so neither half is lost. */
    private volatile View view;
    /** Addresses the config file lists (the rest came through the API or the auto-scaler). */
    private final java.util.Set<String> fromConfig = java.util.concurrent.ConcurrentHashMap.newKeySet();

    PoolRuntime(Pool pool, PoolConfig settings) {
        this.pool = pool;
        this.view = new View(pool.snapshot(), settings);
        pool.onPublish(snapshot -> view = new View(snapshot, view.settings()));
    }

    /** The snapshot and the settings for one request: one volatile read. */
    public View view() {
        return view;
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

    /**
     * Timeouts, retries, health check and the rest of the pool's config; a volatile read. Its
     * {@code servers} are the file's at the last load or settings change, not the pool's: those are
     * {@link #pool()}'s (a reload that changes only servers keeps these settings).
     */
    public PoolConfig settings() {
        return view.settings();
    }

    void setSettings(PoolConfig settings) {
        synchronized (pool) { // against a snapshot being published meanwhile: the view pairs the latest of both
            view = new View(pool.snapshot(), settings);
        }
    }

    java.util.Set<String> fromConfig() {
        return fromConfig;
    }
}
