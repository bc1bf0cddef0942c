package dev.fulcrum.server.ha;

import dev.fulcrum.linux.Privileges;

import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The interface {@code ha.interface} names, as the speaker needs it: index, MAC, and this host's
 * primary IPv4 address there (the adverts' source and the tie-break between equal priorities;
 * never one of the virtual IPs, which a killed instance may have left behind).
 */
record HaInterface(String name, int index, byte[] mac, Inet4Address primaryAddress) {

    /** Whether the interface is up and has a carrier (IFF_UP and IFF_RUNNING); false when it is gone. */
    boolean isRunning() {
        try {
            NetworkInterface now = NetworkInterface.getByIndex(index);
            return now != null && now.isUp();
        } catch (SocketException e) {
            return false;
        }
    }

    /**
     * Why {@code ha} cannot run on this host, in one line, or empty: not Linux, missing
     * capabilities, unknown interface, no IPv4 address on it.
     */
    static Optional<String> problem(String interfaceName, Collection<VirtualIp> virtualIps) {
        if (!Privileges.isLinux()) {
            return Optional.of("ha needs Linux; this is " + System.getProperty("os.name"));
        }
        List<String> missing = Privileges.missingNetworkCapabilities();
        if (!missing.isEmpty()) {
            return Optional.of("ha needs root, or CAP_NET_RAW and CAP_NET_ADMIN; this process lacks "
                    + String.join(" and ", missing));
        }
        try {
            find(interfaceName, virtualIps);
            return Optional.empty();
        } catch (IllegalStateException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** @throws IllegalStateException with a one-line reason */
    static HaInterface find(String interfaceName, Collection<VirtualIp> virtualIps) {
        NetworkInterface nic;
        try {
            nic = NetworkInterface.getByName(interfaceName);
        } catch (SocketException e) {
            throw new IllegalStateException("ha.interface: cannot read interface " + interfaceName + ": "
                    + e.getMessage());
        }
        if (nic == null) {
            throw new IllegalStateException("ha.interface: no network interface " + interfaceName + " on this host");
        }
        byte[] mac;
        try {
            mac = nic.getHardwareAddress();
        } catch (SocketException e) {
            mac = null;
        }
        if (mac == null || mac.length != 6) {
            throw new IllegalStateException("ha.interface: " + interfaceName + " has no Ethernet address");
        }
        Inet4Address primary = nic.inetAddresses()
                .filter(a -> a instanceof Inet4Address)
                .map(a -> (Inet4Address) a)
                .filter(a -> virtualIps.stream().noneMatch(v -> v.address().equals(a)))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("ha.interface: " + interfaceName
                        + " has no IPv4 address of its own (the adverts' source)"));
        return new HaInterface(interfaceName, nic.getIndex(), mac, primary);
    }
}
