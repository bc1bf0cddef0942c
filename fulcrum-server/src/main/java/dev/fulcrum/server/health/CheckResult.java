package dev.fulcrum.server.health;

import java.time.Instant;

/**
 * The outcome of one active health check, as the admin API shows it under {@code lastCheck}:
 * {@code {"at":"…","ok":true,"detail":"200 in 2ms"}}. {@code detail} on failure is what a
 * down event ends with: {@code connection refused}, {@code timeout after 1s}, {@code status 503}.
 */
public record CheckResult(Instant at, boolean ok, String detail) {
}
