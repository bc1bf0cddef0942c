package dev.fulcrum.core.dsr;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * 48-bit Ethernet MAC addresses held as the low 48 bits of a {@code long}, so that the per-packet
 * path compares and stores them without objects. {@link #UNKNOWN} (-1, outside 48 bits) marks an
 * address not learned yet. Text is the usual {@code 02:00:5e:10:00:01}.
 */
public final class MacAddress {

    /** No MAC known (yet): not a 48-bit value, so it never equals a real address. */
    public static final long UNKNOWN = -1L;
    /** The length of a MAC address in bytes. */
    public static final int LENGTH = 6;

    private static final long MASK = 0xFFFF_FFFF_FFFFL;
    private static final HexFormat COLONS = HexFormat.ofDelimiter(":");

    private MacAddress() {
    }

    /**
     * Parses {@code aa:bb:cc:dd:ee:ff} (hex digits in either case).
     *
     * @throws IllegalArgumentException when the text is not six colon-separated bytes
     */
    public static long parse(String text) {
        if (text == null || text.length() != 17) {
            throw new IllegalArgumentException("expected a MAC address like 02:00:00:00:00:01, got \"" + text + "\"");
        }
        try {
            return of(COLONS.parseHex(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected a MAC address like 02:00:00:00:00:01, got \"" + text + "\"", e);
        }
    }

    /** The MAC in six bytes, as the kernel hands it over (SIOCGIFHWADDR, netlink, ARP). */
    public static long of(byte[] sixBytes) {
        if (sixBytes.length != LENGTH) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, got " + sixBytes.length);
        }
        long mac = 0;
        for (byte b : sixBytes) {
            mac = mac << 8 | (b & 0xFF);
        }
        return mac;
    }

    /** Lower-case colon form; {@code unknown} for {@link #UNKNOWN}. */
    public static String format(long mac) {
        if (!isKnown(mac)) {
            return "unknown";
        }
        byte[] bytes = new byte[LENGTH];
        for (int i = LENGTH - 1; i >= 0; i--) {
            bytes[i] = (byte) mac;
            mac >>>= 8;
        }
        return COLONS.formatHex(bytes);
    }

    /** True for a 48-bit address, false for {@link #UNKNOWN}. */
    public static boolean isKnown(long mac) {
        return (mac & ~MASK) == 0;
    }

    /** The six bytes at {@code at} (absolute; position and limit untouched). */
    public static long read(ByteBuffer buffer, int at) {
        return (buffer.getInt(at) & 0xFFFF_FFFFL) << 16 | (buffer.getShort(at + 4) & 0xFFFF);
    }

    /** Writes the address's six bytes at {@code at} (absolute; position and limit untouched). */
    public static void write(ByteBuffer buffer, int at, long mac) {
        buffer.putInt(at, (int) (mac >>> 16));
        buffer.putShort(at + 4, (short) mac);
    }
}
