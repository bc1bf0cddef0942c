package dev.fulcrum.server.net;

import dev.fulcrum.linux.Privileges;

import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * A network interface as HA and DSR need it: index, MAC, and this host's primary IPv4 address
 * there (VRRP adverts' source and tie-break; never one of {@code excluded}, the virtual IPs a killed
 * instance may have left behind). {@code key} names the config key in messages ({@code ha.interface}).
 */
public record LinkInterface(String name, int index, byte[] mac, Inet4Address primaryAddress) {

    /** Whether the interface is up and has a carrier (IFF_UP and IFF_RUNNING); false when it is gone. */
    public boolean isRunning() {
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
    public static Optional<String> problem(String feature, String key, String interfaceName,
                                           Collection<Inet4Address> excluded) {
        if (!Privileges.isLinux()) {
            return Optional.of(feature + " needs Linux; this is " + System.getProperty("os.name"));
        }
        List<String> missing = Privileges.missingNetworkCapabilities();
        if (!missing.isEmpty()) {
            return Optional.of(feature + " needs root, or CAP_NET_RAW and CAP_NET_ADMIN; this process lacks "
                    + String.join(" and ", missing));
        }
        try {
            find(key, interfaceName, excluded);
            return Optional.empty();
        } catch (IllegalStateException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** @throws IllegalStateException with a one-line reason */
    public static LinkInterface find(String key, String interfaceName, Collection<Inet4Address> excluded) {
        NetworkInterface nic;
        try {
            nic = NetworkInterface.getByName(interfaceName);
        } catch (SocketException e) {
            throw new IllegalStateException(key + ": cannot read interface " + interfaceName + ": "
                    + e.getMessage());
        }
        if (nic == null) {
            throw new IllegalStateException(key + ": no network interface " + interfaceName + " on this host");
        }
        byte[] mac;
        try {
            mac = nic.getHardwareAddress();
        } catch (SocketException e) {
            mac = null;
        }
        if (mac == null || mac.length != 6) {
            throw new IllegalStateException(key + ": " + interfaceName + " has no Ethernet address");
        }
        Inet4Address primary = nic.inetAddresses()
                .filter(a -> a instanceof Inet4Address)
                .map(a -> (Inet4Address) a)
                .filter(a -> !excluded.contains(a))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(key + ": " + interfaceName
                        + " has no IPv4 address of its own (the adverts' source)"));
        return new LinkInterface(interfaceName, nic.getIndex(), mac, primary);
    }
}
