package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;

/**
 * {@code random}: each pick draws a server with probability weight / total weight, from the pick's
 * random source (prefix sums + binary search, O(log n)). Excluded servers are left out of the draw,
 * so the others keep their relative odds.
 *
 * <p>Immutable; thread-safe when each caller's {@link Pick#random()} is thread-confined or thread-safe.
 */
final class Random implements Balancer {

    private final List<WeightedServer> servers;
    private final WeightedDraw draw;

    Random(List<WeightedServer> servers) {
        this.servers = servers;
        this.draw = new WeightedDraw(servers);
    }

    @Override
    public Server pick(Pick pick) {
        if (pick.excluded().isEmpty()) {
            return servers.get(draw.draw(pick.random())).server();
        }
        int i = draw.drawAllowed(pick, -1);
        return i < 0 ? null : servers.get(i).server();
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
