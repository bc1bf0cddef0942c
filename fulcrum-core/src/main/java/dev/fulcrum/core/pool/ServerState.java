package dev.fulcrum.core.pool;

/**
 * Where a server stands, as the admin API, events and metrics spell it.
 * Only {@link #UP} servers are in rotation (receive new requests).
 */
public enum ServerState {
    /** Registered, no health check has passed yet. */
    CHECKING("checking"),
    /** In rotation. */
    UP("up"),
    /** Failed its active health checks. */
    DOWN("down"),
    /** Taken out by passive outlier detection for a while. */
    EJECTED("ejected"),
    /** No new requests; in-flight ones finish. */
    DRAINING("draining");

    private final String wireName;

    ServerState(String wireName) {
        this.wireName = wireName;
    }

    /** The lower-case name used in JSON, events and metric labels. */
    public String wireName() {
        return wireName;
    }

    @Override
    public String toString() {
        return wireName;
    }
}
