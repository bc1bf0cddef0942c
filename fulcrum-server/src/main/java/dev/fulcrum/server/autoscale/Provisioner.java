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
