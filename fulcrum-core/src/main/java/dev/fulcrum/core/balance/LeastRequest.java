package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;

/**
 * {@code least-request}: the power of two choices (Mitzenmacher; Envoy's least-request). Two
 * distinct candidates are drawn at random, each with probability proportional to its weight, and
 * the one with fewer in-flight requests per unit of weight wins ({@code activeRequests / weight},
 * compared cross-multiplied, no division). Ties go to the first candidate, itself a weighted draw,
 * so an idle pool is balanced like {@code random}.
 *
 * <p>Reads the servers' live {@link Server#activeRequests()} counters, so the load it sees is as fresh
 * as the data plane's; two reads per pick, no locks. Thread-safe when each caller's
 * {@link Pick#random()} is thread-confined or thread-safe.
 */
final class LeastRequest implements Balancer {

    private final List<WeightedServer> servers;
    private final WeightedDraw draw;

    LeastRequest(List<WeightedServer> servers) {
        this.servers = servers;
        this.draw = new WeightedDraw(servers);
    }

    @Override
    public Server pick(Pick pick) {
        int first;
        int second;
        if (pick.excluded().isEmpty()) {
            if (servers.size() == 1) {
                return servers.getFirst().server();
            }
            first = draw.draw(pick.random());
            second = draw.drawOther(pick.random(), first);
        } else {
            first = draw.drawAllowed(pick, -1);
            if (first < 0) {
                return null;
            }
            second = draw.drawAllowed(pick, first);
            if (second < 0) {
                return servers.get(first).server();
            }
        }
        return lighter(servers.get(first), servers.get(second)).server();
    }

    /** requests(a) / weight(a) <= requests(b) / weight(b), cross-multiplied; ties keep {@code a}. */
    private static WeightedServer lighter(WeightedServer a, WeightedServer b) {
        long loadA = (long) a.server().activeRequests() * b.weight();
        long loadB = (long) b.server().activeRequests() * a.weight();
        return loadB < loadA ? b : a;
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
