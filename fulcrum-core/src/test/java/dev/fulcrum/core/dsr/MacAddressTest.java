package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MacAddressTest {

    @Test
    void parsesAndFormatsTheColonForm() {
        long mac = MacAddress.parse("02:FC:00:0a:Be:01");
        assertThat(mac).isEqualTo(0x02fc000abe01L);
        assertThat(MacAddress.format(mac)).isEqualTo("02:fc:00:0a:be:01");
        assertThat(MacAddress.of(new byte[] {2, (byte) 0xfc, 0, 10, (byte) 0xbe, 1})).isEqualTo(mac);
    }

    @Test
    void theBroadcastAddressIsKnownAndUnknownIsNot() {
        assertThat(MacAddress.isKnown(MacAddress.parse("ff:ff:ff:ff:ff:ff"))).isTrue();
        assertThat(MacAddress.isKnown(MacAddress.UNKNOWN)).isFalse();
        assertThat(MacAddress.format(MacAddress.UNKNOWN)).isEqualTo("unknown");
    }

    @Test
    void refusesWhatIsNotSixBytes() {
        assertThatThrownBy(() -> MacAddress.parse("02:fc:00:0a:be")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MacAddress.parse("02-fc-00-0a-be-01")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MacAddress.parse("02:fc:00:0a:be:0g")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MacAddress.of(new byte[5])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsAndWritesInPlace() {
        ByteBuffer b = ByteBuffer.allocate(10);
        MacAddress.write(b, 3, 0x02fc000abe01L);
        assertThat(Frames.hex(b.array())).isEqualTo("00000002fc000abe0100");
        assertThat(MacAddress.read(b, 3)).isEqualTo(0x02fc000abe01L);
        assertThat(b.position()).isZero();
    }
}
