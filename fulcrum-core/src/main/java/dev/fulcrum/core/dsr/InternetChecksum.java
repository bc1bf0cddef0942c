package dev.fulcrum.core.dsr;

import java.nio.ByteBuffer;

/**
 * The Internet checksum (RFC 1071): the ones' complement sum of 16-bit big-endian words. Used to
 * finish the TCP/UDP checksum of a frame handed over with a partial one (checksum offload).
 *
 * <p>The sum is taken eight bytes at a time: 32-bit halves are added into a {@code long} and folded
 * at the end, which gives the same result as adding 16-bit words because 2^16 ≡ 1 (mod 0xFFFF)
 * (RFC 1071 §2(B)). No allocation; absolute reads, so the buffer's position and limit stay.
 */
public final class InternetChecksum {

    private InternetChecksum() {
    }

    /**
     * The unfolded sum of {@code buffer[from, to)} as big-endian 16-bit words, an odd last byte
     * padded with a zero byte. Add sums of even-length pieces, then {@link #fold} once.
     */
    public static long sum(ByteBuffer buffer, int from, int to) {
        long sum = 0;
        int at = from;
        for (; at + 8 <= to; at += 8) {
            long word = buffer.getLong(at);
            sum += (word >>> 32) + (word & 0xFFFF_FFFFL);
        }
        if (at + 4 <= to) {
            sum += buffer.getInt(at) & 0xFFFF_FFFFL;
            at += 4;
        }
        if (at + 2 <= to) {
            sum += buffer.getShort(at) & 0xFFFF;
            at += 2;
        }
        if (at < to) {
            sum += (buffer.get(at) & 0xFF) << 8;
        }
        return sum;
    }

    /** Folds a sum to 16 bits with end-around carries (not complemented). */
    public static int fold(long sum) {
        sum = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        sum = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) sum;
    }

    /**
     * Finishes a partial transport checksum, as the kernel's {@code skb_checksum_help} does: the
     * checksum field already holds the folded pseudo-header sum (not complemented), so the
     * complement of the sum over {@code [checksumStart, end)} is the checksum. A result of 0 is
     * stored as 0xFFFF (the same value in ones' complement; for UDP 0 would mean "no checksum").
     *
     * @param checksumStart where the transport header starts (absolute)
     * @param checksumField where its checksum field is (absolute), inside {@code [checksumStart, end - 2]}
     * @param end           the end of the IP packet (absolute)
     */
    public static void completePartial(ByteBuffer buffer, int checksumStart, int checksumField, int end) {
        int checksum = ~fold(sum(buffer, checksumStart, end)) & 0xFFFF;
        buffer.putShort(checksumField, (short) (checksum == 0 ? 0xFFFF : checksum));
    }
}
