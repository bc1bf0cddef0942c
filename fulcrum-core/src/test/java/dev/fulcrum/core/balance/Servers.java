package dev.fulcrum.core.balance;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Test fixtures: servers on 127.0.0.1 ports 9101, 9102, ... with the given weights. */
final class Servers {

    private Servers() {
    }

    static Server server(int port, int weight) {
        return new Server(new HostPort("127.0.0.1", port), weight, ServerState.UP);
    }

    /** One server per weight, ports from 9101 up. */
    static List<WeightedServer> weighted(int... weights) {
        List<WeightedServer> list = new ArrayList<>(weights.length);
        for (int i = 0; i < weights.length; i++) {
            list.add(new WeightedServer(server(9101 + i, weights[i]), weights[i]));
        }
        return list;
    }

    /** {@code count} servers of weight 1. */
    static List<WeightedServer> equal(int count) {
        int[] weights = new int[count];
        java.util.Arrays.fill(weights, 1);
        return weighted(weights);
    }

    static List<Server> plain(List<WeightedServer> servers) {
        return servers.stream().map(WeightedServer::server).toList();
    }

    /** Picks {@code times} times and counts the picks per server, in the servers' order. */
    static Map<Server, Integer> count(List<WeightedServer> servers, int times, Supplier<Server> picker) {
        Map<Server, Integer> counts = new LinkedHashMap<>();
        for (WeightedServer ws : servers) {
            counts.put(ws.server(), 0);
        }
        for (int i = 0; i < times; i++) {
            counts.merge(picker.get(), 1, Integer::sum);
        }
        return counts;
    }
}
