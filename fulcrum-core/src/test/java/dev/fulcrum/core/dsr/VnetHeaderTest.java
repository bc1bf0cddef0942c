package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static dev.fulcrum.core.dsr.Frames.hex;
import static org.assertj.core.api.Assertions.assertThat;

class VnetHeaderTest {

    @Test
    void readsTheHeaderTheKernelPutBeforeTheSyn() {
        ByteBuffer b = ByteBuffer.wrap(hex(Frames.SYN_VNET_HEADER + Frames.SYN));
        assertThat(VnetHeader.flags(b, 0)).isEqualTo(VnetHeader.F_NEEDS_CSUM);
        assertThat(VnetHeader.needsChecksum(b, 0)).isTrue();
        assertThat(VnetHeader.gsoType(b, 0)).isEqualTo(VnetHeader.GSO_NONE);
        assertThat(VnetHeader.isGso(b, 0)).isFalse();
        assertThat(VnetHeader.headerLength(b, 0)).isZero();
        assertThat(VnetHeader.gsoSize(b, 0)).isZero();
        assertThat(VnetHeader.checksumStart(b, 0)).isEqualTo(34); // from the Ethernet header: 14 + 20
        assertThat(VnetHeader.checksumOffset(b, 0)).isEqualTo(16); // TCP's checksum field
    }

    @Test
    void completesTheSynsPartialChecksumToTheTextbookOne() {
        byte[] withHeader = hex(Frames.SYN_VNET_HEADER + Frames.SYN);
        ByteBuffer b = ByteBuffer.wrap(withHeader);
        int expected = Frames.referenceChecksum(withHeader, 10 + 14);
        assertThat(b.getShort(10 + 34 + 16) & 0xFFFF).isEqualTo(0x155a).isNotEqualTo(expected);

        assertThat(VnetHeader.completeChecksum(b, 0, 10, withHeader.length)).isTrue();

        assertThat(b.getShort(10 + 34 + 16) & 0xFFFF).isEqualTo(expected);
        // and nothing else changed
        byte[] unchanged = hex(Frames.SYN_VNET_HEADER + Frames.SYN);
        unchanged[10 + 50] = withHeader[10 + 50];
        unchanged[10 + 51] = withHeader[10 + 51];
        assertThat(withHeader).isEqualTo(unchanged);
    }

    @Test
    void completesTheUdpDatagramsPartialChecksum() {
        byte[] withHeader = hex(Frames.UDP_VNET_HEADER + Frames.UDP);
        ByteBuffer b = ByteBuffer.wrap(withHeader);
        int expected = Frames.referenceChecksum(withHeader, 10 + 14);

        assertThat(VnetHeader.completeChecksum(b, 0, 10, withHeader.length)).isTrue();

        assertThat(b.getShort(10 + 34 + 6) & 0xFFFF).isEqualTo(expected);
    }

    @Test
    void stopsAtTheEndOfThePacketNotAtEthernetPadding() {
        byte[] withHeader = hex(Frames.UDP_VNET_HEADER + Frames.UDP);
        int expected = Frames.referenceChecksum(withHeader, 10 + 14);
        byte[] padded = java.util.Arrays.copyOf(withHeader, 10 + 60);
        padded[padded.length - 1] = 0x55; // padding need not be zero
        ByteBuffer b = ByteBuffer.wrap(padded);

        assertThat(VnetHeader.completeChecksum(b, 0, 10, withHeader.length)).isTrue();

        assertThat(b.getShort(10 + 34 + 6) & 0xFFFF).isEqualTo(expected);
    }

    @Test
    void aHeaderWithoutNeedsCsumLeavesTheFrameAlone() {
        byte[] frame = hex("00000000000000000000" + Frames.SYN);
        assertThat(VnetHeader.completeChecksum(ByteBuffer.wrap(frame), 0, 10, frame.length)).isTrue();
        assertThat(hex(frame)).isEqualTo("00000000000000000000" + Frames.SYN);
    }

    @Test
    void checksumOffsetsOutsideThePacketAreRefused() {
        byte[] frame = hex("01000000000022004000" + Frames.SYN); // csum_offset 64: past the end
        assertThat(VnetHeader.completeChecksum(ByteBuffer.wrap(frame), 0, 10, frame.length)).isFalse();
        assertThat(hex(frame)).isEqualTo("01000000000022004000" + Frames.SYN);
        byte[] intoEthernet = hex("01000000000004001000" + Frames.SYN); // csum_start 4
        assertThat(VnetHeader.completeChecksum(ByteBuffer.wrap(intoEthernet), 0, 10, intoEthernet.length)).isFalse();
    }

    @Test
    void recognisesGsoTypesWithOrWithoutEcn() {
        ByteBuffer b = ByteBuffer.allocate(VnetHeader.LENGTH);
        b.put(1, (byte) VnetHeader.GSO_TCPV4);
        assertThat(VnetHeader.isGso(b, 0)).isTrue();
        b.put(1, (byte) (VnetHeader.GSO_TCPV4 | VnetHeader.GSO_ECN));
        assertThat(VnetHeader.isGso(b, 0)).isTrue();
        b.put(1, (byte) VnetHeader.GSO_ECN);
        assertThat(VnetHeader.isGso(b, 0)).isFalse();
    }

    @Test
    void writeNoneIsAllZeroes() {
        ByteBuffer b = ByteBuffer.wrap(hex("ffffffffffffffffffffff"));
        VnetHeader.writeNone(b, 0);
        assertThat(hex(b.array())).isEqualTo("00000000000000000000ff");
    }
}
