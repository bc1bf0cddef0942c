package dev.fulcrum.server.metrics;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.EnumMap;
import java.util.Map;

/**
 * {@code fulcrum_server_up}, {@code fulcrum_server_active_requests} and {@code fulcrum_pool_servers},
 * read from the {@link Registry} when Prometheus scrapes, so neither the request path nor a state
 * change ever updates them. Every state of every pool is reported, zeros included, so a series
 * never vanishes when the last server leaves a state.
 */
final class ServerGauges {

    private ServerGauges() {
    }

    static void register(PrometheusRegistry prometheus, Registry registry) {
        GaugeWithCallback.builder()
                .name("fulcrum_server_up")
                .help("1 while the server is up (in rotation by health, not draining), else 0.")
                .labelNames("pool", "server")
                .callback(cb -> {
                    for (PoolRuntime pool : registry.pools()) {
                        for (Server s : pool.pool().servers()) {
                            cb.call(s.state() == ServerState.UP ? 1 : 0, pool.name(), s.id());
                        }
                    }
                })
                .register(prometheus);
        GaugeWithCallback.builder()
                .name("fulcrum_server_active_requests")
                .help("Requests (or TCP sessions) sent to the server and not finished yet.")
                .labelNames("pool", "server")
                .callback(cb -> {
                    for (PoolRuntime pool : registry.pools()) {
                        for (Server s : pool.pool().servers()) {
                            cb.call(s.activeRequests(), pool.name(), s.id());
                        }
                    }
                })
                .register(prometheus);
        GaugeWithCallback.builder()
                .name("fulcrum_pool_servers")
                .help("Registered servers of the pool, by state.")
                .labelNames("pool", "state")
                .callback(cb -> {
                    for (PoolRuntime pool : registry.pools()) {
                        Map<ServerState, Integer> counts = new EnumMap<>(ServerState.class);
                        for (ServerState state : ServerState.values()) {
                            counts.put(state, 0);
                        }
                        for (Server s : pool.pool().servers()) {
                            counts.merge(s.state(), 1, Integer::sum);
                        }
                        counts.forEach((state, n) -> cb.call(n, pool.name(), state.wireName()));
                    }
                })
                .register(prometheus);
    }
}
