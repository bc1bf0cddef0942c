package dev.fulcrum.server.autoscale;

import java.time.Instant;

/**
 * In a cluster, a scaling action begun and not finished, recorded in etcd in the same
 * leader-checked transaction as its first step (spec cluster.md), so that a leader that takes
 * over mid-action finds it:
 * <ul>
 *   <li><b>out</b>: recorded when decided, before provisioning; the transaction that adds the
 *       server deletes it. A leader that finds one it is not running itself drops it (the node
 *       that ran it, if alive, can no longer add its server and stops it) and decides again
 *       after the cooldown, which the record started.</li>
 *   <li><b>in</b>: recorded with the server's removal from the shared pool; deleted once the
 *       server is stopped, {@code drain-timeout} after its removal (every node drains it that
 *       long at most). {@code exec}: the leader runs the scale-in program. {@code process}: the
 *       node that owns the process stops it, or the leader when the owner left the cluster.</li>
 * </ul>
 *
 * @param id     unique per action (a key under {@code scaling/<pool>/pending/})
 * @param out    true for a scale-out, false for a scale-in
 * @param node   the leader that began it
 * @param since  when it was decided
 * @param server for a scale-in, the server removed; null for a scale-out
 */
public record PendingAction(String id, boolean out, String node, Instant since, ScaledServer server) {
}
