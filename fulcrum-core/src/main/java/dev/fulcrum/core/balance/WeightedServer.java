package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

/**
 * A server as one snapshot's balancer sees it: with the weight in force for that snapshot
 * (the configured weight, or less while slow start ramps it up). Weight is at least 1:
 * weight-0 servers are left out of the balancer altogether.
 */
public record WeightedServer(Server server, int weight) {
    public WeightedServer {
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be >= 1 inside a balancer, got " + weight);
        }
    }
}
