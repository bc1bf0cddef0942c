package dev.fulcrum.core.net;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArpMessageTest {

    private static final byte[] MAC = HexFormat.ofDelimiter(":").parseHex("02:42:0a:4d:00:0b");

    @Test
    void announcementHasTheVirtualIpAsSenderAndTarget() throws Exception {
        Inet4Address vip = (Inet4Address) InetAddress.getByName("10.77.0.100");
        // RFC 5227 announcement: request, sender = target = the virtual IP, target MAC zero
        assertThat(HexFormat.of().formatHex(ArpMessage.announcement(MAC, vip)))
                .isEqualTo("0001" + "0800" + "06" + "04" + "0001" + "02420a4d000b" + "0a4d0064"
                        + "000000000000" + "0a4d0064");
    }

    @Test
    void requestAsksForTheTarget() throws Exception {
        byte[] request = ArpMessage.request(MAC, (Inet4Address) InetAddress.getByName("10.77.0.11"),
                (Inet4Address) InetAddress.getByName("10.77.0.20"));
        assertThat(request).hasSize(ArpMessage.LENGTH);
        assertThat(HexFormat.of().formatHex(request, 14, 28)).isEqualTo("0a4d000b" + "000000000000" + "0a4d0014");
    }

    @Test
    void aMacMustHaveSixBytes() {
        assertThatThrownBy(() -> ArpMessage.announcement(new byte[4], (Inet4Address) InetAddress.getByName("10.0.0.1")))
                .hasMessage("a MAC address has 6 bytes, got 4");
    }

    @Test
    void aRequestDecodesAndIsAnsweredToItsSender() throws Exception {
        byte[] asker = HexFormat.ofDelimiter(":").parseHex("02:00:00:00:00:02");
        Inet4Address client = (Inet4Address) InetAddress.getByName("10.88.0.2");
        Inet4Address vip = (Inet4Address) InetAddress.getByName("10.88.0.100");
        byte[] request = ArpMessage.request(asker, client, vip);

        ArpMessage.Decoded d = ArpMessage.decode(request, request.length).orElseThrow();
        assertThat(d.isRequest()).isTrue();
        assertThat(d.senderMac()).isEqualTo(asker);
        assertThat(d.sender()).isEqualTo(client);
        assertThat(d.target()).isEqualTo(vip);

        byte[] reply = ArpMessage.reply(MAC, vip, d.senderMac(), d.sender());
        assertThat(HexFormat.of().formatHex(reply)).isEqualTo("0001080006040002" + "02420a4d000b" + "0a580064"
                + "020000000002" + "0a580002");
        assertThat(ArpMessage.decode(reply, 27)).isEmpty();
    }
}
