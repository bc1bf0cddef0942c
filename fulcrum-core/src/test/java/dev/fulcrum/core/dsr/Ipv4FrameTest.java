package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.fulcrum.core.dsr.Frames.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Ipv4FrameTest {

    private final Ipv4Frame frame = new Ipv4Frame();

    private boolean parse(byte[] bytes) {
        return frame.parse(ByteBuffer.wrap(bytes), 0, bytes.length);
    }

    @Test
    void readsTheCapturedSyn() {
        assertThat(parse(hex(Frames.SYN))).isTrue();
        assertThat(frame.destinationMac()).isEqualTo(Frames.BALANCER_MAC);
        assertThat(frame.sourceAddress()).isEqualTo(Frames.bits(Frames.CLIENT));
        assertThat(frame.destinationAddress()).isEqualTo(Frames.bits(Frames.VIP));
        assertThat(frame.protocol()).isEqualTo(Ipv4Frame.TCP);
        assertThat(frame.hasPorts()).isTrue();
        assertThat(frame.sourcePort()).isEqualTo(40000);
        assertThat(frame.destinationPort()).isEqualTo(80);
        assertThat(frame.fragmented()).isFalse();
        assertThat(frame.packetEnd()).isEqualTo(14 + 60);
    }

    @Test
    void readsTheCapturedUdpDatagram() {
        assertThat(parse(hex(Frames.UDP))).isTrue();
        assertThat(frame.protocol()).isEqualTo(Ipv4Frame.UDP);
        assertThat(frame.sourcePort()).isEqualTo(40001);
        assertThat(frame.destinationPort()).isEqualTo(80);
    }

    @Test
    void theFlowKeyAndHashArePinned() {
        // changing either moves every flow that the table forgot (and every flow after an HA failover);
        // the hash value was computed outside Java: fmix64(high * 0x9E3779B97F4A7C15 ^ low)
        parse(hex(Frames.SYN));
        assertThat(frame.keyHigh()).isEqualTo(0x0a630002_0a630064L);
        assertThat(frame.keyLow()).isEqualTo(0x9c40_0050_0006L);
        assertThat(frame.flowHash()).isEqualTo(FlowKey.hash(0x0a630002_0a630064L, 0x9c40_0050_0006L));
        assertThat(Long.toHexString(frame.flowHash())).isEqualTo("55e3e14ac28030c0");
    }

    @Test
    void bothFragmentsOfADatagramHaveTheSameKeyWithoutPorts() {
        assertThat(parse(Frames.firstFragment())).isTrue();
        assertThat(frame.fragmented()).isTrue();
        assertThat(frame.hasPorts()).isTrue(); // the first fragment still shows its port, for the port filter
        assertThat(frame.destinationPort()).isEqualTo(80);
        long firstLow = frame.keyLow();
        long firstHash = frame.flowHash();

        assertThat(parse(Frames.secondFragment())).isTrue();
        assertThat(frame.fragmented()).isTrue();
        assertThat(frame.hasPorts()).isFalse();
        assertThat(frame.keyLow()).isEqualTo(firstLow).isEqualTo(Ipv4Frame.UDP);
        assertThat(frame.flowHash()).isEqualTo(firstHash);
    }

    @Test
    void arpAndIpv6AreNotIpv4() {
        assertThat(parse(hex(Frames.ARP))).isFalse();
        assertThat(frame.failure()).isEqualTo(PacketResult.NOT_IPV4);
        assertThat(parse(hex(Frames.IPV6))).isFalse();
        assertThat(frame.failure()).isEqualTo(PacketResult.NOT_IPV4);
    }

    @Test
    void aFrameWithAVlanTagInsideIsNotParsed() {
        assertThat(parse(Frames.withVlanTag(hex(Frames.SYN), 100))).isFalse();
        assertThat(frame.failure()).isEqualTo(PacketResult.VLAN_TAGGED);
        byte[] qinq = Frames.withVlanTag(hex(Frames.SYN), 100);
        qinq[12] = (byte) 0x88;
        qinq[13] = (byte) 0xa8;
        assertThat(parse(qinq)).isFalse();
        assertThat(frame.failure()).isEqualTo(PacketResult.VLAN_TAGGED);
    }

    @Test
    void everyTruncationOfTheSynIsMalformed() {
        byte[] syn = hex(Frames.SYN);
        for (int length = 0; length < syn.length; length++) {
            assertThat(parse(Arrays.copyOf(syn, length))).as("%d bytes", length).isFalse();
            assertThat(frame.failure()).as("%d bytes", length).isEqualTo(PacketResult.MALFORMED);
        }
    }

    @Test
    void ethernetPaddingAfterThePacketIsFine() {
        byte[] padded = Arrays.copyOf(hex(Frames.UDP), 60);
        assertThat(parse(padded)).isTrue();
        assertThat(frame.packetEnd()).isEqualTo(14 + 37);
    }

    @Test
    void badHeaderFieldsAreMalformed() {
        byte[] version6 = hex(Frames.SYN);
        version6[14] = 0x65;
        assertThat(parse(version6)).isFalse();
        byte[] shortHeader = hex(Frames.SYN);
        shortHeader[14] = 0x44; // IHL 4: 16 bytes
        assertThat(parse(shortHeader)).isFalse();
        byte[] totalBelowHeader = hex(Frames.SYN);
        totalBelowHeader[17] = 19;
        assertThat(parse(totalBelowHeader)).isFalse();
        byte[] noPorts = hex(Frames.SYN);
        noPorts[17] = 24; // total length 24: only 4 bytes of TCP
        assertThat(parse(noPorts)).isFalse();
        assertThat(frame.failure()).isEqualTo(PacketResult.MALFORMED);
    }

    @Test
    void portsAreFoundAfterIpOptions() {
        // the UDP datagram with a 4-byte option (NOP NOP NOP EOL): IHL 6
        byte[] udp = hex(Frames.UDP);
        byte[] withOptions = new byte[udp.length + 4];
        System.arraycopy(udp, 0, withOptions, 0, 34);
        withOptions[34] = 1;
        withOptions[35] = 1;
        withOptions[36] = 1;
        System.arraycopy(udp, 34, withOptions, 38, udp.length - 34);
        withOptions[14] = 0x46;
        withOptions[17] = (byte) (udp.length - 14 + 4);
        assertThat(parse(withOptions)).isTrue();
        assertThat(frame.sourcePort()).isEqualTo(40001);
        assertThat(frame.destinationPort()).isEqualTo(80);
    }

    @Test
    void otherProtocolsParseWithoutPorts() {
        byte[] icmp = hex(Frames.SYN);
        icmp[23] = 1;
        assertThat(parse(icmp)).isTrue();
        assertThat(frame.protocol()).isEqualTo(1);
        assertThat(frame.hasPorts()).isFalse();
    }

    @Test
    void readsAFrameInsideALargerBufferWithoutMovingIt() {
        byte[] syn = hex(Frames.SYN);
        ByteBuffer ring = ByteBuffer.allocate(256);
        ring.put(100, syn);
        ring.position(7).limit(250);
        assertThat(frame.parse(ring, 100, 100 + syn.length)).isTrue();
        assertThat(frame.sourcePort()).isEqualTo(40000);
        assertThat(frame.packetEnd()).isEqualTo(100 + 74);
        assertThat(ring.position()).isEqualTo(7);
        assertThat(ring.limit()).isEqualTo(250);
    }

    @Test
    void refusesLittleEndianBuffers() {
        ByteBuffer little = ByteBuffer.wrap(hex(Frames.SYN)).order(ByteOrder.LITTLE_ENDIAN);
        assertThatThrownBy(() -> frame.parse(little, 0, 74)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anIcmpErrorGivesTheKeyOfTheFlowItQuotes() {
        Ipv4Frame syn = new Ipv4Frame();
        assertThat(syn.parse(ByteBuffer.wrap(Frames.hex(Frames.SYN)), 0, Frames.hex(Frames.SYN).length)).isTrue();
        byte[] error = Frames.icmpAbout(Frames.ICMP_FRAGMENTATION_NEEDED, Frames.bits(Frames.VIP), 80,
                Frames.bits(Frames.CLIENT), 40000);
        Ipv4Frame f = new Ipv4Frame();

        assertThat(f.parse(ByteBuffer.wrap(error), 0, error.length)).isTrue();

        assertThat(f.protocol()).isEqualTo(Ipv4Frame.ICMP);
        assertThat(f.hasPorts()).isFalse();
        assertThat(f.hasQuotedFlow()).isTrue();
        assertThat(f.quotedSourceAddress()).isEqualTo(Frames.bits(Frames.VIP));
        assertThat(f.quotedSourcePort()).isEqualTo(80);
        assertThat(f.quotedKeyHigh()).isEqualTo(syn.keyHigh());
        assertThat(f.quotedKeyLow()).isEqualTo(syn.keyLow());

        byte[] echo = Frames.icmpAbout(Frames.ICMP_ECHO_REQUEST, Frames.bits(Frames.VIP), 80, Frames.bits(Frames.CLIENT), 40000);
        assertThat(f.parse(ByteBuffer.wrap(echo), 0, echo.length)).isTrue();
        assertThat(f.hasQuotedFlow()).isFalse();
    }
}
