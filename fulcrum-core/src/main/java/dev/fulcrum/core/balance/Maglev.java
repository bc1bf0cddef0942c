package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;

import java.util.List;

/**
 * {@code maglev}: consistent hashing with a {@link MaglevTable} of {@value #TABLE_SIZE} slots over
 * the servers' {@code host:port} names, weighted as {@link MaglevTable} describes. The same request
 * key always reaches the same server while the pool is unchanged, and a server leaving moves about
 * its own share of keys.
 *
 * <p>A pick reads slot {@code hash mod M}. When that server is excluded (a retry), the following
 * slots are tried in order, so a retry of one key also goes to a stable second choice; the walk is
 * bounded by the table size, then falls back to the first non-excluded server in snapshot order (one
 * that owns no slot), and returns null only when every server is excluded.
 *
 * <p>Immutable; thread-safe.
 */
final class Maglev implements Balancer {

    static final int TABLE_SIZE = MaglevTable.DEFAULT_SIZE;

    private final List<WeightedServer> servers;
    private final MaglevTable table;

    Maglev(List<WeightedServer> servers) {
        this.servers = servers;
        int[] weights = new int[servers.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = servers.get(i).weight();
        }
        this.table = MaglevTable.build(servers.stream().map(ws -> ws.server().id()).toList(), weights, TABLE_SIZE);
    }

    @Override
    public Server pick(Pick pick) {
        int slot = (int) Long.remainderUnsigned(pick.hash(), TABLE_SIZE);
        Server server = servers.get(table.entry(slot)).server();
        if (pick.excluded().isEmpty() || !pick.isExcluded(server)) {
            return server;
        }
        for (int step = 1; step < TABLE_SIZE; step++) {
            slot = slot + 1 == TABLE_SIZE ? 0 : slot + 1;
            Server next = servers.get(table.entry(slot)).server();
            if (!pick.isExcluded(next)) {
                return next;
            }
        }
        for (WeightedServer ws : servers) {
            if (!pick.isExcluded(ws.server())) {
                return ws.server();
            }
        }
        return null;
    }

    /** For tests: the server in one slot. */
    Server serverInSlot(int slot) {
        return servers.get(table.entry(slot)).server();
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }
}
