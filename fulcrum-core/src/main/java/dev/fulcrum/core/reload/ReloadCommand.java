package dev.fulcrum.core.reload;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;

/**
 * One step of a reload, as {@link ReloadPlan#diff} decides it: a plain value naming a pool and a
 * server by name and address, for the registry to carry out on its control thread. The registry
 * applies a plan's commands in order with one {@code switch} over this type, so a new kind of step
 * breaks its build until it says what the step does.
 *
 * <p>"Listed" means the config file names the address under the pool: a reload that drops a
 * listed server drains and removes it, while a server the admin API or the auto-scaler added
 * (not listed) stays until its pool goes.
 */
public sealed interface ReloadCommand {

    /** The pool the step changes. */
    String pool();

    /** A pool the file names for the first time: register it, empty; its servers follow as {@link AddServer}s. */
    record AddPool(String pool) implements ReloadCommand {
    }

    /**
     * A pool the file no longer names: forget it. Its servers' {@link RemoveServer}s come first;
     * they finish draining on their own after the pool is gone.
     */
    record RemovePool(String pool) implements ReloadCommand {
    }

    /** The pool's settings (timeouts, retries, health check...) differ from the running ones: take the file's. */
    record ChangeSettings(String pool) implements ReloadCommand {
    }

    /** The pool's {@code algorithm} or {@code hash-key} changed: rebuild its balancer; servers stay. */
    record ChangeBalancing(String pool, Algorithm algorithm, HashKey hashKey) implements ReloadCommand {
    }

    /** A listed address the pool has no server for: register one (checked before traffic), listed. */
    record AddServer(String pool, HostPort address, int weight) implements ReloadCommand {
    }

    /** A listed server the file dropped, or any server of a pool that goes: drain it, then forget it; no longer listed. */
    record RemoveServer(String pool, String address) implements ReloadCommand {
    }

    /** A server draining towards removal that the file lists (again): it stays, and takes traffic subject to its health. */
    record CancelRemoval(String pool, String address) implements ReloadCommand {
    }

    /** A listed server whose weight the file changed. */
    record ChangeWeight(String pool, String address, int from, int to) implements ReloadCommand {
    }

    /**
     * A server the file did not list that it lists now (the API or the auto-scaler added it, or the
     * last reload dropped it and it is still draining): from now on a reload that drops it removes it.
     */
    record Adopt(String pool, String address) implements ReloadCommand {
    }

    /**
     * A listed address the file dropped whose server is already gone or already being removed
     * (through the API): the file stops listing it; nothing else changes.
     */
    record Disown(String pool, String address) implements ReloadCommand {
    }
}
