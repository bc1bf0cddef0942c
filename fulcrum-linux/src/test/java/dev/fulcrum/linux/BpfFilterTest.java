package dev.fulcrum.linux;

import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The classic BPF programs, pinned instruction by instruction ({@code struct sock_filter}: u16 code,
 * u8 jt, u8 jf, u32 k, little-endian on x86-64 and arm64). What they let through on a real socket is
 * {@link PacketSocketTest#filterLetsInOnlyFramesForTheVipAtOurMac}.
 */
class BpfFilterTest {

    @Test
    void ipv4ToTheVipAtOurMacIsTenInstructions() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "pinned for a little-endian host");
        BpfFilter filter = BpfFilter.ipv4To(DsrLan.address("10.99.7.100"), HexFormat.ofDelimiter(":").parseHex("02:00:00:00:07:02"));
        assertThat(filter.length()).isEqualTo(10);
        assertThat(HexFormat.of().formatHex(filter.bytes())).isEqualTo(String.join("",
                "2000" + "00" + "00" + "00000000", // (0) ld  [0]                 destination MAC, bytes 0-3
                "1500" + "00" + "07" + "00000002", // (1) jeq #0x02000000 jf 9 (drop)
                "2800" + "00" + "00" + "04000000", // (2) ldh [4]                 destination MAC, bytes 4-5
                "1500" + "00" + "05" + "02070000", // (3) jeq #0x0702     jf 9
                "2800" + "00" + "00" + "0c000000", // (4) ldh [12]                ethertype
                "1500" + "00" + "03" + "00080000", // (5) jeq #0x0800     jf 9
                "2000" + "00" + "00" + "1e000000", // (6) ld  [30]                IPv4 destination
                "1500" + "00" + "01" + "6407630a", // (7) jeq #0x0a630764 jf 9    10.99.7.100
                "0600" + "00" + "00" + "ffffffff", // (8) ret #-1                 accept, whole frame
                "0600" + "00" + "00" + "00000000"  // (9) ret #0                  drop
        ));
        assertThat(filter).hasToString("ipv4 to 10.99.7.100 at 02:00:00:00:07:02 (10 instructions)");
    }

    @Test
    void acceptAllAndDropAllAreOneReturn() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "pinned for a little-endian host");
        assertThat(HexFormat.of().formatHex(BpfFilter.acceptAll().bytes())).isEqualTo("06000000ffffffff");
        assertThat(HexFormat.of().formatHex(BpfFilter.dropAll().bytes())).isEqualTo("0600000000000000");
    }

    @Test
    void aMacHasSixBytes() {
        assertThatThrownBy(() -> BpfFilter.ipv4To(DsrLan.VIP, new byte[5]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a MAC address has 6 bytes, got 5");
    }
}
