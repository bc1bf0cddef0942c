package dev.fulcrum.server.registry;

import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.tls.PoolTls;

/**
 * A running pool: the core {@link Pool} (servers and snapshots) plus its settings from the config
 * (timeouts, retries, health check...). The data plane holds a {@code PoolRuntime} and reads
 * {@link #view()} once per request: the snapshot and the settings together, with one volatile
 * read, so a request never sees a reload's new settings with the old servers or the reverse.
 * Every new snapshot and every settings change publishes a new view (on the control thread).
 * The view carries the pool's loaded TLS to its servers too, so a connection is made with the TLS
 * of the settings it was chosen under.
 */
public final class PoolRuntime {

    /**
     * The servers in rotation and the settings, as one request uses them; {@code tls} is null when
     * the pool speaks plain text to its servers.
     */
    public record View(PoolSnapshot snapshot, PoolConfig settings, PoolTls tls) {
    }

    private final Pool pool;
    /** Written under the pool's lock only (a publish, a settings change), so neither half is lost. */
    private volatile View view;
    /** Addresses the config file lists (the rest came through the API or the auto-scaler). */
    private final java.util.Set<String> fromConfig = java.util.concurrent.ConcurrentHashMap.newKeySet();

    PoolRuntime(Pool pool, PoolConfig settings, PoolTls tls) {
        this.pool = pool;
        this.view = new View(pool.snapshot(), settings, tls);
        pool.onPublish(snapshot -> view = new View(snapshot, view.settings(), view.tls()));
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
            view = new View(pool.snapshot(), settings, view.tls());
        }
    }

    /** The TLS new server connections are made with; null = plain text. */
    public PoolTls tls() {
        return view.tls();
    }

    void setTls(PoolTls tls) {
        if (tls == view.tls()) {
            return; // a plain-text pool stays so: no new view
        }
        synchronized (pool) {
            view = new View(pool.snapshot(), view.settings(), tls);
        }
    }

    java.util.Set<String> fromConfig() {
        return fromConfig;
    }
}
