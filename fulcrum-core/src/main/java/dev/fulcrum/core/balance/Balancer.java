package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;

/**
 * Picks a server for one request from a fixed set of servers. A balancer is built once per pool
 * snapshot (off the request path) and then only read: {@link #pick} must be safe to call from every
 * event loop at once without locks on the common path.
 *
 * <p>Implementations are one class per algorithm, package-private, created by {@link #create}.
 */
public interface Balancer {

    /**
     * Picks a server, never one in {@link Pick#excluded()}.
     *
     * @return the chosen server, or {@code null} when every server is excluded or there are none
     */
    Server pick(Pick pick);

    /** The servers this balancer chooses from, in snapshot order. */
    List<WeightedServer> servers();

    /**
     * For a consistent-hash balancer, a short hex digest of its table's inputs (servers and weights,
     * in order): two balancers with the same digest map every key alike. Null for the others.
     */
    default String tableHash() {
        return null;
    }

    /**
     * Builds the balancer of {@code algorithm} for a pool whose servers are shared by several
     * nodes (a cluster): {@code maglev} builds its table over {@code shared} (every server the
     * nodes agree on, in a fixed order, with configured weights) and applies this node's health
     * at pick time, choosing only among {@code inRotation}; so every node maps a key to the same
     * server while they agree on health. Other algorithms are as {@link #create}.
     */
    static Balancer createShared(Algorithm algorithm, List<WeightedServer> shared, List<WeightedServer> inRotation) {
        if (algorithm != Algorithm.MAGLEV || shared.isEmpty() || inRotation.isEmpty()) {
            return create(algorithm, inRotation);
        }
        return new Maglev(List.copyOf(shared), List.copyOf(inRotation));
    }

    /** Builds the balancer of {@code algorithm} over {@code servers} (weights already effective). */
    static Balancer create(Algorithm algorithm, List<WeightedServer> servers) {
        List<WeightedServer> copy = List.copyOf(servers);
        if (copy.isEmpty()) {
            return Empty.INSTANCE;
        }
        return switch (algorithm) {
            case ROUND_ROBIN -> new RoundRobin(copy);
            case LEAST_CONNECTIONS -> new LeastConnections(copy);
            case LEAST_REQUEST -> new LeastRequest(copy);
            case RANDOM -> new Random(copy);
            case MAGLEV -> new Maglev(copy);
            case RING_HASH -> new RingHash(copy);
        };
    }

    /** No server to pick from. */
    enum Empty implements Balancer {
        INSTANCE;

        @Override
        public Server pick(Pick pick) {
            return null;
        }

        @Override
        public List<WeightedServer> servers() {
            return List.of();
        }
    }
}
