package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;

import java.time.Instant;

/**
 * In a cluster (spec cluster.md), what lets one node's auto-scaler act for all: whether this node
 * holds the auto-scaling election, the last action any leader recorded (the cooldown lives in
 * etcd, so a new leader honours its predecessor's), and the two actions, each one etcd
 * transaction that applies only while this node still leads (a node paused or cut off past its
 * lease cannot act). The server change goes to the shared config, so every node applies it.
 *
 * <p>Thread-safe. {@link #leading} and {@link #lastAction} are cheap reads; the actions block up
 * to a few seconds (etcd, then this node applying the change) and run on the provisioning thread.
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
        public Instant lastAction(String pool) {
            return null;
        }

        @Override
        public boolean scaleOut(String pool, HostPort address, Instant at) {
            return false;
        }

        @Override
        public boolean scaleIn(String pool, String address, Instant at) {
            return false;
        }
    };

    boolean leading();

    /** The last scale-out or scale-in of {@code pool} recorded in etcd; null when none. */
    Instant lastAction(String pool);

    /**
     * Adds {@code address} (weight 1) to the shared {@code pool} and records {@code at} as its last
     * action, if this node still leads and the server is not there; returns once this node applied
     * it (bounded). False when the transaction did not apply.
     *
     * @throws RuntimeException when etcd does not answer (the outcome may be unknown)
     */
    boolean scaleOut(String pool, HostPort address, Instant at);

    /** Removes {@code address} from the shared {@code pool}, as {@link #scaleOut} adds one. */
    boolean scaleIn(String pool, String address, Instant at);
}
