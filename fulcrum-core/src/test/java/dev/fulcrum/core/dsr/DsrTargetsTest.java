package dev.fulcrum.core.dsr;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.MaglevTable;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DsrTargetsTest {

    static DsrServer up(String host) {
        return new DsrServer(host + ":80", mac(host), 1, true, false);
    }

    static DsrServer draining(String host) {
        return new DsrServer(host + ":80", mac(host), 1, false, false);
    }

    static DsrServer down(String host) {
        return new DsrServer(host + ":80", mac(host), 1, false, true);
    }

    /** 02:00:00:00:01:NN for 10.99.0.NN (the digits read as hex, so the MAC shows the address). */
    static long mac(String host) {
        return 0x02_00_00_00_01_00L | Integer.parseInt(host.substring(host.lastIndexOf('.') + 1), 16);
    }

    private static int slotOf(DsrTargets targets, String name) {
        for (int slot = 0; ; slot++) {
            if (name.equals(targets.name(slot))) {
                return slot;
            }
        }
    }

    @Test
    void aServerKeepsItsTargetWhileItStaysInTheList() {
        DsrTargets first = DsrTargets.empty().update(List.of(up("10.99.0.11"), up("10.99.0.12"), up("10.99.0.13")));
        long target = first.target(slotOf(first, "10.99.0.12:80"));

        DsrTargets second = first.update(List.of(up("10.99.0.14"), up("10.99.0.12"), down("10.99.0.13")));
        DsrTargets third = second.update(List.of(up("10.99.0.12")));

        assertThat(second.slotKeeping(target)).isEqualTo(slotOf(second, "10.99.0.12:80"));
        assertThat(third.slotKeeping(target)).isEqualTo(slotOf(third, "10.99.0.12:80"));
        assertThat(third.mac(third.slotKeeping(target))).isEqualTo(mac("10.99.0.12"));
    }

    @Test
    void aSlotLeftByARemovedServerGoesToANewcomerWithoutItsFlows() {
        DsrTargets first = DsrTargets.empty().update(List.of(up("10.99.0.11"), up("10.99.0.12")));
        int slot = slotOf(first, "10.99.0.11:80");
        long oldTarget = first.target(slot);

        DsrTargets second = first.update(List.of(up("10.99.0.15"), up("10.99.0.12")));

        assertThat(slotOf(second, "10.99.0.15:80")).isEqualTo(slot); // the slot is reused...
        assertThat(second.slotKeeping(oldTarget)).isEqualTo(-1); // ...but the removed server's flows do not follow
        assertThat(second.slotKeeping(second.target(slot))).isEqualTo(slot);
    }

    @Test
    void onlyADownServerLosesItsFlows() {
        DsrTargets before = DsrTargets.empty().update(List.of(up("10.99.0.11"), up("10.99.0.12")));
        long target = before.target(slotOf(before, "10.99.0.11:80"));

        assertThat(before.update(List.of(draining("10.99.0.11"), up("10.99.0.12"))).slotKeeping(target)).isNotNegative();
        assertThat(before.update(List.of(new DsrServer("10.99.0.11:80", mac("10.99.0.11"), 0, true, false),
                up("10.99.0.12"))).slotKeeping(target)).as("weight 0").isNotNegative();
        assertThat(before.update(List.of(new DsrServer("10.99.0.11:80", MacAddress.UNKNOWN, 1, true, false),
                up("10.99.0.12"))).slotKeeping(target)).as("MAC lost").isNotNegative();
        assertThat(before.update(List.of(down("10.99.0.11"), up("10.99.0.12"))).slotKeeping(target)).isEqualTo(-1);
        assertThat(before.update(List.of(up("10.99.0.12"))).slotKeeping(target)).as("removed").isEqualTo(-1);
        assertThat(before.slotKeeping(FlowTable.NO_TARGET)).isEqualTo(-1);
    }

    @Test
    void newFlowsGoOnlyToServersInRotationWithAWeightAndAMac() {
        DsrTargets targets = DsrTargets.empty().update(List.of(
                up("10.99.0.11"), draining("10.99.0.12"), down("10.99.0.13"),
                new DsrServer("10.99.0.14:80", MacAddress.UNKNOWN, 1, true, false),
                new DsrServer("10.99.0.15:80", mac("10.99.0.15"), 0, true, false)));
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < 10_000; i++) {
            assertThat(targets.name(targets.pick(random.nextLong()))).isEqualTo("10.99.0.11:80");
        }
    }

    @Test
    void picksWhatTheMaglevBalancerPicksForTheSameServers() {
        // the proxy's maglev algorithm builds the same table over the same names and weights
        List<DsrServer> servers = List.of(up("10.99.0.11"), new DsrServer("10.99.0.12:80", mac("10.99.0.12"), 3, true, false),
                down("10.99.0.13"), up("10.99.0.14"));
        DsrTargets targets = DsrTargets.empty().update(servers);
        List<String> eligible = List.of("10.99.0.11:80", "10.99.0.12:80", "10.99.0.14:80");
        MaglevTable maglev = MaglevTable.build(eligible, new int[] {1, 3, 1}, MaglevTable.DEFAULT_SIZE);
        SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < 10_000; i++) {
            long hash = random.nextLong();
            assertThat(targets.name(targets.pick(hash))).isEqualTo(eligible.get(maglev.lookup(hash)));
        }
    }

    @Test
    void noServerTakingNewFlowsMeansNoPick() {
        assertThat(DsrTargets.empty().pick(42)).isEqualTo(-1);
        DsrTargets allDown = DsrTargets.empty().update(List.of(down("10.99.0.11"), draining("10.99.0.12")));
        assertThat(allDown.acceptsNewFlows()).isFalse();
        assertThat(allDown.pick(42)).isEqualTo(-1);
    }

    @Test
    void anUnchangedListGivesTheSameSnapshot() {
        DsrTargets targets = DsrTargets.empty().update(List.of(up("10.99.0.11"), up("10.99.0.12")));
        assertThat(targets.update(List.of(up("10.99.0.11"), up("10.99.0.12")))).isSameAs(targets);
    }

    @Test
    void aNameListedTwiceIsRefused() {
        assertThatThrownBy(() -> DsrTargets.empty().update(List.of(up("10.99.0.11"), draining("10.99.0.11"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.99.0.11:80");
    }

    @Test
    void serversOfAPoolSnapshotCarryItsStates() {
        Pool pool = new Pool("app", Algorithm.MAGLEV, HashKey.SOURCE_IP);
        Server a = pool.add(new HostPort("10.99.0.11", 80), 2, ServerState.UP);
        Server b = pool.add(new HostPort("10.99.0.12", 80), 1, ServerState.UP);
        Server c = pool.add(new HostPort("10.99.0.13", 80), 1, ServerState.UP);
        pool.setDraining(b, true);
        pool.setCheck(c, CheckState.DOWN);

        List<DsrServer> servers = DsrServer.of(pool.snapshot(), s -> s == a ? mac("10.99.0.11") : MacAddress.UNKNOWN);

        assertThat(servers).containsExactly(
                new DsrServer("10.99.0.11:80", mac("10.99.0.11"), 2, true, false),
                new DsrServer("10.99.0.12:80", MacAddress.UNKNOWN, 1, false, false),
                new DsrServer("10.99.0.13:80", MacAddress.UNKNOWN, 1, false, true));
        assertThat(servers.get(0).acceptsNewFlows()).isTrue();
    }
}
