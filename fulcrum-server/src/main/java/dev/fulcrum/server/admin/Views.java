package dev.fulcrum.server.admin;

import dev.fulcrum.server.health.CheckResult;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.RegistryEvent;

import java.util.List;

/**
 * The JSON shapes of admin-api.md as records (Jackson writes components in declaration order),
 * and their construction from live objects. Immutable.
 */
final class Views {

    private Views() {
    }

    record LastCheck(String at, boolean ok, String detail) {
    }

    /** SERVER. */
    record ServerView(String address, int weight, String state, int activeConnections, int activeRequests,
                      long requests, long failures, LastCheck lastCheck) {
    }

    /**
     * POOL, with what the spec's shape leaves out: {@code protocol} spoken to the servers and
     * whether over {@code tls} (the pool's settings in force).
     */
    record PoolView(String name, String algorithm, String protocol, boolean tls, List<ServerView> servers) {
    }

    /** An event's {@code data}. */
    record EventView(String at, String type, String pool, String server, String detail) {
    }

    record Status(String name, String version, String startedAt, long uptimeSeconds, List<AutoscaleStatus> autoscale,
                  HaStatus ha, dev.fulcrum.server.dsr.DsrStatus dsr, ClusterStatus cluster,
                  List<ListenerView> listeners) {
    }

    record Error(String error) {
    }

    record Applied(boolean applied) {
    }

    /** {@code GET /api/v1/pools/{pool}/lookup}: {@code tableHash} null for ring-hash (no table). */
    record Lookup(String key, String server, String tableHash) {
    }

    static ServerView server(Server s, AdminHooks hooks) {
        CheckResult check = hooks.lastCheck(s);
        return new ServerView(s.id(), s.weight(), s.state().wireName(), s.activeConnections(), s.activeRequests(),
                s.requests(), s.failures(),
                check == null ? null : new LastCheck(check.at().toString(), check.ok(), check.detail()));
    }

    static PoolView pool(PoolRuntime pool, AdminHooks hooks) {
        PoolRuntime.View view = pool.view();
        return new PoolView(pool.name(), pool.pool().algorithm().configName(), view.settings().protocol().configName(),
                view.tls() != null, pool.pool().servers().stream().map(s -> server(s, hooks)).toList());
    }

    static EventView event(RegistryEvent e) {
        return new EventView(e.at().toString(), e.type(), e.pool(), e.server(), e.detail());
    }
}
