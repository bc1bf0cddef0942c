package dev.fulcrum.core.health;

import dev.fulcrum.core.pool.ServerState;

/**
 * One change of a server's health, as the event stream reports it: {@code from} → {@code to},
 * with the reason that becomes the event's detail ({@code 3 checks failed: connection refused},
 * {@code 2 checks passed}). Immutable.
 */
public record HealthTransition(ServerState from, ServerState to, String reason) {
}
