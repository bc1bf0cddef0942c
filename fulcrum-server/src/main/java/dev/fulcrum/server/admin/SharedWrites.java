package dev.fulcrum.server.admin;

import java.util.concurrent.CompletableFuture;

/**
 * In a cluster, where the admin API's changes go (spec cluster.md): not to this node's registry
 * but to etcd, as compare-and-set transactions, which every node then applies. Each call blocks
 * for at most a few seconds (every etcd call has a deadline) and answers the etcd revision of
 * its transaction; {@link #applied} says when that revision is served.
 *
 * <p>Errors: {@link java.util.NoSuchElementException} (404: no such pool or server in the shared
 * config), {@link IllegalStateException} (409: the server is already there), {@link NoQuorum}
 * (503: nothing was written), {@link OutcomeUnknown} (504: the request went out, its fate is not
 * known). Implementations are thread-safe; call them off event loops.
 */
public interface SharedWrites {

    long addServer(String pool, String address, int weight);

    long removeServer(String pool, String address);

    /** Drains ({@code drain}) or enables the server, kept in its shared entry. */
    long drainServer(String pool, String address, boolean drain);

    /**
     * Completes once this node ({@code everyMember} false) or every live member has applied
     * {@code revision}; never completes exceptionally by itself (callers bound the wait).
     */
    CompletableFuture<Void> applied(long revision, boolean everyMember);

    /** etcd has no quorum (or no member answers): nothing was written. */
    final class NoQuorum extends RuntimeException {
        public NoQuorum(String message) {
            super(message, null, false, false);
        }
    }

    /** The write was sent but its answer did not come within the deadline: it may or may not have applied. */
    final class OutcomeUnknown extends RuntimeException {
        public OutcomeUnknown(String message) {
            super(message, null, false, false);
        }
    }
}
