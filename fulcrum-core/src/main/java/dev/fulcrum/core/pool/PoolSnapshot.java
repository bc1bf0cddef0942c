package dev.fulcrum.core.pool;

import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.Balancer;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Pick;
import dev.fulcrum.core.balance.WeightedServer;

import java.util.List;

/**
 * An immutable view of one pool at one moment: every registered server (for the API) and the
 * balancer built over the servers in rotation. The data plane reads the current snapshot once per
 * request ({@link Pool#snapshot()}); a server that left rotation is absent from the next snapshot,
 * so no request picked after the change can reach it.
 *
 * @param version     increases by one with every publication of the pool
 * @param sharedTable in a cluster ({@link Pool#useSharedTable}): the servers every node builds its
 *                    consistent-hash tables over — not being removed, weight above 0, in address
 *                    order, with configured weights — whatever the pool's algorithm, so DSR builds
 *                    the same table as {@code maglev}; null on a single node
 */
public record PoolSnapshot(String name, long version, Algorithm algorithm, HashKey hashKey,
                           List<Server> servers, Balancer balancer, List<WeightedServer> sharedTable) {

    public PoolSnapshot {
        servers = List.copyOf(servers);
        sharedTable = sharedTable == null ? null : List.copyOf(sharedTable);
    }

    /** Picks a server in rotation, or {@code null} when none is left after exclusions. */
    public Server pick(Pick pick) {
        return balancer.pick(pick);
    }

    /** True when at least one server is in rotation. */
    public boolean hasServerUp() {
        return !balancer.servers().isEmpty();
    }

    /** How many servers are in rotation. */
    public int serversInRotation() {
        return balancer.servers().size();
    }
}
