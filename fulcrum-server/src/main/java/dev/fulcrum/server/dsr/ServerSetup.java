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

    /** One ARP setting: {@code net.ipv4.conf.DEVICE.KEY = VALUE}. */
    private record Sysctl(String device, String key, String value) {
        String command() {
            return "sysctl -w net.ipv4.conf." + device + "." + key + "=" + value;
        }
    }

    private static final List<Sysctl> ARP_SETTINGS = List.of(
            new Sysctl("all", "arp_ignore", "1"), new Sysctl("all", "arp_announce", "2"),
            new Sysctl("lo", "arp_ignore", "1"), new Sysctl("lo", "arp_announce", "2"));

    /** The commands, one per line, in the order {@link #apply} runs them. */
    public List<String> commands() {
        List<String> commands = new java.util.ArrayList<>(ARP_SETTINGS.stream().map(Sysctl::command).toList());
        commands.add(addressCommand());
        return commands;
    }

    private String addressCommand() {
        return "ip addr add " + virtualIp.getHostAddress() + "/32 dev lo";
    }

    /**
     * Applies {@link #commands}; an address already there is fine.
     *
     * @return one line per step, saying what it did
     * @throws IOException with the step that failed (e.g. not root)
     */
    public List<String> apply() throws IOException {
        for (Sysctl setting : ARP_SETTINGS) {
            write(setting);
        }
        boolean added;
        try (InterfaceAddresses addresses = InterfaceAddresses.open()) {
            added = addresses.add(loopbackIndex(), virtualIp, 32);
        } catch (NativeException e) {
            throw new IOException(addressCommand() + ": " + e.getMessage(), e);
        }
        return List.of("arp_ignore=1 and arp_announce=2 set for all and lo",
                virtualIp.getHostAddress() + "/32 " + (added ? "added to" : "already on") + " lo");
    }

    private static void write(Sysctl setting) throws IOException {
        Path file = SYSCTL.resolve(setting.device()).resolve(setting.key());
        try {
            Files.writeString(file, setting.value());
        } catch (IOException e) {
            throw new IOException(setting.command() + ": "
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
