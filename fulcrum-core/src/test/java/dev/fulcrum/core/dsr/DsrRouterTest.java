package dev.fulcrum.core.dsr;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static dev.fulcrum.core.dsr.DsrTargetsTest.down;
import static dev.fulcrum.core.dsr.DsrTargetsTest.draining;
import static dev.fulcrum.core.dsr.DsrTargetsTest.mac;
import static dev.fulcrum.core.dsr.DsrTargetsTest.up;
import static dev.fulcrum.core.dsr.Frames.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class DsrRouterTest {

    private static final String A = "10.99.0.11";
    private static final String B = "10.99.0.12";
    private static final String C = "10.99.0.13";
    private static final String D = "10.99.0.14";

    private final AtomicReference<DsrTargets> targets =
            new AtomicReference<>(DsrTargets.empty().update(List.of(up(A), up(B), up(C))));
    private DsrRouter router = router(false);

    private DsrRouter router(boolean vnetHeaderOnSend) {
        return new DsrRouter(DsrSettings.of(Frames.VIP, Set.of(80), Frames.BALANCER_MAC, 1500, vnetHeaderOnSend), targets);
    }

    private void pool(DsrServer... servers) {
        targets.set(targets.get().update(List.of(servers)));
    }

    private PacketResult route(byte[] frame) {
        return router.route(ByteBuffer.wrap(frame), 0, frame.length, 0);
    }

    /** Sends flow i's SYN (client 10.1.x.y, port 1024+) and answers the server it went to (by MAC), or the result. */
    private String send(int flow, long nowNanos) {
        byte[] frame = Frames.synFrom(0x0a010000 + (flow >>> 8), 1024 + (flow & 0xFF));
        PacketResult result = router.route(ByteBuffer.wrap(frame), 0, frame.length, nowNanos);
        if (result != PacketResult.FORWARDED) {
            return result.label();
        }
        long mac = MacAddress.read(ByteBuffer.wrap(frame), 0);
        for (String host : List.of(A, B, C, D)) {
            if (mac(host) == mac) {
                return host;
            }
        }
        throw new AssertionError("unknown MAC " + MacAddress.format(mac));
    }

    private Map<Integer, String> sendFlows(int count, long nowNanos) {
        Map<Integer, String> servers = new HashMap<>();
        for (int flow = 0; flow < count; flow++) {
            servers.put(flow, send(flow, nowNanos));
        }
        return servers;
    }

    @Test
    void forwardsTheCapturedSynWithOnlyTheMacAddressesChanged() {
        byte[] syn = hex(Frames.SYN);

        assertThat(route(syn)).isEqualTo(PacketResult.FORWARDED);

        String server = MacAddress.format(MacAddress.read(ByteBuffer.wrap(syn), 0)).replace(":", "");
        assertThat(server).isIn("020000000111", "020000000112", "020000000113");
        assertThat(hex(syn)).isEqualTo(server + "02000000001b" + Frames.SYN.substring(24));
        assertThat(router.counters().packets(PacketResult.FORWARDED)).isEqualTo(1);
        assertThat(router.counters().newFlows()).isEqualTo(1);
    }

    @Test
    void withoutAVnetHeaderOnSendTheChecksumIsFinishedHere() {
        byte[] frame = hex(Frames.SYN_VNET_HEADER + Frames.SYN);
        int expected = Frames.referenceChecksum(frame, 10 + 14);

        assertThat(router.route(ByteBuffer.wrap(frame), 0, 10, frame.length, 0)).isEqualTo(PacketResult.FORWARDED);

        assertThat(Frames.u16(frame, 10 + 34 + 16)).isEqualTo(expected);
        assertThat(hex(frame).substring(0, 20)).isEqualTo(Frames.SYN_VNET_HEADER);
        assertThat(hex(frame).substring(32, 44)).isEqualTo("02000000001b");
    }

    @Test
    void withAVnetHeaderOnSendTheFrameKeepsItsPartialChecksumAndHeader() {
        router = router(true);
        byte[] frame = hex(Frames.UDP_VNET_HEADER + Frames.UDP);

        assertThat(router.route(ByteBuffer.wrap(frame), 0, 10, frame.length, 0)).isEqualTo(PacketResult.FORWARDED);

        // only the MACs changed: the kernel finishes the checksum as the header asks
        assertThat(hex(frame).substring(44)).isEqualTo((Frames.UDP_VNET_HEADER + Frames.UDP).substring(44));
        assertThat(hex(frame).substring(0, 20)).isEqualTo(Frames.UDP_VNET_HEADER);
    }

    @Test
    void aFrameOverTheMtuIsForwardedOnlyAsGsoWithAVnetHeaderOnSend() {
        byte[] big = Frames.concat(hex(Frames.FIRST_FRAGMENT_HEADERS.substring(0, 28 + 40)), new byte[3000]);
        ByteBuffer b = ByteBuffer.wrap(Frames.concat(new byte[VnetHeader.LENGTH], big));
        b.putShort(10 + 16, (short) (big.length - 14)); // total length
        b.putShort(10 + 20, (short) 0x4000); // DF, not a fragment
        b.put(10 + 23, (byte) Ipv4Frame.TCP);
        b.putShort(10 + 36, (short) 80);
        int end = b.capacity();

        assertThat(router.route(b, 10, end, 0)).as("no header").isEqualTo(PacketResult.TOO_BIG);
        assertThat(router.route(b, 0, 10, end, 0)).as("header, not GSO").isEqualTo(PacketResult.TOO_BIG);
        b.put(1, (byte) VnetHeader.GSO_TCPV4);
        assertThat(router.route(b, 0, 10, end, 0)).as("GSO, finished here").isEqualTo(PacketResult.TOO_BIG);
        router = router(true);
        assertThat(router.route(b, 0, 10, end, 0)).as("GSO, handed on").isEqualTo(PacketResult.FORWARDED);
    }

    @Test
    void framesThatAreNotDsrTrafficAreIgnored() {
        assertThat(route(hex(Frames.ARP))).isEqualTo(PacketResult.NOT_IPV4);
        assertThat(route(hex(Frames.IPV6))).isEqualTo(PacketResult.NOT_IPV4);
        assertThat(route(Frames.withVlanTag(hex(Frames.SYN), 100))).isEqualTo(PacketResult.VLAN_TAGGED);
        byte[] otherHost = hex(Frames.SYN);
        otherHost[5] = 0x1c;
        assertThat(route(otherHost)).isEqualTo(PacketResult.NOT_OUR_MAC);
        byte[] otherAddress = hex(Frames.SYN);
        otherAddress[33] = 101;
        assertThat(route(otherAddress)).isEqualTo(PacketResult.NOT_FOR_VIP);

        for (PacketResult r : List.of(PacketResult.NOT_IPV4, PacketResult.VLAN_TAGGED, PacketResult.NOT_OUR_MAC,
                PacketResult.NOT_FOR_VIP)) {
            assertThat(r.ignored()).isTrue();
        }
        assertThat(router.counters().packets(PacketResult.NOT_IPV4)).isEqualTo(2);
        assertThat(router.counters().packets(PacketResult.FORWARDED)).isZero();
    }

    @Test
    void aForwardedFrameSeenAgainIsNotForwardedTwice() {
        // a packet socket also reads what the host sends: our own output must not loop
        byte[] syn = hex(Frames.SYN);
        assertThat(route(syn)).isEqualTo(PacketResult.FORWARDED);
        assertThat(route(syn)).isEqualTo(PacketResult.NOT_OUR_MAC);
    }

    @Test
    void dsrTrafficThatCannotGoIsDropped() {
        byte[] icmp = hex(Frames.SYN);
        icmp[23] = 1;
        assertThat(route(icmp)).isEqualTo(PacketResult.NOT_TCP_UDP);
        byte[] https = hex(Frames.SYN);
        https[36] = 0x01;
        https[37] = (byte) 0xbb;
        assertThat(route(https)).isEqualTo(PacketResult.NOT_DSR_PORT);
        assertThat(route(java.util.Arrays.copyOf(hex(Frames.SYN), 40))).isEqualTo(PacketResult.MALFORMED);
        byte[] badOffsets = hex("01000000000022004000" + Frames.SYN);
        assertThat(router.route(ByteBuffer.wrap(badOffsets), 0, 10, badOffsets.length, 0)).isEqualTo(PacketResult.MALFORMED);

        assertThat(List.of(PacketResult.NOT_TCP_UDP, PacketResult.NOT_DSR_PORT, PacketResult.MALFORMED))
                .allMatch(PacketResult::dropped);
        assertThat(router.counters().newFlows()).isZero();
    }

    @Test
    void bothFragmentsOfADatagramReachTheSameServer() {
        Map<String, Integer> seen = new HashMap<>();
        for (int client = 1; client <= 50; client++) {
            byte[] first = Frames.firstFragment();
            byte[] second = Frames.secondFragment();
            ByteBuffer.wrap(first).putInt(26, 0x0a020000 + client);
            ByteBuffer.wrap(second).putInt(26, 0x0a020000 + client);
            assertThat(route(first)).isEqualTo(PacketResult.FORWARDED);
            assertThat(route(second)).isEqualTo(PacketResult.FORWARDED);
            assertThat(hex(second).substring(0, 12)).isEqualTo(hex(first).substring(0, 12));
            seen.merge(hex(first).substring(0, 12), 1, Integer::sum);
        }
        assertThat(seen).hasSize(3); // fragments still spread by client address
    }

    @Test
    void aFirstFragmentToAnotherPortIsDroppedAndLaterOnesPass() {
        byte[] first = Frames.firstFragment();
        first[36] = 0x01;
        first[37] = (byte) 0xbb;
        assertThat(route(first)).isEqualTo(PacketResult.NOT_DSR_PORT);
        // a later fragment carries no port to check; the server drops it when reassembly times out
        assertThat(route(Frames.secondFragment())).isEqualTo(PacketResult.FORWARDED);
    }

    @Test
    void flowsKeepTheirServersWhenServersJoin() {
        Map<Integer, String> before = sendFlows(3000, 0);

        pool(up(A), up(B), up(C), up(D));

        assertThat(sendFlows(3000, 1)).isEqualTo(before);
        // without the flow table a quarter of them would have moved to the newcomer
        router = router(false);
        Map<Integer, String> fresh = sendFlows(3000, 1);
        assertThat(fresh.values().stream().filter(D::equals).count()).isBetween(600L, 900L);
    }

    /** Routes the ICMP frame and answers the server it went to, or the result. */
    private String sendIcmp(DsrRouter through, byte[] frame) {
        PacketResult result = through.route(ByteBuffer.wrap(frame), 0, frame.length, 1);
        if (result != PacketResult.FORWARDED) {
            return result.label();
        }
        long mac = MacAddress.read(ByteBuffer.wrap(frame), 0);
        return List.of(A, B, C, D).stream().filter(h -> mac(h) == mac).findFirst()
                .orElseThrow(() -> new AssertionError("unknown MAC " + MacAddress.format(mac)));
    }

    /** "Fragmentation needed" about flow i's answer (VIP:80 → the client of {@link #send}). */
    private static byte[] fragmentationNeeded(int flow) {
        return Frames.icmpAbout(Frames.ICMP_FRAGMENTATION_NEEDED, Frames.bits(Frames.VIP), 80,
                0x0a010000 + (flow >>> 8), 1024 + (flow & 0xFF));
    }

    /**
     * Path MTU discovery through DSR: a router that cannot forward a server's answer to the client
     * sends "fragmentation needed" to the virtual IP; it must reach the server that sent the answer
     * — the flow's server from the table even after the pool changed, and, on a forwarder thread
     * whose table lacks the flow, the Maglev pick, which names the same server while the pool stays.
     */
    @Test
    void fragmentationNeededReachesTheServerOfTheFlowItIsAbout() {
        Map<Integer, String> flows = sendFlows(400, 0);
        DsrRouter otherThread = router(false);
        for (int flow = 0; flow < 400; flow++) {
            assertThat(sendIcmp(router, fragmentationNeeded(flow))).as("flow %d", flow).isEqualTo(flows.get(flow));
            assertThat(sendIcmp(otherThread, fragmentationNeeded(flow))).as("flow %d", flow).isEqualTo(flows.get(flow));
        }

        pool(up(A), up(B), up(C), up(D));

        int movedByMaglev = 0;
        for (int flow = 0; flow < 400; flow++) {
            assertThat(sendIcmp(router, fragmentationNeeded(flow))).as("flow %d", flow).isEqualTo(flows.get(flow));
            if (!sendIcmp(otherThread, fragmentationNeeded(flow)).equals(flows.get(flow))) {
                movedByMaglev++;
            }
        }
        assertThat(movedByMaglev).as("errors the pick alone would send elsewhere").isBetween(50, 150);
        assertThat(router.counters().newFlows()).as("an ICMP error starts no flow").isEqualTo(400);
        assertThat(otherThread.counters().newFlows()).isZero();
    }

    @Test
    void icmpThatIsNotAnErrorAboutADsrAnswerIsDropped() {
        int client = 0x0a010000;
        assertThat(sendIcmp(router, Frames.icmpAbout(Frames.ICMP_ECHO_REQUEST, Frames.bits(Frames.VIP), 80, client, 1024)))
                .as("a ping to the virtual IP").isEqualTo("not-tcp-udp");
        assertThat(sendIcmp(router, Frames.icmpAbout(Frames.ICMP_FRAGMENTATION_NEEDED, 0x0a630063, 80, client, 1024)))
                .as("about a packet from another address").isEqualTo("not-tcp-udp");
        assertThat(sendIcmp(router, Frames.icmpAbout(Frames.ICMP_FRAGMENTATION_NEEDED, Frames.bits(Frames.VIP), 443,
                client, 1024))).as("about a port DSR does not serve").isEqualTo("not-dsr-port");
        byte[] truncated = java.util.Arrays.copyOf(fragmentationNeeded(0), 14 + 20 + 8 + 20 + 4);
        ByteBuffer.wrap(truncated).putShort(16, (short) (truncated.length - 14));
        assertThat(sendIcmp(router, truncated)).as("quoting too little to hold the ports").isEqualTo("not-tcp-udp");
    }

    @Test
    void aDrainingServerKeepsItsFlowsButGetsNoNewOnes() {
        Map<Integer, String> before = sendFlows(3000, 0);

        pool(up(A), draining(B), up(C));

        assertThat(sendFlows(3000, 1)).isEqualTo(before);
        for (int flow = 3000; flow < 6000; flow++) {
            assertThat(send(flow, 1)).isNotEqualTo(B);
        }
        assertThat(router.counters().movedFlows()).isZero();
    }

    @Test
    void flowsMoveOnlyWhenTheirServerGoesDown() {
        Map<Integer, String> before = sendFlows(3000, 0);
        long onB = before.values().stream().filter(B::equals).count();

        pool(up(A), down(B), up(C));

        Map<Integer, String> after = sendFlows(3000, 1);
        for (int flow = 0; flow < 3000; flow++) {
            if (before.get(flow).equals(B)) {
                assertThat(after.get(flow)).isIn(A, C);
            } else {
                assertThat(after.get(flow)).isEqualTo(before.get(flow));
            }
        }
        assertThat(router.counters().movedFlows()).isEqualTo(onB);

        // B comes back: the moved flows stay where they went
        pool(up(A), up(B), up(C));
        assertThat(sendFlows(3000, 2)).isEqualTo(after);
    }

    @Test
    void aRemovedServersFlowsMoveAndDoNotFollowItsSlot() {
        Map<Integer, String> before = sendFlows(3000, 0);

        pool(up(A), up(D), up(C)); // D takes B's slot

        Map<Integer, String> after = sendFlows(3000, 1);
        for (int flow = 0; flow < 3000; flow++) {
            if (!before.get(flow).equals(B)) {
                assertThat(after.get(flow)).isEqualTo(before.get(flow));
            }
        }
        long movedToD = after.values().stream().filter(D::equals).count();
        long wereOnB = before.values().stream().filter(B::equals).count();
        assertThat(movedToD).isLessThan(wereOnB); // spread over A, C, D by Maglev, not all handed to D
    }

    @Test
    void aFlowIdleBeyondItsTimeoutIsPickedAfresh() {
        long idle = DsrSettings.DEFAULT_TCP_IDLE_TIMEOUT.toNanos();
        Map<Integer, String> before = sendFlows(3000, 0);
        pool(up(A), up(B), up(C), up(D));

        Map<Integer, String> later = sendFlows(3000, idle + 1);

        assertThat(later).isNotEqualTo(before);
        assertThat(later.values().stream().filter(D::equals).count()).isBetween(600L, 900L);
        assertThat(router.counters().newFlows()).isEqualTo(6000);
    }

    @Test
    void withNoServerUpNewFlowsAreDroppedUntilOneComesUp() {
        pool(down(A), down(B), down(C));
        assertThat(send(1, 0)).isEqualTo("no-server");
        assertThat(router.counters().packets(PacketResult.NO_SERVER)).isEqualTo(1);
        assertThat(router.counters().newFlows()).isZero();

        pool(down(A), up(B), down(C));
        assertThat(send(1, 1)).isEqualTo(B);
        assertThat(router.counters().newFlows()).isEqualTo(1);
    }

    @Test
    void aFlowWhoseServerLostItsMacWaitsForItInsteadOfMoving() {
        Map<Integer, String> before = sendFlows(300, 0);
        int flowOnB = before.entrySet().stream().filter(e -> e.getValue().equals(B)).findFirst().orElseThrow().getKey();

        pool(up(A), new DsrServer(B + ":80", MacAddress.UNKNOWN, 1, true, false), up(C));
        assertThat(send(flowOnB, 1)).isEqualTo("no-mac");
        for (int flow = 300; flow < 600; flow++) {
            assertThat(send(flow, 1)).isNotEqualTo(B);
        }

        pool(up(A), up(B), up(C));
        assertThat(send(flowOnB, 2)).isEqualTo(B);
    }

    @Test
    void spreadsRandomFlowsEvenlyOverThreeServers() {
        SplittableRandom random = new SplittableRandom(3);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 30_000; i++) {
            byte[] frame = Frames.synFrom(random.nextInt(), 1024 + random.nextInt(64_000));
            assertThat(route(frame)).isEqualTo(PacketResult.FORWARDED);
            counts.merge(hex(frame).substring(0, 12), 1, Integer::sum);
        }
        assertThat(counts).hasSize(3);
        for (int count : counts.values()) {
            assertThat(count / 30_000.0).isCloseTo(1 / 3.0, within(0.02));
        }
    }

    @Test
    void routesAMillionPacketsWithoutAllocating() {
        int flows = 4096;
        int length = Frames.SYN.length() / 2;
        ByteBuffer ring = ByteBuffer.allocateDirect(flows * 128);
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < flows; i++) {
            ring.put(i * 128, Frames.synFrom(0x0a030000 + i, 1024 + i));
            starts.add(i * 128);
        }
        int[] at = starts.stream().mapToInt(Integer::intValue).toArray();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        run(ring, at, length, 200_000); // warm up: JIT, first-touch of the flow table

        long before = threads.getCurrentThreadAllocatedBytes();
        long forwarded = run(ring, at, length, 1_000_000);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(forwarded).isEqualTo(1_000_000);
        assertThat(allocated).as("bytes allocated for 1M packets").isLessThan(16 * 1024);
    }

    private long run(ByteBuffer ring, int[] starts, int length, int packets) {
        long forwarded = 0;
        for (int i = 0; i < packets; i++) {
            int start = starts[i & (starts.length - 1)];
            MacAddress.write(ring, start, Frames.BALANCER_MAC); // as received again
            if (router.route(ring, start, start + length, i) == PacketResult.FORWARDED) {
                forwarded++;
            }
        }
        return forwarded;
    }

    @Test
    void settingsRefuseWhatCannotWork() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DsrSettings.of(Frames.VIP, Set.of(), Frames.BALANCER_MAC, 1500, true))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DsrSettings.of(Frames.VIP, Set.of(0), Frames.BALANCER_MAC, 1500, true))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DsrSettings.of(Frames.VIP, Set.of(80), MacAddress.UNKNOWN, 1500, true))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DsrSettings(Frames.VIP, Set.of(80), Frames.BALANCER_MAC, 1500,
                true, 1 << 10, Duration.ZERO, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
    }
}
