package dev.fulcrum.core.vrrp;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

import static dev.fulcrum.core.vrrp.VrrpPacketTest.ip;
import static org.assertj.core.api.Assertions.assertThat;

class AdvertValidatorTest {

    private static final Inet4Address PEER = ip("10.77.0.11");
    private static final Inet4Address SELF = ip("10.77.0.12");
    private static final Inet4Address GROUP = ip("224.0.0.18");
    private static final List<Inet4Address> VIPS = List.of(ip("10.77.0.100"));
    private static final byte[] KEEPALIVED = HexFormat.ofDelimiter(" ").parseHex("31 4d 96 01 00 64 42 b5 0a 4d 00 64");

    private final AdvertValidator backup = new AdvertValidator(new VrrpSettings(77, 100, 100, true, SELF, VIPS));

    @Test
    void aValidAdvertPasses() {
        assertThat(backup.validate(255, ByteBuffer.wrap(KEEPALIVED), PEER, GROUP))
                .isEqualTo(new VrrpPacket(77, 150, 100, VIPS));
    }

    @Test
    void ttlMustBe255() {
        assertThat(reason(backup.validate(254, ByteBuffer.wrap(KEEPALIVED), PEER, GROUP))).isEqualTo(InvalidReason.TTL_NOT_255);
        assertThat(backup.validate(64, ByteBuffer.wrap(KEEPALIVED), PEER, GROUP).toString())
                .isEqualTo("ttl-not-255: ttl 64 from 10.77.0.11, must be 255");
    }

    @Test
    void anotherVirtualRouterIsDropped() {
        AdvertValidator other = new AdvertValidator(new VrrpSettings(51, 100, 100, true, SELF, VIPS));
        assertThat(reason(other.validate(255, ByteBuffer.wrap(KEEPALIVED), PEER, GROUP))).isEqualTo(InvalidReason.WRONG_VRID);
    }

    @Test
    void ourOwnLoopedBackAdvertIsDropped() {
        AdvertValidator self = new AdvertValidator(new VrrpSettings(77, 150, 100, true, PEER, VIPS));
        assertThat(reason(self.validate(255, ByteBuffer.wrap(KEEPALIVED), PEER, GROUP))).isEqualTo(InvalidReason.OWN_ADVERT);
    }

    @Test
    void theAddressOwnerIgnoresAdverts() {
        AdvertValidator owner = new AdvertValidator(new VrrpSettings(77, 255, 100, true, SELF, VIPS));
        assertThat(reason(owner.validate(255, ByteBuffer.wrap(KEEPALIVED), PEER, GROUP))).isEqualTo(InvalidReason.ADDRESS_OWNER);
    }

    @Test
    void decodeFailuresComeThrough() {
        byte[] flipped = KEEPALIVED.clone();
        flipped[11] ^= 1;
        assertThat(reason(backup.validate(255, ByteBuffer.wrap(flipped), PEER, GROUP))).isEqualTo(InvalidReason.BAD_CHECKSUM);
    }

    @Test
    void aWholeIpPacketFromARawSocketIsParsed() {
        ByteBuffer packet = ipPacket(255, 112, KEEPALIVED);
        assertThat(backup.validateIpPacket(packet)).isEqualTo(new VrrpPacket(77, 150, 100, VIPS));
        assertThat(packet.position()).isZero();
        assertThat(reason(backup.validateIpPacket(ipPacket(1, 112, KEEPALIVED)))).isEqualTo(InvalidReason.TTL_NOT_255);
        assertThat(reason(backup.validateIpPacket(ipPacket(255, 17, KEEPALIVED)))).isEqualTo(InvalidReason.WRONG_PROTOCOL);
        assertThat(reason(backup.validateIpPacket(ByteBuffer.allocate(19)))).isEqualTo(InvalidReason.TOO_SHORT);
        ByteBuffer truncated = ipPacket(255, 112, KEEPALIVED).limit(25);
        assertThat(reason(backup.validateIpPacket(truncated))).isEqualTo(InvalidReason.BAD_IP_HEADER);
    }

    /** A 20-byte IPv4 header (no options) from PEER to the group, then the payload. */
    private static ByteBuffer ipPacket(int ttl, int protocol, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.put((byte) 0x45).put((byte) 0xC0).putShort((short) (20 + payload.length))
                .putShort((short) 0).putShort((short) 0)
                .put((byte) ttl).put((byte) protocol).putShort((short) 0) // header checksum: the kernel checked it
                .put(PEER.getAddress()).put(GROUP.getAddress()).put(payload);
        return b.flip();
    }

    private static InvalidReason reason(Decoded decoded) {
        return ((Invalid) decoded).reason();
    }
}
