package dev.fulcrum.core.pool;

/**
 * Where a server stands, as the admin API, events and metrics spell it: derived from the server's
 * separate flags by {@link #of}, never stored. Only {@link #UP} servers are in rotation (receive
 * new requests).
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

    /**
     * The state the API, events and metrics show, from a server's separate flags: an operator's
     * drain first, then failing checks (the stronger verdict), then an ejection, then what the
     * checks say. Enabling (clearing {@code draining}) therefore never overrides health. Pure.
     */
    public static ServerState of(boolean draining, CheckState check, boolean ejected) {
        if (draining) {
            return DRAINING;
        }
        return switch (check) {
            case DOWN -> DOWN;
            case CHECKING -> ejected ? EJECTED : CHECKING;
            case UP -> ejected ? EJECTED : UP;
        };
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
