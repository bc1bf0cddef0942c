package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;

import java.util.HexFormat;

/**
 * The value of the sticky cookie ({@code sticky-cookie} of a pool) that names a server: 16 hex
 * digits of {@link Hashing#hash64} of the server's id, so the cookie reveals no address and stays
 * the same across restarts. Stateless and thread-safe.
 *
 * <p>PROVISIONAL copy written on the http branch; the core helper's version replaces it (same
 * signatures and semantics).
 */
public final class StickyCookie {

    private StickyCookie() {
    }

    /** The cookie value that pins a client to {@code server}. */
    public static String valueFor(Server server) {
        return HexFormat.of().toHexDigits(Hashing.hash64(server.id()));
    }

    /** The server in rotation that {@code cookieValue} names, or {@code null} when none does. */
    public static Server find(PoolSnapshot snapshot, String cookieValue) {
        if (cookieValue == null || cookieValue.length() != 16) {
            return null;
        }
        for (WeightedServer ws : snapshot.balancer().servers()) {
            if (valueFor(ws.server()).equals(cookieValue)) {
                return ws.server();
            }
        }
        return null;
    }
}
