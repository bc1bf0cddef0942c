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

    /**
     * A listening socket sees the neighbour's request for an address nobody holds and answers it:
     * the neighbour's kernel then sends to that address at our MAC (what DSR's answer-arp does).
     */
    @Test
    void answersARequestForAnAddressItDoesNotHold() throws Exception {
        int index = a.index("va");
        byte[] mac = {0x02, 0, 0, 0, 0, 0x0a};
        byte[] vip = {10, 99, 2, 100};
        try (ArpSocket socket = a.call(() -> ArpSocket.openListening("va", index))) {
            // b's kernel asks who has 10.99.2.100 when something there is tried
            Process asking = new ProcessBuilder("ip", "netns", "exec", b.name, "curl", "-s", "-m", "3",
                    "http://10.99.2.100:9/").start();
            try {
                byte[] request = a.call(() -> {
                    byte[] buf = new byte[256];
                    long until = System.nanoTime() + 5_000_000_000L;
                    while (System.nanoTime() < until) {
                        int n = socket.receive(buf, 200_000_000L);
                        // operation 1 (request) for the target address at bytes 24..27
                        if (n >= 28 && buf[7] == 1 && buf[24] == 10 && buf[25] == 99 && buf[26] == 2 && buf[27] == 100) {
                            return java.util.Arrays.copyOf(buf, n);
                        }
                    }
                    return null;
                });
                assertThat(request).as("b's ARP request for 10.99.2.100").isNotNull();
                byte[] askerMac = java.util.Arrays.copyOfRange(request, 8, 14);
                byte[] askerIp = java.util.Arrays.copyOfRange(request, 14, 18);
                byte[] reply = new byte[28];
                java.nio.ByteBuffer.wrap(reply).putShort((short) 1).putShort((short) 0x0800).put((byte) 6)
                        .put((byte) 4).putShort((short) 2).put(mac).put(vip).put(askerMac).put(askerIp);
                a.call(() -> {
                    socket.send(reply, askerMac);
                    return null;
                });
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                        assertThat(b.ip("neigh", "show", "10.99.2.100")).contains("lladdr 02:00:00:00:00:0a"));
            } finally {
                asking.destroyForcibly();
            }
        }
    }
}
