package dev.fulcrum.core.health;

/**
 * What one proxied request (or TCP session) told about its server, as passive outlier detection
 * counts it.
 */
public enum RequestOutcome {
    /** A response below 500 (or a TCP session that connected). Resets both streaks. */
    SUCCESS,
    /**
     * The server could not be reached or dropped us: connect refused, connection reset, connect or
     * response timeout. The client would have seen a 502/504, so it counts as a 5xx too.
     */
    GATEWAY_FAILURE,
    /** The server answered 500..599 itself. */
    SERVER_5XX
}
