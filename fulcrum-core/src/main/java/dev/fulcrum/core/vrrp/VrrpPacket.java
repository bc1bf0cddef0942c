package dev.fulcrum.core.vrrp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One VRRP version 3 ADVERTISEMENT for IPv4 (RFC 5798 §5.1), the VRRP part only: the IP header
 * is the kernel's (protocol 112, TTL 255, destination 224.0.0.18 or a unicast peer).
 *
 * <pre>
 *  byte 0: version (4 bits, = 3) | type (4 bits, = 1 ADVERTISEMENT)
 *  byte 1: virtual router id      byte 2: priority      byte 3: count of IPv4 addresses
 *  bytes 4-5: reserved (4 bits, 0) | max advert interval (12 bits, centiseconds)
 *  bytes 6-7: checksum            bytes 8..: the virtual IPv4 addresses, 4 bytes each
 * </pre>
 *
 * <p>The checksum (§5.2.8) is the Internet one's-complement checksum over the IPv4 pseudo-header
 * (source, destination, a zero byte, protocol 112, the VRRP length as 16 bits) followed by the
 * VRRP message with its checksum field zero; so {@link #encode} and {@link #decode} need the IP
 * source and destination. Priority 0 is a master giving up (graceful stop or fault); 255 is the
 * address owner.
 *
 * <p>Immutable and thread-safe; {@link #decode} never throws on hostile input, it answers an
 * {@link Invalid} with the reason to count.
 */
public record VrrpPacket(int virtualRouterId, int priority, int maxAdvertIntervalCentis,
                         List<Inet4Address> addresses) implements Decoded {

    /** The only version spoken: 3. */
    public static final int VERSION = 3;
    /** The only message type: ADVERTISEMENT. */
    public static final int TYPE_ADVERTISEMENT = 1;
    /** IP protocol number of VRRP. */
    public static final int IP_PROTOCOL = 112;
    /** Bytes before the addresses. */
    public static final int FIXED_LENGTH = 8;
    /** The largest interval the 12-bit field carries: 40.95 s. */
    public static final int MAX_INTERVAL_CENTIS = 0x0FFF;

    public VrrpPacket {
        if (virtualRouterId < 1 || virtualRouterId > 255) {
            throw new IllegalArgumentException("virtual router id must be 1..255, got " + virtualRouterId);
        }
        if (priority < 0 || priority > 255) {
            throw new IllegalArgumentException("priority must be 0..255, got " + priority);
        }
        if (maxAdvertIntervalCentis < 1 || maxAdvertIntervalCentis > MAX_INTERVAL_CENTIS) {
            throw new IllegalArgumentException(
                    "advert interval must be 1..4095 centiseconds, got " + maxAdvertIntervalCentis);
        }
        addresses = List.copyOf(addresses);
        if (addresses.isEmpty() || addresses.size() > 255) {
            throw new IllegalArgumentException("an advert carries 1..255 addresses, got " + addresses.size());
        }
    }

    /** This advert with another priority: the same router giving up (0) or back in the election. */
    public VrrpPacket withPriority(int newPriority) {
        return new VrrpPacket(virtualRouterId, newPriority, maxAdvertIntervalCentis, addresses);
    }

    /** The length of the VRRP message on the wire. */
    public int length() {
        return FIXED_LENGTH + 4 * addresses.size();
    }

    /**
     * The VRRP message as sent from {@code source} to {@code destination} (224.0.0.18 or the
     * unicast peer): the checksum depends on both.
     */
    public byte[] encode(Inet4Address source, Inet4Address destination) {
        byte[] out = new byte[length()];
        out[0] = (byte) (VERSION << 4 | TYPE_ADVERTISEMENT);
        out[1] = (byte) virtualRouterId;
        out[2] = (byte) priority;
        out[3] = (byte) addresses.size();
        out[4] = (byte) (maxAdvertIntervalCentis >>> 8); // the 4 reserved bits stay 0
        out[5] = (byte) maxAdvertIntervalCentis;
        // out[6..7], the checksum, is 0 while it is computed
        int at = FIXED_LENGTH;
        for (Inet4Address a : addresses) {
            System.arraycopy(a.getAddress(), 0, out, at, 4);
            at += 4;
        }
        int checksum = ~sum(ByteBuffer.wrap(out), source, destination) & 0xFFFF;
        out[6] = (byte) (checksum >>> 8);
        out[7] = (byte) checksum;
        return out;
    }

    /** {@link #decode(ByteBuffer, Inet4Address, Inet4Address)} of a whole array. */
    public static Decoded decode(byte[] message, Inet4Address source, Inet4Address destination) {
        return decode(ByteBuffer.wrap(message), source, destination);
    }

    /**
     * Reads the VRRP message between the buffer's position and limit (the IP payload, all of it:
     * its length is the one the checksum covers), received from {@code source} at
     * {@code destination}. The buffer's position and limit are not changed. Checks, in this order:
     * length of the fixed part, version, type, address count, total length, checksum, interval.
     * The reserved bits are ignored, as §5.2.6 says. IP-level checks (TTL) and the local ones
     * (VRID) are {@link AdvertValidator}'s.
     */
    public static Decoded decode(ByteBuffer message, Inet4Address source, Inet4Address destination) {
        int start = message.position();
        int length = message.remaining();
        if (length < FIXED_LENGTH) {
            return new Invalid(InvalidReason.TOO_SHORT, length + " bytes, a VRRP message has at least 8");
        }
        int versionAndType = message.get(start) & 0xFF;
        int version = versionAndType >>> 4;
        if (version != VERSION) {
            return new Invalid(InvalidReason.WRONG_VERSION, "version " + version + ", must be 3");
        }
        int type = versionAndType & 0x0F;
        if (type != TYPE_ADVERTISEMENT) {
            return new Invalid(InvalidReason.WRONG_TYPE, "type " + type + ", must be 1 (advertisement)");
        }
        int count = message.get(start + 3) & 0xFF;
        if (count == 0) {
            return new Invalid(InvalidReason.NO_ADDRESSES, "count of addresses is 0");
        }
        if (length != FIXED_LENGTH + 4 * count) {
            return new Invalid(InvalidReason.LENGTH_MISMATCH,
                    length + " bytes for " + count + " addresses, expected " + (FIXED_LENGTH + 4 * count));
        }
        int folded = sum(message, source, destination);
        if (folded != 0xFFFF) {
            int received = message.getShort(start + 6) & 0xFFFF;
            return new Invalid(InvalidReason.BAD_CHECKSUM, String.format(
                    "checksum 0x%04x does not verify from %s to %s", received,
                    source.getHostAddress(), destination.getHostAddress()));
        }
        int interval = message.getShort(start + 4) & MAX_INTERVAL_CENTIS;
        if (interval == 0) {
            return new Invalid(InvalidReason.ZERO_INTERVAL, "max advert interval is 0");
        }
        int vrid = message.get(start + 1) & 0xFF;
        if (vrid == 0) {
            return new Invalid(InvalidReason.WRONG_VRID, "virtual router id 0");
        }
        Inet4Address[] addresses = new Inet4Address[count];
        byte[] raw = new byte[4];
        for (int i = 0; i < count; i++) {
            message.get(start + FIXED_LENGTH + 4 * i, raw);
            addresses[i] = inet4(raw);
        }
        return new VrrpPacket(vrid, message.get(start + 2) & 0xFF, interval, List.of(addresses));
    }

    /**
     * The folded 16-bit one's-complement sum of the pseudo-header and the message as it is in the
     * buffer (position to limit). A sender stores its complement in the checksum field (zero while
     * summing); a receiver sums everything, checksum included, and must get 0xFFFF.
     */
    static int sum(ByteBuffer message, Inet4Address source, Inet4Address destination) {
        int start = message.position();
        int length = message.remaining();
        long sum = 0;
        sum += words(source.getAddress());
        sum += words(destination.getAddress());
        sum += IP_PROTOCOL; // zero byte, then the protocol byte
        sum += length;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += message.getShort(start + i) & 0xFFFF;
        }
        if ((length & 1) == 1) {
            sum += (message.get(start + length - 1) & 0xFF) << 8; // pad the odd byte with a zero
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    private static int words(byte[] address) {
        return ((address[0] & 0xFF) << 8 | (address[1] & 0xFF)) + ((address[2] & 0xFF) << 8 | (address[3] & 0xFF));
    }

    static Inet4Address inet4(byte[] fourBytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(fourBytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + fourBytes.length + " bytes", e);
        }
    }

    /** Compares IPv4 addresses as unsigned 32-bit numbers: the tie-break of §6.4.3. */
    static int compare(Inet4Address a, Inet4Address b) {
        return Integer.compareUnsigned(asInt(a), asInt(b));
    }

    static int asInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("VRRPv3 advert vrid ").append(virtualRouterId)
                .append(" priority ").append(priority)
                .append(" interval ").append(maxAdvertIntervalCentis).append("cs [");
        for (int i = 0; i < addresses.size(); i++) {
            s.append(i == 0 ? "" : ", ").append(addresses.get(i).getHostAddress());
        }
        return s.append(']').toString();
    }
}
