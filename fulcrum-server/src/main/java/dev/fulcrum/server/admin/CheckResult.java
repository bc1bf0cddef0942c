package dev.fulcrum.server.admin;

import java.time.Instant;

/**
 * The last active health check of a server, as SERVER's {@code lastCheck} shows it:
 * {@code {"at":"2026-11-24T03:00:00Z","ok":true,"detail":"200 in 2ms"}}. Immutable.
 */
public record CheckResult(Instant at, boolean ok, String detail) {
}
