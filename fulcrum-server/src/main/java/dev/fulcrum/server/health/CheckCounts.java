package dev.fulcrum.server.health;

/** Active checks of one server since it was registered, by result (metrics' {@code pass}/{@code fail}). */
public record CheckCounts(long passed, long failed) {
}
