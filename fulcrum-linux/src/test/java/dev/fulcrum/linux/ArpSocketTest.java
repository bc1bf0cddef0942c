package dev.fulcrum.linux;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A gratuitous ARP sent from one namespace teaches the other one the address's MAC. */
class ArpSocketTest {

    private TestNetns a;
    private TestNetns b;

    @BeforeEach
    void pair() throws Exception {
        String why = TestNetns.unavailableReason();
        assumeTrue(why == null, () -> "skipped: " + why);
        a = TestNetns.create();
        b = TestNetns.create();
        a.ip("link", "add", "va", "address", "02:00:00:00:00:0a", "type", "veth", "peer", "name", "vb",
                "netns", b.name);
        a.ip("addr", "add", "10.99.2.1/24", "dev", "va");
        b.ip("addr", "add", "10.99.2.2/24", "dev", "vb");
        a.ip("link", "set", "va", "up");
        b.ip("link", "set", "vb", "up");
        // accept gratuitous ARP for addresses not yet in the cache (the default only updates entries)
        TestNetns.run("ip", "netns", "exec", b.name, "sysctl", "-q", "-w", "net.ipv4.conf.vb.arp_accept=1");
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
    void gratuitousArpReachesTheNeighbour() throws Exception {
        int index = a.index("va");
        byte[] mac = {0x02, 0, 0, 0, 0, 0x0a};
        byte[] vip = {10, 99, 2, 100};
        // an ARP request announcing 10.99.2.100 at 02:00:00:00:00:0a (sender = target address)
        byte[] announcement = new byte[28];
        java.nio.ByteBuffer.wrap(announcement).putShort((short) 1).putShort((short) 0x0800).put((byte) 6)
                .put((byte) 4).putShort((short) 1).put(mac).put(vip).put(new byte[6]).put(vip);
        try (ArpSocket socket = a.call(() -> ArpSocket.open("va", index))) {
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                a.call(() -> {
                    socket.send(announcement, ArpSocket.BROADCAST);
                    return null;
                });
                assertThat(b.ip("neigh", "show", "10.99.2.100")).contains("lladdr 02:00:00:00:00:0a");
            });
        }
    }
}
