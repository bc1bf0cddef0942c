package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static dev.fulcrum.core.dsr.Frames.hex;
import static org.assertj.core.api.Assertions.assertThat;

class InternetChecksumTest {

    @Test
    void theKernelsChecksumOfTheFragmentedDatagramVerifies() {
        // the sender's kernel computed 0xfe62 in software over the whole 1800-byte datagram;
        // pseudo-header + datagram (checksum included) must sum to 0xffff
        byte[] datagram = Frames.concat(hex("9c4100500708fe62"), Frames.pattern(0, 1792));
        ByteBuffer b = ByteBuffer.wrap(datagram);
        long pseudo = 0x0a63 + 0x0002 + 0x0a63 + 0x0064 + 17 + datagram.length;
        assertThat(InternetChecksum.fold(pseudo + InternetChecksum.sum(b, 0, datagram.length))).isEqualTo(0xFFFF);
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2
        ByteBuffer b = ByteBuffer.wrap(hex("0001f203f4f5f6f7"));
        assertThat(InternetChecksum.fold(InternetChecksum.sum(b, 0, 8))).isEqualTo(0xddf2);
    }

    @Test
    void agreesWithTheWordByWordSumForEveryLengthAndStart() {
        Random random = new Random(7);
        byte[] bytes = new byte[300];
        random.nextBytes(bytes);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        for (int from = 0; from < 9; from++) {
            for (int to = from; to <= bytes.length; to++) {
                assertThat(InternetChecksum.fold(InternetChecksum.sum(b, from, to)))
                        .as("[%d, %d)", from, to).isEqualTo(wordByWord(bytes, from, to));
            }
        }
    }

    @Test
    void aSumOfAllOnesFoldsToFfffNotZero() {
        ByteBuffer b = ByteBuffer.wrap(hex("ffffffffffffffffffff"));
        assertThat(InternetChecksum.fold(InternetChecksum.sum(b, 0, 10))).isEqualTo(0xFFFF);
        assertThat(InternetChecksum.fold(0)).isZero();
    }

    private static int wordByWord(byte[] bytes, int from, int to) {
        long sum = 0;
        for (int i = from; i < to; i += 2) {
            sum += (bytes[i] & 0xFF) << 8 | (i + 1 < to ? bytes[i + 1] & 0xFF : 0);
        }
        while (sum > 0xFFFF) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}
