package dev.fulcrum.server.registry;

import java.time.Instant;

/**
 * A {@link PoolEvent} as the events stream, alerts' logs and tests read it: names instead of
 * objects. {@code type} uses the admin API's names ({@code server-added}, {@code server-down},
 * ...); {@code pool} and {@code server} are "" when the event has none. Made by
 * {@link PoolEvent#wire()}; listeners receive the typed event, not this.
 */
public record RegistryEvent(Instant at, String type, String pool, String server, String detail) {
}
