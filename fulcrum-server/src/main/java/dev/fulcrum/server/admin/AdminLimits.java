package dev.fulcrum.server.admin;

import java.time.Duration;

/**
 * The bounds that keep the admin side small whatever its clients do (docs/admin-api.md, Limits).
 * Immutable.
 *
 * @param maxBody        the largest request body, in bytes (413 above); bodies are taken only by
 *                       POST, PUT, PATCH and DELETE — a GET with a body is 413 too
 * @param maxConnections admin connections open at once (events streams included); one more is
 *                       answered 503 and closed
 * @param headerTimeout  a request head must be complete this long after its first byte, or after the
 *                       connection opened (408 and close; a connection that sent nothing is closed)
 * @param bodyTimeout    a request body must be complete this long after its head (408 and close)
 * @param idleTimeout    a kept-alive connection with no request this long is closed; an events
 *                       stream or a request being answered is never idle
 * @param linger         after a refusal (401, 403, 408, 413) the connection stops sending and reads
 *                       (and drops) what the client still sends for at most this long, so the client
 *                       reads the answer instead of a reset, then closes
 */
record AdminLimits(int maxBody, int maxConnections, Duration headerTimeout, Duration bodyTimeout,
                   Duration idleTimeout, Duration linger) {

    static final AdminLimits DEFAULT = new AdminLimits(1024 * 1024, 256, Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(2));
}
