package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.PoolSnapshot;
import dev.fulcrum.core.pool.Server;

import java.util.HexFormat;

/**
 * The value of a pool's sticky cookie: an opaque token naming one server, so that a client that
 * sends it back is pinned to that server while it stays in rotation. The value is 16 lower-case hex
 * digits of {@code Hashing.hash64(server.id())}: stable across restarts and balancer instances
 * (every instance sets and honours the same value), and it does not spell out the server's
 * address (though it is an unsalted hash, so anyone able to guess addresses can confirm one).
 *
 * <p>Stateless; thread-safe.
 */
public final class StickyCookie {

    private static final HexFormat HEX = HexFormat.of();

    private StickyCookie() {
    }

    /** The cookie value that pins a client to {@code server}. */
    public static String valueFor(Server server) {
        return HEX.toHexDigits(Hashing.hash64(server.id()));
    }

    /**
     * The server in rotation in {@code snapshot} that {@code cookieValue} names, or {@code null} when
     * the value is malformed or names no server in rotation (gone, down, draining, weight 0): the
     * caller then balances normally and sets a fresh cookie. O(servers), no allocation.
     */
    public static Server find(PoolSnapshot snapshot, String cookieValue) {
        if (cookieValue == null || cookieValue.length() != 16) {
            return null;
        }
        for (int i = 0; i < 16; i++) {
            if (!HexFormat.isHexDigit(cookieValue.charAt(i))) {
                return null;
            }
        }
        long wanted = HexFormat.fromHexDigitsToLong(cookieValue);
        for (WeightedServer ws : snapshot.balancer().servers()) {
            if (Hashing.hash64(ws.server().id()) == wanted) {
                return ws.server();
            }
        }
        return null;
    }
}
