package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;

/**
 * Starts and stops the servers of an auto-scaled pool. {@link #provision()} blocks until the new
 * server exists (its address is known); it need not answer yet: the pool's health check decides
 * when it takes traffic. Both calls are bounded in time and report failure as a
 * {@link ProvisionException} with one line, never by hanging.
 *
 * <p>Implementations are thread-safe; the auto-scaler calls them from one provisioning thread.
 */
public interface Provisioner extends AutoCloseable {

    /** Starts a new server and returns where it listens. */
    HostPort provision() throws ProvisionException;

    /** Stops a server this provisioner started (it has already left the pool). */
    void deprovision(HostPort address) throws ProvisionException;

    /**
     * The process behind {@code address} when this provisioner's servers are this node's own
     * processes ({@code process}) and it runs one there; null otherwise ({@code exec}: any node
     * may run the scale-in program).
     */
    default ProcessHandle process(HostPort address) {
        return null;
    }

    /** The servers whose processes this provisioner runs now ({@code process}); empty for {@code exec}. */
    default java.util.Set<HostPort> running() {
        return java.util.Set.of();
    }

    /**
     * In a cluster, takes over the server at {@code address} that another node's provisioner
     * started on this machine, as process {@code pid} started at {@code started}, so that
     * {@link #deprovision} and {@link #close} stop it; false when no such process runs (it died
     * with its node, or the id now names another process).
     */
    default boolean adopt(HostPort address, long pid, java.time.Instant started) {
        return false;
    }

    /**
     * Forgets {@code address} without stopping it: in a cluster an {@code exec} server belongs to
     * the cluster once added, so a node that stops leaves it to the leader.
     */
    default void release(HostPort address) {
    }

    /** Stops every server this provisioner started and has not stopped yet; used when Fulcrum stops. */
    @Override
    void close();

    /** A provisioner could not start or stop a server; the message is one line for events and alerts. */
    final class ProvisionException extends Exception {
        public ProvisionException(String message) {
            super(message, null, false, false);
        }
    }
}
