package dev.fulcrum.core.dsr;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Pinned frames for the DSR tests, captured from Linux 6.x: a packet socket with PACKET_VNET_HDR in
 * one network namespace, fed through a veth pair (client 02:00:00:00:00:0c, 10.99.0.2) by Python
 * sockets in another, whose neighbour entry sends 10.99.0.100 (the virtual IP) to the balancer's
 * MAC 02:00:00:00:00:1b. The veth offloads checksums, so the TCP and UDP frames carry the partial
 * checksum (pseudo-header sum only) and a virtio_net_hdr asking to finish it.
 */
final class Frames {

    static final long CLIENT_MAC = 0x02_00_00_00_00_0cL;
    static final long BALANCER_MAC = 0x02_00_00_00_00_1bL;
    static final Inet4Address VIP = ip("10.99.0.100");
    static final Inet4Address CLIENT = ip("10.99.0.2");

    private static final HexFormat HEX = HexFormat.of();

    /** virtio_net_hdr of the SYN: NEEDS_CSUM, no GSO, csum_start 34, csum_offset 16 (little-endian). */
    static final String SYN_VNET_HEADER = "01000000000022001000";
    /**
     * A TCP SYN 10.99.0.2:40000 → 10.99.0.100:80 (MSS 1460, SACK, timestamps, window scale 10);
     * TCP checksum field 0x155a is the partial one.
     */
    static final String SYN = "02000000001b02000000000c0800"
            + "4500003c0ff440004006159d0a6300020a630064"
            + "9c400050d2a5662600000000a002faf0155a0000020405b40402080a90045d2d000000000103030a";
    /** virtio_net_hdr of the UDP datagram: NEEDS_CSUM, csum_start 34, csum_offset 6. */
    static final String UDP_VNET_HEADER = "01000000000022000600";
    /** UDP 10.99.0.2:40001 → 10.99.0.100:80, "hello dsr"; checksum field 0x154e is the partial one. */
    static final String UDP = "02000000001b02000000000c0800"
            + "450000256a7e40004011bb1e0a6300020a630064"
            + "9c4100500011154e68656c6c6f20647372";
    /**
     * The IP headers of a 1792-byte UDP datagram 10.99.0.2:40001 → 10.99.0.100:80 (bytes
     * {@code i & 0xff}), fragmented by the sender at MTU 1500: first fragment (MF, offset 0, UDP
     * header with the kernel's full checksum 0xfe62, data 0..1471) and second (offset 1480, data
     * 1472..1791). No virtio_net_hdr flags: the kernel finished this checksum itself.
     */
    static final String FIRST_FRAGMENT_HEADERS = "02000000001b02000000000c0800"
            + "450005dc6a7f20004011d5660a6300020a630064"
            + "9c4100500708fe62";
    static final String SECOND_FRAGMENT_HEADERS = "02000000001b02000000000c0800"
            + "450001546a7f00b94011f9350a6300020a630064";
    /** ARP who-has 10.99.0.7 tell 10.99.0.2, broadcast. */
    static final String ARP = "ffffffffffff02000000000c0806000108000604000102000000000c0a6300020000000000000a630007";
    /** An IPv6 MLDv2 report the client sent on its own. */
    static final String IPV6 = "33330000001602000000000c86dd"
            + "6000000000240001fe80000000000000000000fffe00000c"
            + "ff0200000000000000000000000000163a000502000001008f0071f10000000104000000ff0200000000000000000001ff00000c";

    private Frames() {
    }

    static byte[] hex(String hex) {
        return HEX.parseHex(hex);
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    static String hex(ByteBuffer buffer, int from, int to) {
        byte[] out = new byte[to - from];
        buffer.get(from, out);
        return HEX.formatHex(out);
    }

    static byte[] firstFragment() {
        return concat(hex(FIRST_FRAGMENT_HEADERS), pattern(0, 1472));
    }

    static byte[] secondFragment() {
        return concat(hex(SECOND_FRAGMENT_HEADERS), pattern(1472, 1792));
    }

    /** The bytes {@code i & 0xff} for i in [from, to): the fragmented datagram's data. */
    static byte[] pattern(int from, int to) {
        byte[] out = new byte[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = (byte) i;
        }
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The pinned SYN from another client address and port (checksums not adjusted: no one checks them here). */
    static byte[] synFrom(int clientAddress, int clientPort) {
        byte[] frame = hex(SYN);
        ByteBuffer b = ByteBuffer.wrap(frame);
        b.putInt(26, clientAddress);
        b.putShort(34, (short) clientPort);
        return frame;
    }

    /** A router on the client's side of the network, which sends ICMP errors. */
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final int ICMP_FRAGMENTATION_NEEDED = 3 << 8 | 4;
    static final int ICMP_ECHO_REQUEST = 8 << 8;

    /**
     * An ICMP message from a router (10.99.0.1) to the virtual IP, as a router sends it about a
     * server's TCP segment {@code quotedSource:quotedSourcePort → clientAddress:clientPort} (1500
     * bytes, DF) it could not forward: type and code as {@code typeAndCode} (type << 8 | code),
     * next-hop MTU 1400, quoting the segment's IP header and first 8 bytes (RFC 792). Checksums
     * are not filled in: nothing here checks them.
     */
    static byte[] icmpAbout(int typeAndCode, int quotedSource, int quotedSourcePort, int clientAddress, int clientPort) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 20 + 8);
        MacAddress.write(b, 0, BALANCER_MAC);
        MacAddress.write(b, 6, ROUTER_MAC);
        b.putShort(12, (short) 0x0800);
        b.put(14, (byte) 0x45).putShort(16, (short) (20 + 8 + 28)).put(22, (byte) 64).put(23, (byte) 1);
        b.putInt(26, 0x0a630001).putInt(30, bits(VIP));
        b.putShort(34, (short) typeAndCode).putShort(40, (short) 1400);
        b.put(42, (byte) 0x45).putShort(44, (short) 1500).putShort(48, (short) 0x4000).put(50, (byte) 63)
                .put(51, (byte) 6).putInt(54, quotedSource).putInt(58, clientAddress);
        b.putShort(62, (short) quotedSourcePort).putShort(64, (short) clientPort).putInt(66, 0x12345678);
        return b.array();
    }

    /** The frame with an 802.1Q tag (VLAN {@code vid}) inserted after the MAC addresses. */
    static byte[] withVlanTag(byte[] frame, int vid) {
        byte[] out = new byte[frame.length + 4];
        System.arraycopy(frame, 0, out, 0, 12);
        out[12] = (byte) 0x81;
        out[13] = 0x00;
        out[14] = (byte) (vid >>> 8);
        out[15] = (byte) vid;
        System.arraycopy(frame, 12, out, 16, frame.length - 12);
        return out;
    }

    static int bits(Inet4Address address) {
        return ByteBuffer.wrap(address.getAddress()).getInt();
    }

    static Inet4Address ip(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The TCP or UDP checksum of an IPv4 packet, computed the textbook way (RFC 793/768: pseudo-header
     * then the segment, 16 bits at a time, checksum field counted as 0), independently of
     * {@link InternetChecksum}.
     */
    static int referenceChecksum(byte[] frame, int ipStart) {
        int headerLength = (frame[ipStart] & 0x0F) * 4;
        int totalLength = u16(frame, ipStart + 2);
        int protocol = frame[ipStart + 9] & 0xFF;
        int segment = ipStart + headerLength;
        int segmentLength = totalLength - headerLength;
        int field = segment + (protocol == 6 ? 16 : 6);
        long sum = u16(frame, ipStart + 12) + u16(frame, ipStart + 14) + u16(frame, ipStart + 16)
                + u16(frame, ipStart + 18) + protocol + segmentLength;
        for (int i = 0; i < segmentLength; i += 2) {
            int at = segment + i;
            if (at == field) {
                continue;
            }
            int hi = frame[at] & 0xFF;
            int lo = i + 1 < segmentLength ? frame[at + 1] & 0xFF : 0;
            sum += hi << 8 | lo;
        }
        while (sum > 0xFFFF) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        int checksum = (int) ~sum & 0xFFFF;
        return checksum == 0 ? 0xFFFF : checksum;
    }

    static int u16(byte[] bytes, int at) {
        return (bytes[at] & 0xFF) << 8 | (bytes[at + 1] & 0xFF);
    }
}
