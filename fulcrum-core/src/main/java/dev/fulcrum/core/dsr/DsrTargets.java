package dev.fulcrum.core.dsr;

import dev.fulcrum.core.balance.MaglevTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of the servers DSR forwards to: per server its MAC and whether it takes new
 * flows or keeps its existing ones, plus the {@link MaglevTable} (size
 * {@value MaglevTable#DEFAULT_SIZE}) over the servers that take new flows. The control plane builds
 * the next one with {@link #update} when the pool or a MAC changes and publishes it with one
 * volatile write (an {@code AtomicReference} shared with the forwarder threads); each packet reads
 * the current one once.
 *
 * <p><b>Server identity across snapshots.</b> The flow table stores a <em>target</em>: a server's
 * slot (a small dense index) and the slot's generation, in one {@code long}. {@link #update} keeps
 * a server's slot and generation as long as its name stays in the list, so flow entries written
 * under an older snapshot stay valid without rewriting the table. A slot freed by a removed server
 * is reused for the next new server with the generation bumped, so the removed server's old entries
 * no longer match and their flows are moved — never silently handed to the newcomer.
 *
 * <p>Immutable and thread-safe; {@link #update} allocates and builds the Maglev table (a few ms),
 * the per-packet methods do neither.
 */
public final class DsrTargets {

    private static final DsrTargets EMPTY = new DsrTargets(List.of(), new String[0], new int[0], new long[0],
            new boolean[0], null, new int[0]);

    private final List<DsrServer> servers;
    /** Per slot: the server's name, or null for a free slot. */
    private final String[] names;
    /** Per slot, free ones included: bumped each time the slot passes to another server. */
    private final int[] generations;
    private final long[] macs;
    private final boolean[] keepsFlows;
    /** Null when no server takes new flows. */
    private final MaglevTable maglev;
    /** Maglev backend index → slot. */
    private final int[] maglevSlots;

    private DsrTargets(List<DsrServer> servers, String[] names, int[] generations, long[] macs,
                       boolean[] keepsFlows, MaglevTable maglev, int[] maglevSlots) {
        this.servers = servers;
        this.names = names;
        this.generations = generations;
        this.macs = macs;
        this.keepsFlows = keepsFlows;
        this.maglev = maglev;
        this.maglevSlots = maglevSlots;
    }

    /** No servers: every new flow is {@link PacketResult#NO_SERVER}. */
    public static DsrTargets empty() {
        return EMPTY;
    }

    /**
     * The snapshot for {@code next}, keeping the slot of every server (matched by name) that this
     * snapshot has. Returns {@code this} when nothing changed.
     *
     * @param next the servers in pool order (the order only breaks Maglev ties); names unique
     * @throws IllegalArgumentException on a duplicate name
     */
    public DsrTargets update(List<DsrServer> next) {
        if (next.equals(servers)) {
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
        Arrays.fill(nextMacs, MacAddress.UNKNOWN);
        List<String> maglevNames = new ArrayList<>();
        int[] weights = new int[next.size()];
        int[] maglevSlots = new int[next.size()];
        for (int i = 0; i < slotOf.length; i++) {
            DsrServer server = next.get(i);
            int slot = slotOf[i];
            nextNames[slot] = server.name();
            nextMacs[slot] = server.mac();
            nextKeeps[slot] = !server.down();
            if (server.acceptsNewFlows()) {
                weights[maglevNames.size()] = server.weight();
                maglevSlots[maglevNames.size()] = slot;
                maglevNames.add(server.name());
            }
        }
        MaglevTable table = maglevNames.isEmpty() ? null
                : MaglevTable.build(maglevNames, Arrays.copyOf(weights, maglevNames.size()), MaglevTable.DEFAULT_SIZE);
        return new DsrTargets(List.copyOf(next), nextNames, Arrays.copyOf(nextGenerations, size), nextMacs,
                nextKeeps, table, Arrays.copyOf(maglevSlots, maglevNames.size()));
    }

    /** The servers as given to {@link #update}, for the API and the dashboard. */
    public List<DsrServer> servers() {
        return servers;
    }

    /** True when at least one server takes new flows. */
    public boolean acceptsNewFlows() {
        return maglev != null;
    }

    /** The slot of the server the Maglev table gives {@code flowHash}, or -1 when none takes new flows. */
    int pick(long flowHash) {
        return maglev == null ? -1 : maglevSlots[maglev.lookup(flowHash)];
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
