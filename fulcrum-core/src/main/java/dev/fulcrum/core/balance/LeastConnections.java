package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;

/**
 * {@code least-connections}: the server with the fewest open connections per unit of weight
 * ({@code activeConnections / weight}, compared cross-multiplied, no division).
 *
 * <p>Ties are common (an idle pool is all zeros), and always taking the first tied server would
 * pile work on it. So the scan starts at the server that smooth weighted round-robin would pick
 * next and goes round from there, first tie wins: when every server is tied this is exactly
 * weighted round-robin, as in nginx's {@code least_conn}.
 *
 * <p>Reads the servers' live {@link Server#activeConnections()} counters (one read each, O(n) per
 * pick) and one atomic increment for the start; no locks. Thread-safe.
 */
final class LeastConnections implements Balancer {

    private final List<WeightedServer> servers;
    private final RoundRobin start;

    LeastConnections(List<WeightedServer> servers) {
        this.servers = servers;
        this.start = new RoundRobin(servers);
    }

    @Override
    public Server pick(Pick pick) {
        int n = servers.size();
        int first = start.nextIndex();
        WeightedServer best = null;
        long bestConnections = 0;
        for (int k = 0; k < n; k++) {
            WeightedServer candidate = servers.get((first + k) % n);
            if (pick.isExcluded(candidate.server())) {
                continue;
            }
            long connections = candidate.server().activeConnections();
            // connections / weight < bestConnections / bestWeight, without division
            if (best == null || connections * best.weight() < bestConnections * candidate.weight()) {
                best = candidate;
                bestConnections = connections;
            }
        }
        return best == null ? null : best.server();
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
