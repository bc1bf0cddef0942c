package dev.fulcrum.server.net;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A running listener (HTTP or TCP): binds its address, accepts, proxies to its pool.
 * Life cycle: {@link #start()} binds (fails with a one-line message when the port is taken),
 * {@link #stopAccepting()} closes the listening socket only, {@link #closeGracefully(Duration)}
 * lets in-flight requests finish (closing idle keep-alive connections) then closes everything.
 * Both kinds keep their client connections in a {@link ListenerConnections}, which counts them and
 * runs that close; both bind through {@link ListenerSockets} ({@code max-connections}, socket
 * options).
 */
public interface ListenerRuntime {

    String name();

    /**
     * Takes {@code next}, this listener's entry in a reloaded config, without a new socket, when
     * it can: true when done (its connections go on; new requests follow {@code next}), false when
     * the listener must be replaced. Called on the control thread.
     */
    default boolean reconfigure(dev.fulcrum.server.config.FulcrumConfig.Listener next) {
        return false;
    }

    /**
     * Reads this listener's TLS certificate files again, even when its config is unchanged (they
     * may have been renewed in place): new handshakes get the new ones, open connections keep
     * theirs. Called on the control thread for a listener a reload keeps.
     *
     * @return null when reloaded or without TLS, else one line saying why the old certificates stay
     */
    default String reloadCertificates() {
        return null;
    }

    /** The leaf certificates new TLS handshakes get, in config order; empty without TLS. */
    default List<X509Certificate> certificates() {
        return List.of();
    }

    /** Binds; completes exceptionally with a clear message if the address cannot be bound. */
    CompletableFuture<Void> start();

    /** Closes the listening socket; open connections go on. */
    void stopAccepting();

    /**
     * Lets in-flight requests finish for up to {@code timeout}, closes idle connections and
     * connections whose request ended, then closes the rest. Completes when all are closed.
     */
    CompletableFuture<Void> closeGracefully(Duration timeout);

    /** Open client connections. */
    int activeConnections();

    /** True while the listening socket is open. */
    boolean isAccepting();
}
