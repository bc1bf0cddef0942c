package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * The warning for TLS to a server that fails: one line per server and reason, not one per
 * connection, so a pool whose CA is wrong does not write a line for every request it gets. The
 * line comes again when the reason changes, or after the server answered over TLS (not merely
 * completed a handshake: under TLS 1.3 a server refuses a client certificate after it).
 * Servers are held weakly (a removed one is forgotten). Thread-safe: every event loop reports here.
 */
final class TlsFailureLog {

    private static final Logger log = LoggerFactory.getLogger(TlsFailureLog.class);
    private static final Map<Server, String> lastReason = Collections.synchronizedMap(new WeakHashMap<>());

    private TlsFailureLog() {
    }

    /** TLS with {@code server} of {@code pool} failed: {@code what} ("TLS handshake failed") and why. */
    static void failed(String pool, Server server, String what, String reason) {
        String previous = lastReason.put(server, reason);
        if (Objects.equals(previous, reason)) {
            log.debug("pool {}: server {}: {}: {} (again)", pool, server.id(), what, reason);
        } else {
            log.warn("pool {}: server {}: {}: {}", pool, server.id(), what, reason);
        }
    }

    /** {@code server} answered over TLS: its next failure is logged again. */
    static void answered(Server server) {
        lastReason.remove(server);
    }
}
