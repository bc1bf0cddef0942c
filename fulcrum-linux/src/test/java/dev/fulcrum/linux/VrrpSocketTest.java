package dev.fulcrum.linux;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two namespaces joined by a veth pair: what one {@link VrrpSocket} sends the other receives,
 * with the IP header a VRRP receiver checks (protocol 112, TTL 255, source, destination).
 */
class VrrpSocketTest {

    private static final byte[] MESSAGE = {0x31, 0x4d, (byte) 0x96, 0x01, 0x00, 0x64, 0x42, (byte) 0xb5,
            0x0a, 0x4d, 0x00, 0x64};

    private TestNetns a;
    private TestNetns b;
    private Inet4Address addressA;
    private Inet4Address addressB;

    @BeforeEach
    void pair() throws Exception {
        String why = TestNetns.unavailableReason();
        assumeTrue(why == null, () -> "skipped: " + why);
        a = TestNetns.create();
        b = TestNetns.create();
        a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name);
        a.ip("addr", "add", "10.99.1.1/24", "dev", "va");
        b.ip("addr", "add", "10.99.1.2/24", "dev", "vb");
        a.ip("link", "set", "va", "up");
        b.ip("link", "set", "vb", "up");
        addressA = (Inet4Address) InetAddress.getByName("10.99.1.1");
        addressB = (Inet4Address) InetAddress.getByName("10.99.1.2");
    }

    @AfterEach
    void remove() throws Exception {
        for (TestNetns ns : new TestNetns[] {a, b}) {
            if (ns != null) {
                ns.close();
            }
        }
    }

    @Test
    void multicastAdvertArrivesWithTtl255AndItsIpHeader() throws Exception {
        int indexA = a.index("va");
        int indexB = b.index("vb");
        try (VrrpSocket receiver = b.call(() -> VrrpSocket.open("vb", indexB, addressB, List.of()));
             VrrpSocket sender = a.call(() -> VrrpSocket.open("va", indexA, addressA, List.of()))) {
            byte[] packet = new byte[1500];
            int[] received = {0};
            // the group join may take a moment to reach the other side: send until it arrives
            long until = System.nanoTime() + 5_000_000_000L;
            while (received[0] == 0 && System.nanoTime() < until) {
                a.call(() -> {
                    sender.send(MESSAGE, MESSAGE.length, VrrpSocket.GROUP);
                    return null;
                });
                received[0] = b.call(() -> receiver.receive(packet, 200_000_000L));
            }
            assertThat(received[0]).isEqualTo(20 + MESSAGE.length);
            ByteBuffer ip = ByteBuffer.wrap(packet, 0, received[0]);
            assertThat(ip.get(8) & 0xFF).as("TTL").isEqualTo(255);
            assertThat(ip.get(9) & 0xFF).as("protocol").isEqualTo(112);
            assertThat(InetAddress.getByAddress(java.util.Arrays.copyOfRange(packet, 12, 16))).isEqualTo(addressA);
            assertThat(InetAddress.getByAddress(java.util.Arrays.copyOfRange(packet, 16, 20))).isEqualTo(VrrpSocket.GROUP);
            assertThat(java.util.Arrays.copyOfRange(packet, 20, received[0])).isEqualTo(MESSAGE);
        }
    }

    @Test
    void unicastAdvertGoesToThePeer() throws Exception {
        int indexA = a.index("va");
        int indexB = b.index("vb");
        try (VrrpSocket receiver = b.call(() -> VrrpSocket.open("vb", indexB, addressB, List.of(addressA)));
             VrrpSocket sender = a.call(() -> VrrpSocket.open("va", indexA, addressA, List.of(addressB)))) {
            assertThat(sender.destinations()).containsExactly(addressB);
            a.call(() -> {
                sender.send(MESSAGE, MESSAGE.length, addressB);
                return null;
            });
            byte[] packet = new byte[1500];
            int n = b.call(() -> receiver.receive(packet, 2_000_000_000L));
            assertThat(n).isEqualTo(32);
            assertThat(packet[8] & 0xFF).as("TTL").isEqualTo(255);
            assertThat(InetAddress.getByAddress(java.util.Arrays.copyOfRange(packet, 16, 20))).isEqualTo(addressB);
            assertThatThrownBy(() -> sender.send(MESSAGE, MESSAGE.length, VrrpSocket.GROUP))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void receiveReturnsOnTimeoutAndOnWakeup() throws Exception {
        int indexB = b.index("vb");
        try (VrrpSocket socket = b.call(() -> VrrpSocket.open("vb", indexB, addressB, List.of()))) {
            long started = System.nanoTime();
            int n = b.call(() -> socket.receive(new byte[1500], 100_000_000L));
            long waitedMillis = (System.nanoTime() - started) / 1_000_000;
            assertThat(n).isZero();
            assertThat(waitedMillis).isBetween(95L, 2_000L);

            socket.wakeup(); // before the wait: the next wait returns at once
            started = System.nanoTime();
            n = b.call(() -> socket.receive(new byte[1500], Long.MAX_VALUE));
            assertThat(n).isZero();
            assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(2_000L);
        }
    }

    @Test
    void unknownInterfaceIsNamedInTheError() throws Exception {
        assertThatThrownBy(() -> b.call(() -> VrrpSocket.open("nope0", 99, addressB, List.of())))
                .isInstanceOf(NativeException.class)
                .hasMessage("setsockopt(SO_BINDTODEVICE nope0): ENODEV (No such device)");
    }
}
