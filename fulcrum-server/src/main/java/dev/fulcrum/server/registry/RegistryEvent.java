package dev.fulcrum.server.registry;

import java.time.Instant;

/**
 * Something that happened to a pool or server, as the events stream, alerts and logs report it.
 * {@code type} uses the admin API's names ({@code server-added}, {@code server-down}, ...);
 * {@code server} is "" for pool-wide events.
 */
public record RegistryEvent(Instant at, String type, String pool, String server, String detail) {
}
