package dev.fulcrum.core.dsr;

import dev.fulcrum.core.balance.WeightedServer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of the servers DSR forwards to: per server its MAC and whether it takes new
 * flows or keeps its existing ones, plus the Maglev table ({@link DsrTable}) that picks a server for
 * a new flow. The control plane builds the next one with {@link #update} (one node) or
 * {@link #updateShared} (a cluster) when the pool or a MAC changes and publishes it with one
 * volatile write (an {@code AtomicReference} shared with the forwarder threads); each packet reads
 * the current one once.
 *
 * <p><b>Which table.</b> On one node ({@link #update}) the table is built over the servers that take
 * new flows, so every pick lands on one at once. In a cluster ({@link #updateShared}) it is built
 * over the shared server set the pool gives (the same names, weights and order as a {@code maglev}
 * pool's table, so every node maps a flow to the same server), and this node's view — health,
 * drains, a MAC not known yet — applies only at the pick: a slot whose server takes no new flows
 * here falls to the next slot whose server does.
 *
 * <p><b>Grace after a table change (cluster only).</b> When the shared table changes (a server
 * added or removed, a weight changed), flows that started on another node under the old table and
 * that the router (ECMP) moves to this node would be hashed by the new table to another server,
 * which answers them with a reset. So the snapshot keeps the previous table for a grace period:
 * {@link #pickPrevious} gives, until the deadline, the server the previous table gives a flow —
 * among servers that still keep their flows here. The router uses it only for packets of flows its
 * table does not know that do not start a connection (TCP without SYN). A second change within
 * the grace period replaces the previous table and restarts the grace period.
 *
 * <p><b>Server identity across snapshots.</b> The flow table stores a <em>target</em>: a server's
 * slot (a small dense index) and the slot's generation, in one {@code long}. An update keeps a
 * server's slot and generation as long as its name stays in the list, so flow entries written
 * under an older snapshot stay valid without rewriting the table. A slot freed by a removed server
 * is reused for the next new server with the generation bumped, so the removed server's old entries
 * no longer match and their flows are moved — never silently handed to the newcomer.
 *
 * <p>Immutable and thread-safe; an update allocates and, when the table's inputs changed, builds
 * the Maglev table (a few ms); the per-packet methods do neither.
 */
public final class DsrTargets {

    private static final DsrTargets EMPTY = new DsrTargets(List.of(), new String[0], new int[0], new long[0],
            new boolean[0], null, null, 0);

    private final List<DsrServer> servers;
    /** Per slot: the server's name, or null for a free slot. */
    private final String[] names;
    /** Per slot, free ones included: bumped each time the slot passes to another server. */
    private final int[] generations;
    private final long[] macs;
    private final boolean[] keepsFlows;
    /** Null when no server could ever take a new flow (none listed). */
    private final DsrTable table;
    /** The table before the last change, for the grace period; null when none. */
    private final DsrTable previous;
    /** When the grace period of {@link #previous} ends, in the forwarders' {@link System#nanoTime()} scale. */
    private final long previousUntilNanos;

    private DsrTargets(List<DsrServer> servers, String[] names, int[] generations, long[] macs,
                       boolean[] keepsFlows, DsrTable table, DsrTable previous, long previousUntilNanos) {
        this.servers = servers;
        this.names = names;
        this.generations = generations;
        this.macs = macs;
        this.keepsFlows = keepsFlows;
        this.table = table;
        this.previous = previous;
        this.previousUntilNanos = previousUntilNanos;
    }

    /** No servers: every new flow is {@link PacketResult#NO_SERVER}. */
    public static DsrTargets empty() {
        return EMPTY;
    }

    /**
     * One node's snapshot for {@code next}: the table is built over the servers that take new flows,
     * in list order with their weights. Keeps the slot of every server (matched by name) that this
     * snapshot has. Returns {@code this} when nothing changed.
     *
     * @param next the servers in pool order (the order only breaks Maglev ties); names unique
     * @throws IllegalArgumentException on a duplicate name
     */
    public DsrTargets update(List<DsrServer> next) {
        List<String> tableNames = new ArrayList<>();
        int[] weights = new int[next.size()];
        for (DsrServer server : next) {
            if (server.acceptsNewFlows()) {
                weights[tableNames.size()] = server.weight();
                tableNames.add(server.name());
            }
        }
        return next(next, tableNames, Arrays.copyOf(weights, tableNames.size()), 0, 0);
    }

    /**
     * A cluster node's snapshot for {@code next}: the table is built over {@code table}, the pool's
     * shared server set ({@code PoolSnapshot.sharedTable()}, in its order, with its weights), and a
     * server is picked only while it takes new flows here. When the table differs from this
     * snapshot's, this one's is kept as the previous table until {@code nowNanos + graceNanos}.
     * Returns {@code this} when nothing changed.
     *
     * @param next       every server of the pool (those of {@code table} and those being removed)
     * @param table      the shared server set; a name not in {@code next} is never picked
     * @param nowNanos   {@link System#nanoTime()} (the forwarders' clock)
     * @param graceNanos how long the previous table serves moved flows; 0: not at all
     * @throws IllegalArgumentException on a duplicate name, a negative grace
     */
    public DsrTargets updateShared(List<DsrServer> next, List<WeightedServer> table, long nowNanos, long graceNanos) {
        if (graceNanos < 0) {
            throw new IllegalArgumentException("the grace period must not be negative");
        }
        List<String> tableNames = new ArrayList<>(table.size());
        int[] weights = new int[table.size()];
        for (int i = 0; i < weights.length; i++) {
            tableNames.add(table.get(i).server().id());
            weights[i] = table.get(i).weight();
        }
        return next(next, tableNames, weights, nowNanos, graceNanos);
    }

    /**
     * The next snapshot, or {@code this} when the servers, the table and the grace period's state
     * are unchanged; {@code graceNanos} 0: no previous table (one node's).
     */
    private DsrTargets next(List<DsrServer> next, List<String> tableNames, int[] tableWeights, long nowNanos,
                            long graceNanos) {
        boolean sameTable = table == null ? tableNames.isEmpty() : table.builtFrom(tableNames, tableWeights);
        boolean previousLive = previous != null && nowNanos - previousUntilNanos < 0;
        if (next.equals(servers) && sameTable && previousLive == (previous != null)) {
            return this;
        }
        Map<String, Integer> oldSlots = new HashMap<>();
        for (int slot = 0; slot < names.length; slot++) {
            if (names[slot] != null) {
                oldSlots.put(names[slot], slot);
            }
        }
        int[] slotOf = new int[next.size()];
        int size = names.length;
        boolean[] taken = new boolean[names.length + next.size()];
        Map<String, Boolean> seen = new HashMap<>();
        for (int i = 0; i < slotOf.length; i++) {
            String name = next.get(i).name();
            if (seen.put(name, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("server " + name + " is listed twice");
            }
            Integer slot = oldSlots.get(name);
            slotOf[i] = slot == null ? -1 : slot;
            if (slot != null) {
                taken[slot] = true;
            }
        }
        int[] nextGenerations = Arrays.copyOf(generations, names.length + next.size());
        int free = 0;
        for (int i = 0; i < slotOf.length; i++) {
            if (slotOf[i] < 0) {
                while (taken[free]) {
                    free++;
                }
                taken[free] = true;
                slotOf[i] = free;
                if (free < names.length) {
                    nextGenerations[free]++; // the slot passes from a removed server to a new one
                }
                size = Math.max(size, free + 1);
            }
        }
        String[] nextNames = new String[size];
        long[] nextMacs = new long[size];
        boolean[] nextKeeps = new boolean[size];
        boolean[] nextAccepts = new boolean[size];
        Arrays.fill(nextMacs, MacAddress.UNKNOWN);
        Map<String, Integer> slotByName = new HashMap<>();
        for (int i = 0; i < slotOf.length; i++) {
            DsrServer server = next.get(i);
            int slot = slotOf[i];
            nextNames[slot] = server.name();
            nextMacs[slot] = server.mac();
            nextKeeps[slot] = !server.down();
            nextAccepts[slot] = server.acceptsNewFlows();
            slotByName.put(server.name(), slot);
        }
        DsrTable nextTable;
        if (tableNames.isEmpty()) {
            nextTable = null;
        } else if (sameTable) {
            nextTable = table.bind(slotByName, s -> nextAccepts[s]);
        } else {
            nextTable = DsrTable.build(tableNames, tableWeights, slotByName, s -> nextAccepts[s]);
        }
        DsrTable nextPrevious = null;
        long until = 0;
        if (graceNanos > 0 && !sameTable && table != null) {
            // flows the router moves here started under that table: they stay with servers that keep flows
            nextPrevious = table.bind(slotByName, s -> nextKeeps[s]);
            until = nowNanos + graceNanos;
        } else if (graceNanos > 0 && sameTable && previousLive) {
            nextPrevious = previous.bind(slotByName, s -> nextKeeps[s]);
            until = previousUntilNanos;
        }
        return new DsrTargets(List.copyOf(next), nextNames, Arrays.copyOf(nextGenerations, size), nextMacs,
                nextKeeps, nextTable, nextPrevious, until);
    }

    /** The servers as given to the last update, for the API and the dashboard. */
    public List<DsrServer> servers() {
        return servers;
    }

    /** True when at least one server takes new flows. */
    public boolean acceptsNewFlows() {
        return table != null && table.anyUsable();
    }

    /**
     * The slot of the server the table gives {@code flowHash} (or, when that one takes no new
     * flows here, the next in the table that does), or -1 when none takes new flows.
     */
    int pick(long flowHash) {
        return table == null ? -1 : table.pick(flowHash);
    }

    /**
     * During the grace period after a table change: the slot of the server the previous table gives
     * {@code flowHash} (or the next in it that still keeps its flows). -1 outside a grace period or
     * when none of the previous table's servers keeps flows.
     *
     * @param nowNanos {@link System#nanoTime()}
     */
    int pickPrevious(long flowHash, long nowNanos) {
        return previous == null || nowNanos - previousUntilNanos >= 0 ? -1 : previous.pick(flowHash);
    }

    /** True while a previous table serves moved flows ({@link #pickPrevious}). */
    public boolean inGracePeriod(long nowNanos) {
        return previous != null && nowNanos - previousUntilNanos < 0;
    }

    /** The flow-table target naming a slot's server in this and later snapshots. */
    long target(int slot) {
        return (long) generations[slot] << 32 | slot;
    }

    /**
     * The slot of a flow-table target when its server is still here and keeps its flows, else -1
     * (removed, down, slot reused, or {@link FlowTable#NO_TARGET}).
     */
    int slotKeeping(long target) {
        int slot = (int) target;
        if (slot < 0 || slot >= names.length) {
            return -1;
        }
        return generations[slot] == (int) (target >>> 32) && keepsFlows[slot] ? slot : -1;
    }

    /** The MAC of a slot's server, or {@link MacAddress#UNKNOWN}. */
    long mac(int slot) {
        return macs[slot];
    }

    /** The name of a slot's server (tests, logs). */
    String name(int slot) {
        return names[slot];
    }
}
