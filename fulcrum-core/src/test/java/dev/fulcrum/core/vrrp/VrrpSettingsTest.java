package dev.fulcrum.core.vrrp;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.List;

import static dev.fulcrum.core.vrrp.VrrpPacketTest.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VrrpSettingsTest {

    private static final Inet4Address SELF = ip("10.77.0.11");
    private static final List<Inet4Address> VIPS = List.of(ip("10.77.0.100"));

    @Test
    void theAdvertCarriesOurPriorityIntervalAndVirtualIps() {
        VrrpSettings s = new VrrpSettings(77, 150, 10, true, SELF, VIPS);
        assertThat(s.advert()).isEqualTo(new VrrpPacket(77, 150, 10, VIPS));
        assertThat(s.addressOwner()).isFalse();
        assertThat(new VrrpSettings(77, 255, 10, true, SELF, VIPS).addressOwner()).isTrue();
    }

    @Test
    void refusesWhatNoRouterCanBe() {
        assertThatThrownBy(() -> new VrrpSettings(77, 0, 10, true, SELF, VIPS))
                .hasMessage("priority must be 1..255, got 0");
        assertThatThrownBy(() -> new VrrpSettings(0, 100, 10, true, SELF, VIPS))
                .hasMessage("virtual router id must be 1..255, got 0");
        assertThatThrownBy(() -> new VrrpSettings(77, 100, 4096, true, SELF, VIPS))
                .hasMessage("advert interval must be 1..4095 centiseconds, got 4096");
        assertThatThrownBy(() -> new VrrpSettings(77, 100, 10, true, SELF, List.of()))
                .hasMessage("an advert carries 1..255 addresses, got 0");
    }
}
