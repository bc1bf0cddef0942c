package dev.fulcrum.core.dsr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The {@code struct virtio_net_hdr} (10 bytes) that a packet socket with {@code PACKET_VNET_HDR}
 * puts before every received frame and expects before every frame it sends:
 * {@code u8 flags, u8 gso_type, u16 hdr_len, u16 gso_size, u16 csum_start, u16 csum_offset}, the
 * 16-bit fields in the host's byte order (the legacy virtio layout the kernel uses here; little-
 * endian on x86-64 and arm64), {@code csum_start} counted from the start of the Ethernet header.
 *
 * <p>Why DSR needs it: frames sent by local senders through a veth or bridge still carry an
 * unfinished TCP/UDP checksum (checksum offload: {@link #F_NEEDS_CSUM}, the field holds only the
 * pseudo-header sum) and GRO merges segments into frames larger than the MTU ({@code gso_type} set).
 * Forwarded as they are, the first are dropped by the server for a bad checksum and the second fail
 * to send with EMSGSIZE. Two ways out:
 * <ol>
 *   <li>(preferred) open the sending socket with {@code PACKET_VNET_HDR} too and hand the 10 bytes
 *       on unchanged: the kernel finishes the checksum and segments GSO frames (in the NIC when it
 *       can). The DSR rewrite changes no length or offset, so the header stays true.</li>
 *   <li>{@link #completeChecksum}: finish the checksum here, and drop GSO frames, for a sending
 *       socket without the header.</li>
 * </ol>
 * Static methods over a buffer at an absolute index; no allocation.
 */
public final class VnetHeader {

    /** sizeof(struct virtio_net_hdr). */
    public static final int LENGTH = 10;
    /** The transport checksum is partial: finish it from csum_start, store at +csum_offset. */
    public static final int F_NEEDS_CSUM = 1;
    /** Receive side: the checksum was already verified. */
    public static final int F_DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    /** A flag on gso_type, not a type. */
    public static final int GSO_ECN = 0x80;

    private VnetHeader() {
    }

    public static int flags(ByteBuffer buffer, int at) {
        return buffer.get(at) & 0xFF;
    }

    /** The GSO type, {@link #GSO_ECN} included. */
    public static int gsoType(ByteBuffer buffer, int at) {
        return buffer.get(at + 1) & 0xFF;
    }

    public static int headerLength(ByteBuffer buffer, int at) {
        return hostShort(buffer, at + 2);
    }

    public static int gsoSize(ByteBuffer buffer, int at) {
        return hostShort(buffer, at + 4);
    }

    public static int checksumStart(ByteBuffer buffer, int at) {
        return hostShort(buffer, at + 6);
    }

    public static int checksumOffset(ByteBuffer buffer, int at) {
        return hostShort(buffer, at + 8);
    }

    public static boolean needsChecksum(ByteBuffer buffer, int at) {
        return (flags(buffer, at) & F_NEEDS_CSUM) != 0;
    }

    /** True when the frame is several segments merged (GRO) or to be split (GSO). */
    public static boolean isGso(ByteBuffer buffer, int at) {
        return (gsoType(buffer, at) & ~GSO_ECN) != GSO_NONE;
    }

    /** Writes an all-zero header: a plain frame, nothing to finish (for a sender without one on receive). */
    public static void writeNone(ByteBuffer buffer, int at) {
        buffer.putLong(at, 0);
        buffer.putShort(at + 8, (short) 0);
    }

    /**
     * Finishes the frame's partial transport checksum in place when the header says
     * {@link #F_NEEDS_CSUM} (for a sending socket without {@code PACKET_VNET_HDR}); does nothing
     * otherwise. A GSO frame cannot be sent that way at all: check {@link #isGso} first.
     *
     * @param headerAt   the header's index (absolute)
     * @param frameStart the Ethernet header's index (absolute); csum_start counts from here
     * @param packetEnd  the end of the IP packet (absolute), before any Ethernet padding
     * @return false when csum_start / csum_offset point outside the packet (nothing written)
     */
    public static boolean completeChecksum(ByteBuffer buffer, int headerAt, int frameStart, int packetEnd) {
        if (!needsChecksum(buffer, headerAt)) {
            return true;
        }
        int start = frameStart + checksumStart(buffer, headerAt);
        int field = start + checksumOffset(buffer, headerAt);
        if (start < frameStart + Ipv4Frame.ETHERNET_HEADER_LENGTH || field + 2 > packetEnd) {
            return false;
        }
        InternetChecksum.completePartial(buffer, start, field, packetEnd);
        return true;
    }

    /** A 16-bit field in the host's byte order, whatever the buffer's order. */
    private static int hostShort(ByteBuffer buffer, int at) {
        short raw = buffer.getShort(at);
        return (buffer.order() == ByteOrder.nativeOrder() ? raw : Short.reverseBytes(raw)) & 0xFFFF;
    }
}
