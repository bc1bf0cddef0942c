package dev.fulcrum.core.dsr;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.Set;

/**
 * What one DSR forwarder needs to know, from the {@code dsr:} config section and the interface.
 *
 * @param virtualIp        {@code dsr.virtual-ip}: packets to it are forwarded
 * @param ports            {@code dsr.ports}: destination ports forwarded, 1..65535, at least one
 * @param interfaceMac     the MAC of {@code dsr.interface}: frames must be addressed to it, and
 *                         forwarded frames are sent from it
 * @param mtu              the interface MTU; a frame longer than MTU + 14 that the kernel cannot
 *                         segment is {@link PacketResult#TOO_BIG}
 * @param vnetHeaderOnSend the sending socket has {@code PACKET_VNET_HDR}: a received virtio_net_hdr
 *                         is handed on as it is (the kernel finishes checksums and segments GSO
 *                         frames); false: checksums are finished here and GSO frames dropped
 * @param flowCapacity     flows per forwarder thread, a power of two (32 bytes each)
 * @param tcpIdleTimeout   a TCP flow not seen for this long is forgotten
 * @param udpIdleTimeout   the same for UDP
 */
public record DsrSettings(Inet4Address virtualIp, Set<Integer> ports, long interfaceMac, int mtu,
                          boolean vnetHeaderOnSend, int flowCapacity, Duration tcpIdleTimeout,
                          Duration udpIdleTimeout) {

    /** 2^18 flows per forwarder thread: 8 MiB. A forgotten flow is hashed to the same server again. */
    public static final int DEFAULT_FLOW_CAPACITY = 1 << 18;
    /** As LVS's established-TCP timeout. Only the client's half of a TCP flow is seen, so no FIN tracking. */
    public static final Duration DEFAULT_TCP_IDLE_TIMEOUT = Duration.ofMinutes(15);
    /** As LVS's UDP timeout. */
    public static final Duration DEFAULT_UDP_IDLE_TIMEOUT = Duration.ofMinutes(5);

    public DsrSettings {
        ports = Set.copyOf(ports);
        if (ports.isEmpty()) {
            throw new IllegalArgumentException("DSR needs at least one port");
        }
        for (int port : ports) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is outside 1..65535");
            }
        }
        if (!MacAddress.isKnown(interfaceMac)) {
            throw new IllegalArgumentException("the interface MAC must be known");
        }
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("MTU " + mtu + " is outside 68..65535");
        }
        if (tcpIdleTimeout.isNegative() || tcpIdleTimeout.isZero()
                || udpIdleTimeout.isNegative() || udpIdleTimeout.isZero()) {
            throw new IllegalArgumentException("idle timeouts must be positive");
        }
    }

    /** Settings with the default flow capacity and idle timeouts. */
    public static DsrSettings of(Inet4Address virtualIp, Set<Integer> ports, long interfaceMac, int mtu,
                                 boolean vnetHeaderOnSend) {
        return new DsrSettings(virtualIp, ports, interfaceMac, mtu, vnetHeaderOnSend, DEFAULT_FLOW_CAPACITY,
                DEFAULT_TCP_IDLE_TIMEOUT, DEFAULT_UDP_IDLE_TIMEOUT);
    }

    /** The virtual IP as a big-endian int, as {@link Ipv4Frame} reads addresses. */
    int virtualIpBits() {
        byte[] b = virtualIp.getAddress();
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }
}
