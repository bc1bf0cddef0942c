package dev.fulcrum.core.dsr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A reusable, allocation-free view of one received Ethernet II frame carrying IPv4: {@link #parse}
 * reads the headers in place (no copy) and fills this object's fields, which stay valid until the
 * next {@code parse}. One instance per forwarder thread; not thread-safe.
 *
 * <p>What is accepted, and why:
 * <ul>
 *   <li>Ethernet II with EtherType 0x0800 right after the MAC addresses. Any other EtherType is
 *       {@link PacketResult#NOT_IPV4}; an in-frame 802.1Q/802.1ad tag is
 *       {@link PacketResult#VLAN_TAGGED} (Linux strips the tag before a packet socket sees the
 *       frame, so a tag here is QinQ or traffic of another VLAN; DSR serves the untagged network of
 *       its interface — bind the socket to the VLAN interface, e.g. {@code eth0.100}, instead).</li>
 *   <li>IPv4 with a sane header length (options allowed) and a total length that fits in the frame
 *       (Ethernet padding after it is fine). The IP header checksum is not checked: the packet is
 *       passed on unchanged and the server's kernel checks it.</li>
 *   <li>For TCP and UDP the ports are read when the packet carries them: unfragmented packets and
 *       first fragments, which must hold at least 8 bytes of transport header.</li>
 * </ul>
 *
 * <p><b>Fragments.</b> Only the first fragment carries the ports, so every fragmented packet (MF set
 * or a non-zero offset) is keyed by addresses and protocol alone — ports 0 in {@link #keyLow()} —
 * as LVS and Katran do: all fragments of one datagram then reach the same server, which reassembles
 * it. The price: a flow that sends some datagrams fragmented and some not may see the two kinds on
 * different servers. TCP (DF set, MSS-sized) and QUIC (DF set) do not fragment; it matters for
 * large-datagram UDP only.
 *
 * <p><b>ICMP errors</b> (destination unreachable, time exceeded) quote the head of the packet they
 * are about: its IP header and first 8 bytes, which hold the ports. When that quoted packet is TCP
 * or UDP, {@link #hasQuotedFlow()} is true and {@link #quotedKeyHigh()} / {@link #quotedKeyLow()}
 * give the key of the flow it belongs to, seen from the client's side. For DSR the quoted packet is
 * one a server sent from the virtual IP to the client (a router on the way could not forward it,
 * "fragmentation needed" for path MTU discovery above all), so the error belongs with that server.
 */
public final class Ipv4Frame {

    /** Destination MAC, source MAC, EtherType. */
    public static final int ETHERNET_HEADER_LENGTH = 14;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMP = 1;

    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_VLAN = 0x8100;
    static final int ETHERTYPE_QINQ = 0x88A8;
    private static final int MIN_IP_HEADER = 20;
    /** Bytes of transport header a first fragment must carry: the ports and UDP's whole header. */
    private static final int MIN_TRANSPORT_HEADER = 8;
    /** TCP's flags byte, from the start of its header. */
    private static final int TCP_FLAGS = 13;
    private static final int TCP_SYN = 0x02;
    private static final int TCP_ACK = 0x10;
    private static final int MORE_FRAGMENTS = 0x2000;
    private static final int FRAGMENT_OFFSET = 0x1FFF;
    private static final int ICMP_DESTINATION_UNREACHABLE = 3;
    private static final int ICMP_TIME_EXCEEDED = 11;
    /** Type, code, checksum and 4 bytes that depend on the type (the next-hop MTU, ...). */
    private static final int ICMP_HEADER = 8;

    private PacketResult failure = PacketResult.MALFORMED;
    private long destinationMac;
    private int sourceAddress;
    private int destinationAddress;
    private int protocol;
    private int sourcePort;
    private int destinationPort;
    private boolean fragmented;
    private boolean hasPorts;
    /** TCP's flags when the packet holds them, else 0. */
    private int tcpFlags;
    private int packetEnd;
    private boolean hasQuotedFlow;
    private int quotedSourceAddress;
    private int quotedDestinationAddress;
    private int quotedSourcePort;
    private int quotedDestinationPort;
    private int quotedProtocol;

    /**
     * Reads the frame in {@code frame[start, end)} (absolute indices; the buffer's position and
     * limit are not used or changed).
     *
     * @param frame a big-endian buffer (the default order, that of the wire)
     * @return true when the frame is well-formed IPv4 (any protocol); false with
     *         {@link #failure()} telling why
     * @throws IllegalArgumentException when the buffer is little-endian or the range lies outside it
     */
    public boolean parse(ByteBuffer frame, int start, int end) {
        if (frame.order() != ByteOrder.BIG_ENDIAN) {
            throw new IllegalArgumentException("frame buffers must be big-endian");
        }
        if (start < 0 || end > frame.limit() || start > end) {
            throw new IllegalArgumentException("frame [" + start + ", " + end + ") outside the buffer's [0, " + frame.limit() + ")");
        }
        if (end - start < ETHERNET_HEADER_LENGTH) {
            return fail(PacketResult.MALFORMED);
        }
        destinationMac = MacAddress.read(frame, start);
        int etherType = frame.getShort(start + 12) & 0xFFFF;
        if (etherType != ETHERTYPE_IPV4) {
            return fail(etherType == ETHERTYPE_VLAN || etherType == ETHERTYPE_QINQ
                    ? PacketResult.VLAN_TAGGED : PacketResult.NOT_IPV4);
        }
        int ip = start + ETHERNET_HEADER_LENGTH;
        if (end - ip < MIN_IP_HEADER) {
            return fail(PacketResult.MALFORMED);
        }
        int versionAndLength = frame.get(ip) & 0xFF;
        int headerLength = (versionAndLength & 0x0F) * 4;
        int totalLength = frame.getShort(ip + 2) & 0xFFFF;
        if (versionAndLength >>> 4 != 4 || headerLength < MIN_IP_HEADER
                || totalLength < headerLength || totalLength > end - ip) {
            return fail(PacketResult.MALFORMED);
        }
        packetEnd = ip + totalLength;
        int fragment = frame.getShort(ip + 6) & 0xFFFF;
        int offset = fragment & FRAGMENT_OFFSET;
        fragmented = offset != 0 || (fragment & MORE_FRAGMENTS) != 0;
        protocol = frame.get(ip + 9) & 0xFF;
        sourceAddress = frame.getInt(ip + 12);
        destinationAddress = frame.getInt(ip + 16);
        hasPorts = offset == 0 && (protocol == TCP || protocol == UDP);
        hasQuotedFlow = protocol == ICMP && !fragmented && readQuotedFlow(frame, ip + headerLength, packetEnd);
        if (hasPorts) {
            int transport = ip + headerLength;
            if (totalLength - headerLength < MIN_TRANSPORT_HEADER) {
                return fail(PacketResult.MALFORMED);
            }
            sourcePort = frame.getShort(transport) & 0xFFFF;
            destinationPort = frame.getShort(transport + 2) & 0xFFFF;
            tcpFlags = protocol == TCP && totalLength - headerLength > TCP_FLAGS
                    ? frame.get(transport + TCP_FLAGS) & 0xFF : 0;
        } else {
            sourcePort = 0;
            destinationPort = 0;
            tcpFlags = 0;
        }
        return true;
    }

    /**
     * Reads the packet an ICMP error quotes: an IPv4 header and at least the 8 bytes that hold TCP's
     * or UDP's ports, of a packet that was not a later fragment. False for any other ICMP message.
     */
    private boolean readQuotedFlow(ByteBuffer frame, int icmp, int end) {
        if (end - icmp < ICMP_HEADER + MIN_IP_HEADER + MIN_TRANSPORT_HEADER) {
            return false;
        }
        int type = frame.get(icmp) & 0xFF;
        if (type != ICMP_DESTINATION_UNREACHABLE && type != ICMP_TIME_EXCEEDED) {
            return false;
        }
        int quoted = icmp + ICMP_HEADER;
        int versionAndLength = frame.get(quoted) & 0xFF;
        int headerLength = (versionAndLength & 0x0F) * 4;
        int quotedProtocolField = frame.get(quoted + 9) & 0xFF;
        if (versionAndLength >>> 4 != 4 || headerLength < MIN_IP_HEADER
                || end - quoted < headerLength + MIN_TRANSPORT_HEADER
                || (frame.getShort(quoted + 6) & FRAGMENT_OFFSET) != 0
                || (quotedProtocolField != TCP && quotedProtocolField != UDP)) {
            return false;
        }
        quotedProtocol = quotedProtocolField;
        quotedSourceAddress = frame.getInt(quoted + 12);
        quotedDestinationAddress = frame.getInt(quoted + 16);
        quotedSourcePort = frame.getShort(quoted + headerLength) & 0xFFFF;
        quotedDestinationPort = frame.getShort(quoted + headerLength + 2) & 0xFFFF;
        return true;
    }

    private boolean fail(PacketResult why) {
        failure = why;
        return false;
    }

    /** Why the last {@link #parse} returned false. */
    public PacketResult failure() {
        return failure;
    }

    public long destinationMac() {
        return destinationMac;
    }

    /** The IPv4 source address as a big-endian int ({@code 10.0.0.1} is {@code 0x0A000001}). */
    public int sourceAddress() {
        return sourceAddress;
    }

    public int destinationAddress() {
        return destinationAddress;
    }

    public int protocol() {
        return protocol;
    }

    /** The index just past the IP packet (absolute): where Ethernet padding, if any, starts. */
    public int packetEnd() {
        return packetEnd;
    }

    /** True for TCP and UDP packets that carry their ports: unfragmented, or a first fragment. */
    public boolean hasPorts() {
        return hasPorts;
    }

    /** The source port, when {@link #hasPorts()}; else 0. */
    public int sourcePort() {
        return sourcePort;
    }

    /** The destination port, when {@link #hasPorts()}; else 0. */
    public int destinationPort() {
        return destinationPort;
    }

    /**
     * True for a TCP packet that opens a connection: SYN set, ACK not (a client's first packet).
     * False for every other packet, and for a TCP packet too short to hold its flags.
     */
    public boolean startsTcpConnection() {
        return (tcpFlags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    }

    /** True for any fragment, the first included (MF set or a non-zero offset). */
    public boolean fragmented() {
        return fragmented;
    }

    /** The flow key's first half: the addresses (see {@code FlowKey}). */
    public long keyHigh() {
        return FlowKey.high(sourceAddress, destinationAddress);
    }

    /** The flow key's second half: ports (0 for fragments) and protocol. */
    public long keyLow() {
        return fragmented ? FlowKey.low(0, 0, protocol) : FlowKey.low(sourcePort, destinationPort, protocol);
    }

    /** True for an ICMP error that quotes the head of a TCP or UDP packet (see the class comment). */
    public boolean hasQuotedFlow() {
        return hasQuotedFlow;
    }

    /** The source address of the quoted packet (for DSR: the virtual IP), when {@link #hasQuotedFlow()}. */
    public int quotedSourceAddress() {
        return quotedSourceAddress;
    }

    /** The source port of the quoted packet (for DSR: the service's port), when {@link #hasQuotedFlow()}. */
    public int quotedSourcePort() {
        return quotedSourcePort;
    }

    /**
     * The first half of the key of the flow the quoted packet belongs to, seen from the other end
     * (the quoted packet went server → client; the key is that of client → server), so it is the
     * key {@link #keyHigh()} gave the flow's own packets.
     */
    public long quotedKeyHigh() {
        return FlowKey.high(quotedDestinationAddress, quotedSourceAddress);
    }

    /** The second half of the quoted flow's key, client → server (see {@link #quotedKeyHigh()}). */
    public long quotedKeyLow() {
        return FlowKey.low(quotedDestinationPort, quotedSourcePort, quotedProtocol);
    }

    /** The pinned flow hash of {@link #keyHigh()} and {@link #keyLow()}. */
    public long flowHash() {
        return FlowKey.hash(keyHigh(), keyLow());
    }
}
