package dev.fulcrum.core.vrrp;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VrrpPacketTest {

    /** An advert captured from keepalived: VRID 77, priority 150, 100 cs, VIP 10.77.0.100. */
    private static final byte[] KEEPALIVED = HexFormat.ofDelimiter(" ").parseHex("31 4d 96 01 00 64 42 b5 0a 4d 00 64");
    private static final Inet4Address SOURCE = ip("10.77.0.11");
    private static final Inet4Address GROUP = ip("224.0.0.18");

    static Inet4Address ip(String literal) {
        try {
            return (Inet4Address) InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void encodesExactlyTheBytesKeepalivedSent() {
        VrrpPacket advert = new VrrpPacket(77, 150, 100, List.of(ip("10.77.0.100")));
        assertThat(HexFormat.ofDelimiter(" ").formatHex(advert.encode(SOURCE, GROUP)))
                .isEqualTo("31 4d 96 01 00 64 42 b5 0a 4d 00 64");
    }

    @Test
    void decodesKeepalivedsAdvert() {
        assertThat(VrrpPacket.decode(KEEPALIVED, SOURCE, GROUP))
                .isEqualTo(new VrrpPacket(77, 150, 100, List.of(ip("10.77.0.100"))));
    }

    @Test
    void decodeLeavesTheBufferAsItWas() {
        ByteBuffer framed = ByteBuffer.allocate(20);
        framed.position(5).put(KEEPALIVED).flip().position(5);
        assertThat(VrrpPacket.decode(framed, SOURCE, GROUP)).isInstanceOf(VrrpPacket.class);
        assertThat(framed.position()).isEqualTo(5);
        assertThat(framed.limit()).isEqualTo(17);
    }

    @Test
    void aOneBitFlipInThePriorityFailsTheChecksum() {
        byte[] flipped = KEEPALIVED.clone();
        flipped[2] ^= 0x01; // priority 150 -> 151
        assertThat(VrrpPacket.decode(flipped, SOURCE, GROUP))
                .isInstanceOfSatisfying(Invalid.class, i -> assertThat(i.reason()).isEqualTo(InvalidReason.BAD_CHECKSUM));
    }

    @Test
    void everySingleBitFlipIsRejected() {
        for (int bit = 0; bit < KEEPALIVED.length * 8; bit++) {
            byte[] flipped = KEEPALIVED.clone();
            flipped[bit / 8] ^= (byte) (0x80 >>> (bit % 8));
            assertThat(VrrpPacket.decode(flipped, SOURCE, GROUP)).as("bit %d flipped", bit).isInstanceOf(Invalid.class);
        }
    }

    @Test
    void theChecksumCoversThePseudoHeader() {
        // the same bytes from another source or to another destination do not verify
        assertThat(VrrpPacket.decode(KEEPALIVED, ip("10.77.0.12"), GROUP))
                .isInstanceOfSatisfying(Invalid.class, i -> assertThat(i.reason()).isEqualTo(InvalidReason.BAD_CHECKSUM));
        assertThat(VrrpPacket.decode(KEEPALIVED, SOURCE, ip("10.77.0.12")))
                .isInstanceOfSatisfying(Invalid.class, i -> assertThat(i.reason()).isEqualTo(InvalidReason.BAD_CHECKSUM));
    }

    @Test
    void twoAddressesRoundTripWithAVerifyingChecksum() {
        VrrpPacket advert = new VrrpPacket(51, 100, 4095, List.of(ip("192.168.1.10"), ip("172.16.254.1")));
        byte[] wire = advert.encode(ip("192.168.1.2"), ip("192.168.1.3"));
        assertThat(wire).hasSize(16);
        assertThat(HexFormat.of().formatHex(wire, 0, 6)).isEqualTo("313364020fff");
        assertThat(HexFormat.of().formatHex(wire, 8, 16)).isEqualTo("c0a8010aac10fe01");
        assertThat(VrrpPacket.sum(ByteBuffer.wrap(wire), ip("192.168.1.2"), ip("192.168.1.3"))).isEqualTo(0xFFFF);
        assertThat(VrrpPacket.decode(wire, ip("192.168.1.2"), ip("192.168.1.3"))).isEqualTo(advert);
    }

    @Test
    void priorityZeroRoundTrips() {
        VrrpPacket goodbye = new VrrpPacket(77, 150, 100, List.of(ip("10.77.0.100"))).withPriority(0);
        assertThat(VrrpPacket.decode(goodbye.encode(SOURCE, GROUP), SOURCE, GROUP)).isEqualTo(goodbye);
    }

    @Test
    void reservedBitsAreIgnoredOnReceive() {
        VrrpPacket advert = new VrrpPacket(77, 150, 100, List.of(ip("10.77.0.100")));
        byte[] wire = advert.encode(SOURCE, GROUP);
        wire[4] |= (byte) 0xF0;
        withValidChecksum(wire);
        assertThat(VrrpPacket.decode(wire, SOURCE, GROUP)).isEqualTo(advert);
    }

    @Test
    void eachMalformationHasItsReason() {
        assertThat(reason(new byte[7])).isEqualTo(InvalidReason.TOO_SHORT);
        byte[] v2 = KEEPALIVED.clone();
        v2[0] = 0x21;
        assertThat(reason(v2)).isEqualTo(InvalidReason.WRONG_VERSION);
        byte[] type2 = KEEPALIVED.clone();
        type2[0] = 0x32;
        assertThat(reason(type2)).isEqualTo(InvalidReason.WRONG_TYPE);
        byte[] none = KEEPALIVED.clone();
        none[3] = 0;
        assertThat(reason(none)).isEqualTo(InvalidReason.NO_ADDRESSES);
        byte[] twoClaimed = KEEPALIVED.clone();
        twoClaimed[3] = 2;
        assertThat(reason(twoClaimed)).isEqualTo(InvalidReason.LENGTH_MISMATCH);
        byte[] trailing = java.util.Arrays.copyOf(KEEPALIVED, 16);
        assertThat(reason(trailing)).isEqualTo(InvalidReason.LENGTH_MISMATCH);
        VrrpPacket zeroVrid = new VrrpPacket(1, 150, 100, List.of(ip("10.77.0.100")));
        byte[] wire = zeroVrid.encode(SOURCE, GROUP);
        wire[1] = 0;
        withValidChecksum(wire);
        assertThat(reason(wire)).isEqualTo(InvalidReason.WRONG_VRID);
    }

    @Test
    void aZeroIntervalIsRefused() {
        // the record does not allow 0, so patch a valid encoding
        byte[] wire = new VrrpPacket(77, 150, 1, List.of(ip("10.77.0.100"))).encode(SOURCE, GROUP);
        wire[5] = 0;
        withValidChecksum(wire);
        assertThat(reason(wire)).isEqualTo(InvalidReason.ZERO_INTERVAL);
    }

    @Test
    void theRecordRefusesWhatTheWireCannotCarry() {
        List<Inet4Address> one = List.of(ip("10.0.0.1"));
        assertThatThrownBy(() -> new VrrpPacket(0, 100, 100, one)).hasMessageContaining("virtual router id");
        assertThatThrownBy(() -> new VrrpPacket(256, 100, 100, one)).hasMessageContaining("virtual router id");
        assertThatThrownBy(() -> new VrrpPacket(1, 256, 100, one)).hasMessageContaining("priority");
        assertThatThrownBy(() -> new VrrpPacket(1, 100, 4096, one)).hasMessageContaining("interval");
        assertThatThrownBy(() -> new VrrpPacket(1, 100, 0, one)).hasMessageContaining("interval");
        assertThatThrownBy(() -> new VrrpPacket(1, 100, 100, List.of())).hasMessageContaining("addresses");
    }

    @Test
    void labelsAreMetricFriendly() {
        assertThat(InvalidReason.TTL_NOT_255.label()).isEqualTo("ttl-not-255");
        assertThat(InvalidReason.BAD_CHECKSUM.label()).isEqualTo("bad-checksum");
    }

    /** Recomputes the checksum of a hand-patched message, so that only the patch is wrong. */
    private static void withValidChecksum(byte[] wire) {
        wire[6] = 0;
        wire[7] = 0;
        int checksum = ~VrrpPacket.sum(ByteBuffer.wrap(wire), SOURCE, GROUP) & 0xFFFF;
        wire[6] = (byte) (checksum >>> 8);
        wire[7] = (byte) checksum;
    }

    private static InvalidReason reason(byte[] message) {
        return ((Invalid) VrrpPacket.decode(message, SOURCE, GROUP)).reason();
    }
}
