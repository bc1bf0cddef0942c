package dev.fulcrum.core.dsr;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Pick;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static dev.fulcrum.core.dsr.DsrTargetsTest.mac;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * DSR in a cluster: the table is the pool's shared one (the same servers, weights and order as a
 * {@code maglev} pool's, so every node sends a flow to the same server), this node's view applies
 * only at the pick, and after a table change the previous table serves, for a grace period, the
 * packets of flows this node never saw that do not open a connection — flows the router (ECMP)
 * moved here from a node that picked under the previous table. Time is the {@code nowNanos}
 * argument, so the grace period's end is exact.
 */
class DsrClusterTableTest {

    private static final List<String> HOSTS = List.of("10.99.0.13", "10.99.0.11", "10.99.0.12");
    private static final String NEWCOMER = "10.99.0.14";
    private static final long GRACE = 30_000_000_000L;
    /** An arbitrary start on the nanoTime scale, near the wrap, to show deadlines compare by subtraction. */
    private static final long T0 = Long.MAX_VALUE - 10_000_000_000L;

    private final Pool pool = sharedPool(HOSTS);
    private final AtomicReference<DsrTargets> targets = new AtomicReference<>(DsrTargets.empty());
    private final DsrRouter router = new DsrRouter(DsrSettings.of(Frames.VIP, Set.of(80), Frames.BALANCER_MAC, 1500,
            false), targets);

    private static Pool sharedPool(List<String> hosts) {
        Pool pool = new Pool("video", Algorithm.MAGLEV, HashKey.SOURCE_IP);
        pool.useSharedTable();
        hosts.forEach(h -> pool.add(new HostPort(h, 80), h.endsWith("2") ? 2 : 1, ServerState.UP));
        return pool;
    }

    /** What the DSR service does on each pool change: the snapshot's servers, all MACs known, its shared table. */
    private static DsrTargets refresh(DsrTargets before, Pool pool, long nowNanos, long graceNanos) {
        return before.updateShared(DsrServer.of(pool.snapshot(), s -> mac(s.address().host())),
                pool.snapshot().sharedTable(), nowNanos, graceNanos);
    }

    private void refresh(long nowNanos) {
        targets.set(refresh(targets.get(), pool, nowNanos, GRACE));
    }

    private Server server(String host) {
        return pool.find(host + ":80").orElseThrow();
    }

    /** A client packet of flow i (client 10.1.x.y, port 1024+), a SYN or an ACK without SYN. */
    private static byte[] packet(int flow, boolean syn) {
        byte[] frame = Frames.synFrom(0x0a010000 + (flow >>> 8), 1024 + (flow & 0xFF));
        if (!syn) {
            frame[14 + 20 + 13] = 0x10; // TCP flags: ACK only
        }
        return frame;
    }

    private static long hash(byte[] frame) {
        Ipv4Frame f = new Ipv4Frame();
        assertThat(f.parse(ByteBuffer.wrap(frame), 0, frame.length)).isTrue();
        return f.flowHash();
    }

    /** Routes flow i's packet at {@code nowNanos}; answers the server's host (by MAC) or the drop result. */
    private String send(int flow, boolean syn, long nowNanos) {
        byte[] frame = packet(flow, syn);
        PacketResult result = router.route(ByteBuffer.wrap(frame), 0, frame.length, nowNanos);
        if (result != PacketResult.FORWARDED) {
            return result.label();
        }
        long mac = MacAddress.read(ByteBuffer.wrap(frame), 0);
        for (String host : List.of("10.99.0.11", "10.99.0.12", "10.99.0.13", NEWCOMER)) {
            if (mac(host) == mac) {
                return host;
            }
        }
        throw new AssertionError("unknown MAC " + MacAddress.format(mac));
    }

    private static String host(DsrTargets t, int slot) {
        return slot < 0 ? "none" : t.name(slot).substring(0, t.name(slot).indexOf(':'));
    }

    /** The first flow at or after {@code from} that the two snapshots' tables give different servers. */
    private static int flowMovedBetween(DsrTargets before, DsrTargets after, int from) {
        for (int flow = from; ; flow++) {
            long h = hash(packet(flow, true));
            if (!host(before, before.pick(h)).equals(host(after, after.pick(h)))) {
                return flow;
            }
        }
    }

    @Test
    void nodesThatLearntTheServersInAnotherOrderSendEveryFlowToTheSameServerAsTheMaglevPool() {
        DsrTargets one = refresh(DsrTargets.empty(), pool, T0, GRACE);
        Pool other = sharedPool(HOSTS.reversed());
        DsrTargets two = refresh(DsrTargets.empty(), other, T0, GRACE);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            long h = random.nextLong();
            String dsr = one.name(one.pick(h));
            assertThat(two.name(two.pick(h))).isEqualTo(dsr);
            // the proxy's maglev over the same pool: the same table, the same pick
            assertThat(pool.snapshot().pick(Pick.of(h, random)).id()).isEqualTo(dsr);
        }
    }

    @Test
    void aServerOutOfUseHereHandsItsFlowsToTheNextSlotAndNoOtherFlowMoves() {
        DsrTargets all = refresh(DsrTargets.empty(), pool, T0, GRACE);
        pool.setCheck(server("10.99.0.11"), CheckState.DOWN);
        pool.setDraining(server("10.99.0.13"), true);
        DsrTargets local = refresh(all, pool, T0, GRACE);

        assertThat(local.inGracePeriod(T0)).as("health and drains here do not change the table").isFalse();
        SplittableRandom random = new SplittableRandom(8);
        int kept = 0;
        for (int i = 0; i < 10_000; i++) {
            long h = random.nextLong();
            String before = all.name(all.pick(h));
            String after = local.name(local.pick(h));
            assertThat(after).isEqualTo("10.99.0.12:80");
            // and it is the maglev pool's pick with the same servers out of rotation
            assertThat(pool.snapshot().pick(Pick.of(h, random)).id()).isEqualTo(after);
            kept += before.equals(after) ? 1 : 0;
        }
        assertThat(kept).as("flows of .12 (weight 2 of 4) stayed").isBetween(4_500, 5_500);

        // a MAC not known here yet counts as out of use too
        DsrTargets noMac = all.updateShared(List.of(new DsrServer("10.99.0.11:80", mac("10.99.0.11"), 1, true, false),
                        new DsrServer("10.99.0.12:80", MacAddress.UNKNOWN, 2, true, false),
                        new DsrServer("10.99.0.13:80", mac("10.99.0.13"), 1, true, false)),
                pool.snapshot().sharedTable(), T0, GRACE);
        for (int i = 0; i < 1_000; i++) {
            assertThat(noMac.name(noMac.pick(random.nextLong()))).isNotEqualTo("10.99.0.12:80");
        }
    }

    @Test
    void afterATableChangeAnUnknownFlowWithoutSynGoesToThePreviousTablesServerUntilTheGraceEnds() {
        refresh(T0);
        DsrTargets before = targets.get();
        int tracked = flowMovedBetween(before, refresh(before, withNewcomer(), T0, GRACE), 0);
        assertThat(send(tracked, true, T0)).as("a flow this node sees start").isEqualTo(host(before, before.pick(hash(packet(tracked, true)))));

        pool.add(new HostPort(NEWCOMER, 80), 1, ServerState.UP);
        long change = T0 + 1_000_000_000L;
        refresh(change);
        DsrTargets after = targets.get();
        assertThat(after.inGracePeriod(change)).isTrue();
        int moved = flowMovedBetween(before, after, tracked + 1);
        int opened = flowMovedBetween(before, after, moved + 1);
        int late = flowMovedBetween(before, after, opened + 1);
        String oldServer = host(before, before.pick(hash(packet(moved, false))));
        String newServer = host(after, after.pick(hash(packet(moved, false))));

        assertThat(send(moved, false, change + 1)).as("unknown, no SYN: moved here by the router").isEqualTo(oldServer);
        assertThat(router.counters().graceFlows()).isEqualTo(1);
        assertThat(send(opened, true, change + 1)).as("a SYN starts under the new table")
                .isEqualTo(host(after, after.pick(hash(packet(opened, true)))));
        assertThat(send(tracked, false, change + 1)).as("a flow this node tracks keeps its server")
                .isEqualTo(host(before, before.pick(hash(packet(tracked, true)))));

        long end = change + GRACE;
        assertThat(send(late, false, end - 1)).as("the last nanosecond of grace")
                .isEqualTo(host(before, before.pick(hash(packet(late, false)))));
        assertThat(after.inGracePeriod(end)).isFalse();
        int afterGrace = flowMovedBetween(before, after, late + 1);
        assertThat(send(afterGrace, false, end)).as("after the grace period: the new table")
                .isEqualTo(host(after, after.pick(hash(packet(afterGrace, false)))));
        assertThat(send(moved, false, end + 1)).as("a flow placed during the grace period stays, tracked")
                .isEqualTo(oldServer).isNotEqualTo(newServer);
        assertThat(router.counters().graceFlows()).isEqualTo(2);
        assertThat(router.counters().newFlows()).isEqualTo(3);

        // a refresh after the grace period drops the previous table (asked about a time within it)
        refresh(end + 5);
        assertThat(targets.get().pickPrevious(hash(packet(moved, false)), change + 1)).isEqualTo(-1);
    }

    private Pool withNewcomer() {
        Pool next = sharedPool(HOSTS);
        next.add(new HostPort(NEWCOMER, 80), 1, ServerState.UP);
        return next;
    }

    @Test
    void aServerLeavingTheSharedSetGetsItsMovedFlowsWhileItDrainsButADownOneDoesNot() {
        refresh(T0);
        DsrTargets before = targets.get();
        Server leaving = server("10.99.0.11");
        pool.startRemoval(leaving, Instant.EPOCH.plusSeconds(60));
        refresh(T0 + 1);
        DsrTargets after = targets.get();
        assertThat(pool.snapshot().sharedTable()).extracting(ws -> ws.server().id())
                .containsExactly("10.99.0.12:80", "10.99.0.13:80");
        int flow = 0;
        while (!host(before, before.pick(hash(packet(flow, false)))).equals("10.99.0.11")) {
            flow++;
        }
        long h = hash(packet(flow, false));
        assertThat(host(after, after.pickPrevious(h, T0 + 2))).as("still draining: it keeps its flows")
                .isEqualTo("10.99.0.11");
        assertThat(host(after, after.pick(h))).isNotEqualTo("10.99.0.11");

        pool.setCheck(leaving, CheckState.DOWN);
        refresh(T0 + 3);
        DsrTargets down = targets.get();
        assertThat(down.inGracePeriod(T0 + 3)).as("the grace period goes on").isTrue();
        // the previous table's next slot whose server keeps flows, as a pick would fall there
        String fallback = host(down, down.pickPrevious(h, T0 + 4));
        assertThat(fallback).isIn("10.99.0.12", "10.99.0.13");
        assertThat(send(flow, false, T0 + 4)).isEqualTo(fallback);
    }

    @Test
    void aSecondChangeWithinTheGraceReplacesThePreviousTableAndRestartsTheGrace() {
        refresh(T0);
        pool.add(new HostPort(NEWCOMER, 80), 1, ServerState.UP);
        refresh(T0 + 10);
        DsrTargets middle = targets.get();
        pool.setWeight(server(NEWCOMER), 3);
        long second = T0 + GRACE / 2;
        refresh(second);
        DsrTargets last = targets.get();

        assertThat(last.inGracePeriod(T0 + 10 + GRACE)).isTrue();
        assertThat(last.inGracePeriod(second + GRACE)).isFalse();
        SplittableRandom random = new SplittableRandom(9);
        for (int i = 0; i < 1_000; i++) {
            long h = random.nextLong();
            assertThat(last.name(last.pickPrevious(h, second))).isEqualTo(middle.name(middle.pick(h)));
        }
        // a refresh that changes no table (a MAC, a health change) keeps the grace period as it was
        pool.setDraining(server("10.99.0.13"), true);
        refresh(second + 1);
        assertThat(targets.get().inGracePeriod(second + GRACE - 1)).isTrue();
        assertThat(targets.get().inGracePeriod(second + GRACE)).isFalse();
    }

    @Test
    void withoutAGracePeriodAndOnOneNodeThereIsNoPreviousTable() {
        DsrTargets shared = refresh(DsrTargets.empty(), pool, T0, 0);
        pool.add(new HostPort(NEWCOMER, 80), 1, ServerState.UP);
        assertThat(refresh(shared, pool, T0 + 1, 0).inGracePeriod(T0 + 2)).isFalse();
        assertThatThrownBy(() -> refresh(shared, pool, T0, -1)).isInstanceOf(IllegalArgumentException.class);

        // one node: the table is built over the servers taking new flows, and an unknown flow
        // without SYN after a change is picked by the new table, as before clusters existed
        targets.set(DsrTargets.empty().update(List.of(DsrTargetsTest.up("10.99.0.11"), DsrTargetsTest.up("10.99.0.12"))));
        DsrTargets before = targets.get();
        targets.set(before.update(List.of(DsrTargetsTest.up("10.99.0.11"), DsrTargetsTest.up("10.99.0.12"),
                DsrTargetsTest.up(NEWCOMER))));
        DsrTargets after = targets.get();
        assertThat(after.inGracePeriod(T0)).isFalse();
        int flow = flowMovedBetween(before, after, 0);
        assertThat(send(flow, false, T0)).isEqualTo(host(after, after.pick(hash(packet(flow, false)))));
        assertThat(router.counters().graceFlows()).isZero();
    }

    @Test
    void onlyATcpSynWithoutAckOpensAConnection() {
        Ipv4Frame f = new Ipv4Frame();
        byte[] syn = packet(1, true);
        assertThat(f.parse(ByteBuffer.wrap(syn), 0, syn.length)).isTrue();
        assertThat(f.startsTcpConnection()).isTrue();
        for (int flags : new int[] {0x10, 0x12, 0x18, 0x11, 0x04, 0x00}) {
            syn[14 + 20 + 13] = (byte) flags;
            f.parse(ByteBuffer.wrap(syn), 0, syn.length);
            assertThat(f.startsTcpConnection()).as("flags 0x%02x", flags).isFalse();
        }
        byte[] udp = Frames.hex(Frames.UDP);
        f.parse(ByteBuffer.wrap(udp), 0, udp.length);
        assertThat(f.startsTcpConnection()).isFalse();
    }
}
