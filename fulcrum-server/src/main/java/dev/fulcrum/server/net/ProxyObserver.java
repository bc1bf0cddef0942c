package dev.fulcrum.server.net;

import dev.fulcrum.core.health.RequestOutcome;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.registry.PoolRuntime;

/**
 * What the data plane tells the control side about real traffic, called on the event loop of the
 * request. Implementations must be cheap and must not block or throw: they run on the request
 * path. Passive outlier detection listens here.
 */
public interface ProxyObserver {

    /** Observes nothing. */
    ProxyObserver NONE = (pool, server, outcome) -> { };

    /**
     * One attempt on {@code server} ended: a response head arrived ({@link RequestOutcome#SUCCESS} below
     * 500, {@link RequestOutcome#SERVER_5XX} from 500), or the connection failed ({@link
     * RequestOutcome#GATEWAY_FAILURE}: refused, reset, timeout).
     */
    void serverOutcome(PoolRuntime pool, Server server, RequestOutcome outcome);
}
