package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;

/** PLACEHOLDER until the algorithms land: first non-excluded server. Replaced by the real RoundRobin. */
final class RoundRobin implements Balancer {
    private final List<WeightedServer> servers;

    RoundRobin(List<WeightedServer> servers) {
        this.servers = servers;
    }

    @Override
    public Server pick(Pick pick) {
        for (WeightedServer ws : servers) {
            if (!pick.isExcluded(ws.server())) {
                return ws.server();
            }
        }
        return null;
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
