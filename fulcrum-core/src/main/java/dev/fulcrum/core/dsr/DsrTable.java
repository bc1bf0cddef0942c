package dev.fulcrum.core.dsr;

import dev.fulcrum.core.balance.MaglevTable;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * A Maglev table (size {@value MaglevTable#DEFAULT_SIZE}) over servers' names and weights, bound to
 * one {@link DsrTargets} snapshot: the snapshot's slot of each of the table's servers, and which of
 * them may be picked there. A pick reads the flow hash's table slot and, when that server may not
 * be picked, the next table slot whose server may ({@link MaglevTable#lookup(long, boolean[])}), so
 * a server out of use here moves only its own flows.
 *
 * <p>Immutable and thread-safe. {@link #build} builds the Maglev table (a few ms); {@link #bind}
 * reuses it for the next snapshot; {@link #pick} neither allocates nor locks.
 */
final class DsrTable {

    private final List<String> names;
    private final int[] weights;
    private final MaglevTable maglev;
    /** Per table server: its slot in the bound snapshot, or -1 when it is not there. */
    private final int[] slots;
    /** Per table server: it may be picked in the bound snapshot. */
    private final boolean[] usable;
    private final boolean anyUsable;

    private DsrTable(List<String> names, int[] weights, MaglevTable maglev, Map<String, Integer> slotOf,
                     IntPredicate usableSlot) {
        this.names = names;
        this.weights = weights;
        this.maglev = maglev;
        this.slots = new int[names.size()];
        this.usable = new boolean[names.size()];
        boolean any = false;
        for (int i = 0; i < slots.length; i++) {
            Integer slot = slotOf.get(names.get(i));
            slots[i] = slot == null ? -1 : slot;
            usable[i] = slot != null && usableSlot.test(slot);
            any |= usable[i];
        }
        this.anyUsable = any;
    }

    /**
     * Builds the table over {@code names} with {@code weights}, in that order, bound to a snapshot.
     *
     * @param names      at least one, unique; the order is part of the table (ties, indices)
     * @param weights    one per name, each at least 1
     * @param slotOf     the snapshot's slot of each server name
     * @param usableSlot whether the server in a slot may be picked
     */
    static DsrTable build(List<String> names, int[] weights, Map<String, Integer> slotOf, IntPredicate usableSlot) {
        List<String> n = List.copyOf(names);
        int[] w = weights.clone();
        return new DsrTable(n, w, MaglevTable.build(n, w, MaglevTable.DEFAULT_SIZE), slotOf, usableSlot);
    }

    /** The same table bound to another snapshot. */
    DsrTable bind(Map<String, Integer> slotOf, IntPredicate usableSlot) {
        return new DsrTable(names, weights, maglev, slotOf, usableSlot);
    }

    /** True when this table was built from exactly these names and weights, in this order. */
    boolean builtFrom(List<String> otherNames, int[] otherWeights) {
        return names.equals(otherNames) && Arrays.equals(weights, otherWeights);
    }

    /** True when a pick can find a server. */
    boolean anyUsable() {
        return anyUsable;
    }

    /** The snapshot slot of the server this table gives {@code flowHash}, or -1 when none may be picked. */
    int pick(long flowHash) {
        if (!anyUsable) {
            return -1;
        }
        int backend = maglev.lookup(flowHash, usable);
        return backend < 0 ? -1 : slots[backend];
    }
}
