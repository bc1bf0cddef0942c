package dev.fulcrum.server.autoscale;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * In a cluster (spec cluster.md), what lets one node's auto-scaler act for all: whether this node
 * holds the auto-scaling election; what etcd records (the last action of each pool, which a new
 * leader's cooldown honours; the pending actions; which node started each auto-scaled server);
 * and the actions, each one etcd transaction that applies only while this node still leads (a
 * node paused or cut off past its lease cannot act). Server changes go to the shared config, so
 * every node applies them.
 *
 * <p>Thread-safe. The reads are cheap (the state as of the last revision this node applied); the
 * actions block up to a few seconds (etcd, then this node applying the change) and run on the
 * provisioning thread.
 */
public interface ScalingLeadership {

    /**
     * A node of a cluster between its server's start and its joining the election: it leads
     * nothing yet, so its auto-scalers only scrape (acting then would scale this node alone,
     * outside etcd, beside the real leader).
     */
    ScalingLeadership NOT_JOINED = new ScalingLeadership() {
        @Override
        public boolean leading() {
            return false;
        }

        @Override
        public String node() {
            return "";
        }

        @Override
        public Set<String> members() {
            return Set.of();
        }

        @Override
        public Instant lastAction(String pool) {
            return null;
        }

        @Override
        public Map<String, ScaledServer> scaled(String pool) {
            return Map.of();
        }

        @Override
        public List<PendingAction> pending(String pool) {
            return List.of();
        }

        @Override
        public boolean beginScaleOut(String pool, String id, Instant at) {
            return false;
        }

        @Override
        public boolean scaleOut(String pool, ScaledServer server, String id) {
            return false;
        }

        @Override
        public boolean scaleIn(String pool, ScaledServer server, String id, Instant at) {
            return false;
        }

        @Override
        public boolean abandon(String pool, String id) {
            return false;
        }

        @Override
        public void done(String pool, String id) {
        }

        @Override
        public boolean adopt(String pool, ScaledServer was) {
            return false;
        }

        @Override
        public boolean forget(String pool, ScaledServer server) {
            return false;
        }
    };

    boolean leading();

    /**
     * Runs {@code listener} each time this node starts to lead, so a new leader acts at once
     * rather than at its next step; on the thread that learnt it (the listener hands work over).
     */
    default void onLead(Runnable listener) {
    }

    /** This node's name. */
    String node();

    /** The nodes in the member list now. */
    Set<String> members();

    /** The last scaling action of {@code pool} recorded in etcd; null when none. */
    Instant lastAction(String pool);

    /** The servers of {@code pool} that an auto-scaler started, by address. */
    Map<String, ScaledServer> scaled(String pool);

    /** The pending actions of {@code pool}. */
    List<PendingAction> pending(String pool);

    /**
     * Records a scale-out decided {@code at} as pending {@code id} and as the pool's last action,
     * if this node still leads; waits (bounded) until this node applied it. False when the
     * transaction did not apply.
     *
     * @throws RuntimeException when etcd does not answer (the outcome may be unknown)
     */
    boolean beginScaleOut(String pool, String id, Instant at);

    /**
     * Adds {@code server} (weight 1, with its record) to the shared {@code pool} and deletes the
     * pending scale-out {@code id}, if this node still leads, the server is not there and the
     * pending record is (a leader that took over meanwhile dropped it); as {@link #beginScaleOut}.
     */
    boolean scaleOut(String pool, ScaledServer server, String id);

    /**
     * Removes {@code server} from the shared {@code pool}, records the pending scale-in {@code id}
     * and {@code at} as the last action, if this node still leads; as {@link #beginScaleOut}.
     */
    boolean scaleIn(String pool, ScaledServer server, String id, Instant at);

    /** Drops a pending scale-out nobody will finish, if this node leads. */
    boolean abandon(String pool, String id);

    /** Deletes a pending action this node finished (a server stopped, a scale-out that failed); not guarded. */
    void done(String pool, String id);

    /**
     * Takes over a {@code process} server whose owner left the cluster: its record names this
     * node, if this node leads and the entry is as recorded in {@code was}.
     */
    boolean adopt(String pool, ScaledServer was);

    /**
     * Removes a server whose owner left the cluster and whose process is gone, if this node leads
     * and its entry is unchanged; no cooldown (it is not a scaling decision).
     */
    boolean forget(String pool, ScaledServer server);
}
