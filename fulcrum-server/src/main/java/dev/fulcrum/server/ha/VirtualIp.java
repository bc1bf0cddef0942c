package dev.fulcrum.server.ha;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** One {@code ha.virtual-ips} entry: {@code 10.0.0.100/24}. */
record VirtualIp(Inet4Address address, int prefixLength) {

    /** Parses the config's text (already validated by the config loader). */
    static VirtualIp parse(String text) {
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        int prefix = slash < 0 ? 32 : Integer.parseInt(text.substring(slash + 1));
        try {
            return new VirtualIp((Inet4Address) InetAddress.getByName(host), prefix);
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + text, e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength;
    }
}
