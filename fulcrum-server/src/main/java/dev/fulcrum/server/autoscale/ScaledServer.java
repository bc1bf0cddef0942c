package dev.fulcrum.server.autoscale;

import java.time.Instant;

/**
 * In a cluster, a server the auto-scaler started, as its shared entry records it (spec
 * cluster.md): which node started it and when it was decided; for the {@code process}
 * provisioner also the process ({@code pid} and its start time), a child of that node's Fulcrum
 * on that machine, which only that node stops, or a leader that took it over after that node left
 * the cluster. {@code pid} is 0 for an {@code exec} server: the leader, whichever node it is, runs
 * the scale-in program. Servers without such a record are the operator's, never scaled in.
 *
 * @param address {@code host:port}, the server's id in its pool
 * @param node    the node that started it, or took it over
 * @param at      when the scale-out was decided (the cooldown's start)
 * @param pid     the server's process id for {@code process}; 0 for {@code exec}
 * @param started the process's start time, which tells it from a later process of the same id; null for {@code exec}
 */
public record ScaledServer(String address, String node, Instant at, long pid, Instant started) {

    /** A child process of {@link #node}'s Fulcrum (the {@code process} provisioner). */
    public boolean isProcess() {
        return pid > 0;
    }

    /** The same server, now owned by {@code owner}. */
    public ScaledServer ownedBy(String owner) {
        return new ScaledServer(address, owner, at, pid, started);
    }
}
