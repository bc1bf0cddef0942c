package dev.fulcrum.core.pool;

/**
 * What the active health checks say of a server, alone: one of the separate flags a
 * {@link Server}'s state is derived from ({@link ServerState#of}). Only the health checker sets it;
 * outlier ejection and drains are flags of their own, so neither overwrites this verdict.
 */
public enum CheckState {
    /** Registered, no check has passed yet. */
    CHECKING,
    /** The checks pass (or the pool is not checked). */
    UP,
    /** The checks failed. */
    DOWN
}
