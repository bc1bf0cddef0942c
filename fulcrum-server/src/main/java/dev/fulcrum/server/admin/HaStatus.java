package dev.fulcrum.server.admin;

import java.util.List;

/**
 * This instance's VRRP state for the dashboard.
 *
 * @param state {@code master}, {@code backup}, {@code fault} or {@code init}
 */
public record HaStatus(String state, int virtualRouterId, int priority, List<String> virtualIps,
                       String networkInterface) {

    public HaStatus {
        virtualIps = List.copyOf(virtualIps);
    }
}
