package dev.fulcrum.server.dsr;

import java.util.List;

/**
 * What the dashboard and {@code /api/v1/status} show of Direct Server Return: where it listens,
 * how many packets it forwarded and dropped, and each server with its MAC (empty while unknown)
 * and whether it takes new flows.
 */
public record DsrStatus(String virtualIp, List<Integer> ports, String networkInterface, String pool, int forwarders,
                        long forwarded, long dropped, List<Target> servers) {

    public DsrStatus {
        ports = List.copyOf(ports);
        servers = List.copyOf(servers);
    }

    public record Target(String server, String mac, boolean newFlows) {
    }
}
