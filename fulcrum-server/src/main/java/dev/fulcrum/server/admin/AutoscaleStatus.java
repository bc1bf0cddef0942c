package dev.fulcrum.server.admin;

/**
 * One pool's auto-scaling state for the dashboard: servers now against min/max, the watched
 * metric's current value against its thresholds, and the last action ("" when none yet).
 *
 * @param value the metric's current value, null before the first reading
 */
public record AutoscaleStatus(String pool, int servers, int minServers, int maxServers, String metric,
                              Double value, double scaleOutAbove, double scaleInBelow, String lastAction) {
}
