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

    /** The servers the table is built over, in table order (index = table entry). */
    private final List<WeightedServer> table;
    /** Whether table server i may be picked (in rotation); all true when built over the servers in rotation. */
    private final boolean[] up;
    private final List<WeightedServer> servers;
    private final MaglevTable maglev;
    private final String tableHash;

    Maglev(List<WeightedServer> servers) {
        this(servers, servers);
    }

    /**
     * A table built over {@code table} (a cluster's shared server set, in a fixed order, so that
     * every node builds the same one) picking only among {@code inRotation}: a slot whose server is
     * not in rotation falls to the next slot whose server is, so this node's health changes no
     * other server's keys and no other node's table.
     */
    Maglev(List<WeightedServer> table, List<WeightedServer> inRotation) {
        this.table = table;
        this.servers = inRotation;
        java.util.Set<Server> inRotationSet = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        inRotation.forEach(ws -> inRotationSet.add(ws.server()));
        this.up = new boolean[table.size()];
        int[] weights = new int[table.size()];
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < weights.length; i++) {
            weights[i] = table.get(i).weight();
            up[i] = inRotationSet.contains(table.get(i).server());
            names.append(table.get(i).server().id()).append('=').append(weights[i]).append(',');
        }
        this.maglev = MaglevTable.build(table.stream().map(ws -> ws.server().id()).toList(), weights, TABLE_SIZE);
        // the table is a pure function of its names and weights in order: equal hashes, equal tables
        this.tableHash = java.util.HexFormat.of().toHexDigits(Hashing.hash64(names));
    }

    @Override
    public Server pick(Pick pick) {
        int slot = (int) Long.remainderUnsigned(pick.hash(), TABLE_SIZE);
        for (int step = 0; step < TABLE_SIZE; step++) {
            int i = maglev.entry(slot);
            if (up[i] && (pick.excluded().isEmpty() || !pick.isExcluded(table.get(i).server()))) {
                return table.get(i).server();
            }
            slot = slot + 1 == TABLE_SIZE ? 0 : slot + 1;
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
        return table.get(maglev.entry(slot)).server();
    }

    @Override
    public List<WeightedServer> servers() {
        return servers;
    }

    @Override
    public String tableHash() {
        return tableHash;
    }
}
