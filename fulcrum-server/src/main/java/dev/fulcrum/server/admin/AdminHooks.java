package dev.fulcrum.server.admin;

import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.health.CheckResult;
import dev.fulcrum.server.net.ListenerTls;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What the admin API needs from the running instance beyond the {@link Registry}: the runtime
 * implements it (reload with the config loader, the balancer's own health, the prober's last
 * results, the auto-scaler's and VRRP speaker's state). {@link #basic} gives a start that answers
 * from the registry alone.
 *
 * <p>Implementations must be thread-safe. {@link #reload()} runs on a thread of its own and may
 * block; every other method is called on the admin event loop and must answer at once.
 */
public interface AdminHooks {

    /** The instance's name ({@code name} of the config), shown by the dashboard. */
    String instanceName();

    /**
     * Re-reads the config file, validates it, applies the difference. On an invalid file the
     * running config stays and the outcome carries the errors as text.
     */
    HookResult reload();

    /** {@code GET /healthz}: ok while every listener accepts and each pool has a server up, else why. */
    HookResult healthz();

    /** The last health check of {@code server}; null when none ran (yet, or no checks configured). */
    CheckResult lastCheck(Server server);

    /** The listeners of the config in force (a reload replaces them); empty when there is no config. */
    default List<Listener> listeners() {
        return List.of();
    }

    /**
     * The leaf certificates new TLS handshakes on the running listener {@code listener} get, in
     * config order; empty without TLS or when no such listener runs.
     */
    default List<X509Certificate> certificates(String listener) {
        return List.of();
    }

    /** The TLS engine listeners use, {@code BoringSSL} or {@code JDK}; asked only when a listener has TLS. */
    default String tlsProvider() {
        return ListenerTls.providerName();
    }

    /** Auto-scaling state of each scaled pool; empty when auto-scaling is not configured. */
    default List<AutoscaleStatus> autoscale() {
        return List.of();
    }

    /** Direct Server Return's state; null when {@code dsr} is not configured. */
    default dev.fulcrum.server.dsr.DsrStatus dsr() {
        return null;
    }

    /** Cluster state; null when {@code cluster} is not configured. */
    default ClusterStatus cluster() {
        return null;
    }

    /** Where server changes go in a cluster (etcd); null outside one: they go to the registry. */
    default SharedWrites sharedWrites() {
        return null;
    }

    /** HA state; null when {@code ha} is not configured. */
    default HaStatus ha() {
        return null;
    }

    /**
     * The registry half of {@code /healthz}: ok when every pool has at least one server up, else
     * the first pool without one.
     */
    static HookResult poolsHaveServerUp(Registry registry) {
        for (PoolRuntime pool : registry.pools()) {
            if (!pool.snapshot().hasServerUp()) {
                return HookResult.failed("pool " + pool.name() + " has no server up");
            }
        }
        return HookResult.success();
    }

    /**
     * Hooks that know only the registry: health from {@link #poolsHaveServerUp}, no checks, no
     * auto-scaling, no HA, and a reload that answers it is not available.
     */
    static AdminHooks basic(String instanceName, Registry registry) {
        return new AdminHooks() {
            @Override
            public String instanceName() {
                return instanceName;
            }

            @Override
            public HookResult reload() {
                return HookResult.failed("reload is not available in this process");
            }

            @Override
            public HookResult healthz() {
                return poolsHaveServerUp(registry);
            }

            @Override
            public CheckResult lastCheck(Server server) {
                return null;
            }
        };
    }
}
