package dev.fulcrum.server.net;

import java.time.Duration;
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

    /**
     * The name of a listener's first route when it has no name of its own ({@code LISTENER#1});
     * a listener with a {@code pool} and no routes has that one route for everything.
     */
    static String firstRouteName(String listener) {
        return listener + "#1";
    }

    String name();

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
