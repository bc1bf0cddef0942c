package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static dev.fulcrum.core.dsr.Frames.hex;
import static org.assertj.core.api.Assertions.assertThat;

class FrameRewriteTest {

    @Test
    void changesTheTwoMacAddressesAndNothingElse() {
        byte[] udp = hex(Frames.UDP);
        ByteBuffer ring = ByteBuffer.allocate(200);
        ring.put(64, udp);

        FrameRewrite.rewrite(ring, 64, MacAddress.parse("02:00:00:00:01:12"), Frames.BALANCER_MAC);

        assertThat(hex(ring, 64, 64 + udp.length)).isEqualTo("020000000112" + "02000000001b" + "0800"
                + "450000256a7e40004011bb1e0a6300020a630064"
                + "9c4100500011154e68656c6c6f20647372");
        assertThat(hex(ring, 0, 64)).isEqualTo("00".repeat(64));
        assertThat(hex(ring, 64 + udp.length, 200)).isEqualTo("00".repeat(200 - 64 - udp.length));
    }
}
