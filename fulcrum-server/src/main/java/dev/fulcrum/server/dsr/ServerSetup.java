package dev.fulcrum.server.dsr;

import dev.fulcrum.linux.InterfaceAddresses;
import dev.fulcrum.linux.NativeException;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a server behind Direct Server Return needs, as LVS direct routing does: the virtual IP on
 * its loopback (so it accepts packets addressed to it and answers from it) and ARP settings so it
 * never answers ARP for that address on the network ({@code arp_ignore=1}: reply only for
 * addresses of the interface asked on; {@code arp_announce=2}: never announce the VIP as a source).
 * {@link #commands} is the shell form an operator can read or paste; {@link #apply} does the same
 * through netlink and {@code /proc/sys} (root needed), idempotently.
 */
public final class ServerSetup {

    private static final Path SYSCTL = Path.of("/proc/sys/net/ipv4/conf");

    private final Inet4Address virtualIp;

    public ServerSetup(Inet4Address virtualIp) {
        this.virtualIp = virtualIp;
    }

    /** The commands, one per line, in the order {@link #apply} runs them. */
    public List<String> commands() {
        return List.of(
                "sysctl -w net.ipv4.conf.all.arp_ignore=1",
                "sysctl -w net.ipv4.conf.all.arp_announce=2",
                "sysctl -w net.ipv4.conf.lo.arp_ignore=1",
                "sysctl -w net.ipv4.conf.lo.arp_announce=2",
                "ip addr add " + virtualIp.getHostAddress() + "/32 dev lo");
    }

    /**
     * Applies {@link #commands}; an address already there is fine.
     *
     * @return one line per step, saying what it did
     * @throws IOException with the step that failed (e.g. not root)
     */
    public List<String> apply() throws IOException {
        sysctl("all", "arp_ignore", "1");
        sysctl("all", "arp_announce", "2");
        sysctl("lo", "arp_ignore", "1");
        sysctl("lo", "arp_announce", "2");
        boolean added;
        try (InterfaceAddresses addresses = InterfaceAddresses.open()) {
            added = addresses.add(loopbackIndex(), virtualIp, 32);
        } catch (NativeException e) {
            throw new IOException("ip addr add " + virtualIp.getHostAddress() + "/32 dev lo: " + e.getMessage(), e);
        }
        return List.of("arp_ignore=1 and arp_announce=2 set for all and lo",
                virtualIp.getHostAddress() + "/32 " + (added ? "added to" : "already on") + " lo");
    }

    private static void sysctl(String device, String key, String value) throws IOException {
        Path file = SYSCTL.resolve(device).resolve(key);
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("sysctl -w net.ipv4.conf." + device + "." + key + "=" + value + ": "
                    + (e instanceof java.nio.file.AccessDeniedException ? "permission denied (run as root)"
                    : e.getMessage()), e);
        }
    }

    /**
     * The loopback's index: always 1 on Linux (created first in every network namespace). Java's
     * interface list would miss a loopback that is down or has no IPv4 address yet.
     */
    private static int loopbackIndex() {
        return 1;
    }
}
