package dev.fulcrum.core.vrrp;

import dev.fulcrum.core.vrrp.Action.AddVirtualIps;
import dev.fulcrum.core.vrrp.Action.ArmTimer;
import dev.fulcrum.core.vrrp.Action.RemoveVirtualIps;
import dev.fulcrum.core.vrrp.Action.SendAdvert;
import dev.fulcrum.core.vrrp.Action.SendGratuitousArp;
import dev.fulcrum.core.vrrp.Action.Timer;
import dev.fulcrum.core.vrrp.Action.Transition;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.List;

import static dev.fulcrum.core.vrrp.VrrpPacketTest.ip;
import static dev.fulcrum.core.vrrp.VrrpState.BACKUP;
import static dev.fulcrum.core.vrrp.VrrpState.FAULT;
import static dev.fulcrum.core.vrrp.VrrpState.INITIALIZE;
import static dev.fulcrum.core.vrrp.VrrpState.MASTER;
import static org.assertj.core.api.Assertions.assertThat;

/** The §6.4 state machine on a manual clock: every time below is exact, in nanoseconds. */
class VrrpStateMachineTest {

    private static final long MS = 1_000_000L;
    /** An arbitrary origin: nothing may assume the clock starts at 0. */
    private static final long T0 = 7_000_000_000L;
    private static final int INTERVAL = 10; // 100 ms

    private static final Inet4Address LB1 = ip("10.77.0.11");
    private static final Inet4Address LB2 = ip("10.77.0.12");
    private static final List<Inet4Address> VIPS = List.of(ip("10.77.0.100"));

    /** Master-down intervals at 100 ms, from {@link VrrpTimersTest}. */
    private static final long DOWN_150 = 341_406_250L;
    private static final long DOWN_100 = 360_937_500L;
    private static final long SKEW_100 = 60_937_500L;

    private static VrrpStateMachine machine(int priority, boolean preempt, Inet4Address self) {
        return new VrrpStateMachine(new VrrpSettings(77, priority, INTERVAL, preempt, self, VIPS));
    }

    private static VrrpPacket advert(int priority) {
        return new VrrpPacket(77, priority, INTERVAL, VIPS);
    }

    private static List<Action> becameMaster(int priority, long now, String reason) {
        return List.of(new AddVirtualIps(VIPS), new SendAdvert(advert(priority)), new SendGratuitousArp(VIPS),
                new ArmTimer(Timer.ADVERT, now + 100 * MS), new Transition(BACKUP, MASTER, reason));
    }

    /** A machine of priority 100 that has just become MASTER at {@code T0 + DOWN_100}. */
    private static VrrpStateMachine master100(boolean preempt) {
        VrrpStateMachine m = machine(100, preempt, LB2);
        m.startup(T0);
        m.timerFired(T0 + DOWN_100);
        assertThat(m.state()).isEqualTo(MASTER);
        return m;
    }

    @Test
    void startupIsBackupThenMasterAfterExactlyTheMasterDownInterval() {
        VrrpStateMachine m = machine(100, true, LB2);
        assertThat(m.state()).isEqualTo(INITIALIZE);
        assertThat(m.timerArmed()).isFalse();
        assertThat(m.nanosUntilDeadline(T0)).isEqualTo(Long.MAX_VALUE);

        assertThat(m.startup(T0)).containsExactly(new RemoveVirtualIps(VIPS),
                new ArmTimer(Timer.MASTER_DOWN, T0 + DOWN_100), new Transition(INITIALIZE, BACKUP, "startup"));
        assertThat(m.state()).isEqualTo(BACKUP);
        assertThat(m.nextDeadline()).isEqualTo(T0 + DOWN_100);
        assertThat(m.nanosUntilDeadline(T0 + 300 * MS)).isEqualTo(60_937_500L);

        // one nanosecond early: nothing (a spurious wake-up is harmless)
        assertThat(m.timerFired(T0 + DOWN_100 - 1)).isEmpty();
        assertThat(m.state()).isEqualTo(BACKUP);

        assertThat(m.timerFired(T0 + DOWN_100)).isEqualTo(becameMaster(100, T0 + DOWN_100,
                "no advert within the master-down interval (360.9375 ms)"));
        assertThat(m.state()).isEqualTo(MASTER);
        assertThat(m.startup(T0 + DOWN_100)).as("a second startup is ignored").isEmpty();
    }

    @Test
    void theAddressOwnerIsMasterAtOnce() {
        VrrpStateMachine m = machine(255, true, LB1);
        assertThat(m.startup(T0)).containsExactly(new AddVirtualIps(VIPS), new SendAdvert(advert(255)),
                new SendGratuitousArp(VIPS), new ArmTimer(Timer.ADVERT, T0 + 100 * MS),
                new Transition(INITIALIZE, MASTER, "startup as the address owner (priority 255)"));
    }

    @Test
    void aMasterAdvertisesEveryAdvertInterval() {
        VrrpStateMachine m = master100(true);
        long start = T0 + DOWN_100;
        for (int i = 1; i <= 5; i++) {
            long due = start + i * 100 * MS;
            assertThat(m.timerFired(due - 1)).isEmpty();
            assertThat(m.timerFired(due)).containsExactly(new SendAdvert(advert(100)),
                    new ArmTimer(Timer.ADVERT, due + 100 * MS));
        }
        // a late wake-up re-arms from when it ran, as §6.4.3 says ("reset the Adver_Timer")
        long late = start + 600 * MS + 7 * MS;
        assertThat(m.timerFired(late)).containsExactly(new SendAdvert(advert(100)),
                new ArmTimer(Timer.ADVERT, late + 100 * MS));
    }

    @Test
    void anAdvertOfAHigherPriorityKeepsTheBackupAndReArmsTheTimer() {
        VrrpStateMachine m = machine(100, true, LB2);
        m.startup(T0);
        long at = T0 + 200 * MS;
        assertThat(m.advertReceived(at, advert(150), LB1)).containsExactly(new ArmTimer(Timer.MASTER_DOWN, at + DOWN_100));
        // the first deadline passes without effect
        assertThat(m.timerFired(T0 + DOWN_100)).isEmpty();
        // a master advertising every 100 ms keeps it BACKUP for as long as it lasts
        for (long t = at + 100 * MS; t <= T0 + 5_000 * MS; t += 100 * MS) {
            assertThat(m.timerFired(t)).isEmpty();
            m.advertReceived(t, advert(150), LB1);
        }
        assertThat(m.state()).isEqualTo(BACKUP);
        long lastAdvert = T0 + 5_000 * MS;
        assertThat(m.nextDeadline()).isEqualTo(lastAdvert + DOWN_100);
        assertThat(m.timerFired(lastAdvert + DOWN_100)).isEqualTo(becameMaster(100, lastAdvert + DOWN_100,
                "no advert within the master-down interval (360.9375 ms)"));
    }

    @Test
    void aPriorityZeroAdvertMakesTheBackupMasterAfterItsSkewTime() {
        VrrpStateMachine m = machine(100, true, LB2);
        m.startup(T0);
        m.advertReceived(T0 + 100 * MS, advert(150), LB1);
        long bye = T0 + 150 * MS;
        assertThat(m.advertReceived(bye, advert(150).withPriority(0), LB1))
                .containsExactly(new ArmTimer(Timer.MASTER_DOWN, bye + SKEW_100));
        assertThat(m.timerFired(bye + SKEW_100 - 1)).isEmpty();
        assertThat(m.timerFired(bye + SKEW_100)).isEqualTo(becameMaster(100, bye + SKEW_100,
                "the master 10.77.0.11 gave up (priority 0 advert) and the skew time passed"));
    }

    @Test
    void withoutPreemptABackupDoesNotTakeOverFromALowerPriorityMaster() {
        VrrpStateMachine m = machine(150, false, LB1);
        m.startup(T0);
        for (long t = T0 + 100 * MS; t <= T0 + 3_000 * MS; t += 100 * MS) {
            assertThat(m.timerFired(t)).isEmpty();
            assertThat(m.advertReceived(t, advert(100), LB2)).containsExactly(new ArmTimer(Timer.MASTER_DOWN, t + DOWN_150));
        }
        assertThat(m.state()).isEqualTo(BACKUP);
    }

    @Test
    void withPreemptABackupTakesOverFromALowerPriorityMaster() {
        VrrpStateMachine m = machine(150, true, LB1);
        m.startup(T0);
        for (long t = T0 + 100 * MS; t <= T0 + 300 * MS; t += 100 * MS) {
            assertThat(m.advertReceived(t, advert(100), LB2)).as("ignored").isEmpty();
            assertThat(m.timerFired(t)).isEmpty();
        }
        assertThat(m.timerFired(T0 + DOWN_150)).isEqualTo(becameMaster(150, T0 + DOWN_150,
                "no advert within the master-down interval (341.40625 ms)"));
        // ...and the old master, seeing our advert, steps down
        VrrpStateMachine old = master100(true);
        long seen = T0 + DOWN_100 + 10 * MS;
        assertThat(old.advertReceived(seen, advert(150), LB1)).containsExactly(new RemoveVirtualIps(VIPS),
                new ArmTimer(Timer.MASTER_DOWN, seen + DOWN_100),
                new Transition(MASTER, BACKUP, "advert from 10.77.0.11 with priority 150, above ours (100)"));
        assertThat(old.state()).isEqualTo(BACKUP);
    }

    @Test
    void aMasterIgnoresALowerPriorityAndKeepsAdvertising() {
        VrrpStateMachine m = machine(150, true, LB1);
        m.startup(T0);
        m.timerFired(T0 + DOWN_150);
        long at = T0 + DOWN_150 + 30 * MS;
        assertThat(m.advertReceived(at, advert(100), LB2)).isEmpty();
        assertThat(m.state()).isEqualTo(MASTER);
        assertThat(m.nextDeadline()).isEqualTo(T0 + DOWN_150 + 100 * MS);
        assertThat(m.timerFired(T0 + DOWN_150 + 100 * MS)).first().isEqualTo(new SendAdvert(advert(150)));
    }

    @Test
    void aMasterAnswersAPriorityZeroAdvertAtOnce() {
        VrrpStateMachine m = master100(true);
        long at = T0 + DOWN_100 + 40 * MS;
        assertThat(m.advertReceived(at, advert(150).withPriority(0), LB1))
                .containsExactly(new SendAdvert(advert(100)), new ArmTimer(Timer.ADVERT, at + 100 * MS));
        assertThat(m.state()).isEqualTo(MASTER);
    }

    @Test
    void equalPrioritiesAreBrokenByTheHigherPrimaryAddress() {
        // we are 10.77.0.12; 10.77.0.11 is lower (ignored), 10.77.0.200 higher (wins)
        VrrpStateMachine m = master100(true);
        long at = T0 + DOWN_100 + 10 * MS;
        assertThat(m.advertReceived(at, advert(100), LB1)).isEmpty();
        assertThat(m.state()).isEqualTo(MASTER);
        assertThat(m.advertReceived(at, advert(100), ip("10.77.0.200"))).containsExactly(new RemoveVirtualIps(VIPS),
                new ArmTimer(Timer.MASTER_DOWN, at + DOWN_100), new Transition(MASTER, BACKUP,
                        "advert from 10.77.0.200 with our priority (100) and a higher address than ours (10.77.0.12)"));
        // addresses compare unsigned: 200.0.0.1 is above 10.77.0.12
        VrrpStateMachine again = master100(true);
        assertThat(again.advertReceived(at, advert(100), ip("200.0.0.1"))).last()
                .isInstanceOfSatisfying(Transition.class, t -> assertThat(t.to()).isEqualTo(BACKUP));
    }

    @Test
    void aBackupAdoptsTheMastersAdvertInterval() {
        // we advertise every 1 s; the master every 100 ms: we must wait 3 × 100 ms + skew, not 3 s
        VrrpStateMachine m = new VrrpStateMachine(new VrrpSettings(77, 100, 100, true, LB2, VIPS));
        m.startup(T0);
        assertThat(m.nextDeadline()).isEqualTo(T0 + 3_609_375_000L);
        long at = T0 + 50 * MS;
        assertThat(m.advertReceived(at, advert(150), LB1)).containsExactly(new ArmTimer(Timer.MASTER_DOWN, at + DOWN_100));
        assertThat(m.masterAdvertIntervalCentis()).isEqualTo(10);
        assertThat(m.masterDownIntervalNanos()).isEqualTo(DOWN_100);
        assertThat(m.skewNanos()).isEqualTo(SKEW_100);
        // once MASTER it advertises its own interval, 1 s
        m.timerFired(at + DOWN_100);
        assertThat(m.nextDeadline()).isEqualTo(at + DOWN_100 + 1_000 * MS);
        // stepping down adopts the new master's interval again: 3 × 500 ms + (156 × 500 ms) / 256
        VrrpPacket slow = new VrrpPacket(77, 200, 50, VIPS);
        long later = at + DOWN_100 + 10 * MS;
        assertThat(m.advertReceived(later, slow, LB1)).contains(new ArmTimer(Timer.MASTER_DOWN, later + 1_500 * MS + 304_687_500L));
        assertThat(m.masterAdvertIntervalCentis()).isEqualTo(50);
    }

    @Test
    void shutdownOfTheMasterSendsPriorityZero() {
        VrrpStateMachine m = master100(true);
        assertThat(m.shutdown(T0 + 1_000 * MS)).containsExactly(new SendAdvert(advert(100).withPriority(0)),
                new RemoveVirtualIps(VIPS), new Transition(MASTER, INITIALIZE, "shutdown: gave up with a priority 0 advert"));
        assertThat(m.state()).isEqualTo(INITIALIZE);
        assertThat(m.timerArmed()).isFalse();
        assertThat(m.timerFired(T0 + 10_000 * MS)).isEmpty();
        assertThat(m.shutdown(T0 + 10_000 * MS)).isEmpty();
    }

    @Test
    void shutdownOfABackupSendsNothing() {
        VrrpStateMachine m = machine(100, true, LB2);
        m.startup(T0);
        assertThat(m.shutdown(T0 + MS)).containsExactly(new Transition(BACKUP, INITIALIZE, "shutdown"));
        assertThat(m.timerArmed()).isFalse();
    }

    @Test
    void aFaultGivesUpMasterWithPriorityZeroAndRecoveryRejoinsAsBackup() {
        VrrpStateMachine m = master100(true);
        long at = T0 + 1_000 * MS;
        assertThat(m.fault(at, "listener web failed")).containsExactly(new SendAdvert(advert(100).withPriority(0)),
                new RemoveVirtualIps(VIPS),
                new Transition(MASTER, FAULT, "ha-fault: listener web failed; gave up with a priority 0 advert"));
        assertThat(m.state()).isEqualTo(FAULT);
        assertThat(m.timerArmed()).isFalse();
        // in FAULT nothing moves it: no advert, no timer, no second fault
        assertThat(m.timerFired(at + 10_000 * MS)).isEmpty();
        assertThat(m.advertReceived(at + 10 * MS, advert(150).withPriority(0), LB1)).isEmpty();
        assertThat(m.fault(at + 20 * MS)).isEmpty();
        assertThat(m.startup(at + 20 * MS)).isEmpty();
        assertThat(m.state()).isEqualTo(FAULT);

        long back = at + 2_000 * MS;
        assertThat(m.recovered(back)).containsExactly(new RemoveVirtualIps(VIPS),
                new ArmTimer(Timer.MASTER_DOWN, back + DOWN_100), new Transition(FAULT, BACKUP, "recovered from fault"));
        assertThat(m.recovered(back)).as("only from FAULT").isEmpty();
    }

    @Test
    void aFaultInBackupSendsNothing() {
        VrrpStateMachine m = machine(100, true, LB2);
        m.startup(T0);
        assertThat(m.fault(T0 + MS)).containsExactly(new Transition(BACKUP, FAULT, "ha-fault: this instance cannot serve"));
        assertThat(m.timerArmed()).isFalse();
    }

    @Test
    void theClockMayWrap() {
        long nearEnd = Long.MAX_VALUE - 100 * MS;
        VrrpStateMachine m = machine(100, true, LB2);
        m.startup(nearEnd);
        long deadline = nearEnd + DOWN_100; // overflows to a negative number
        assertThat(deadline).isNegative();
        assertThat(m.nanosUntilDeadline(nearEnd)).isEqualTo(DOWN_100);
        assertThat(m.timerFired(Long.MAX_VALUE)).isEmpty();
        assertThat(m.timerFired(deadline)).last()
                .isInstanceOfSatisfying(Transition.class, t -> assertThat(t.to()).isEqualTo(MASTER));
    }

    /**
     * Two routers wired to each other through the codec (encode, bytes, validate, decode), as the
     * issue's pair: lb1 priority 150 and lb2 priority 100 start together; lb1 wins after 341.4 ms
     * and lb2 stays BACKUP; lb1 stops gracefully and lb2 is MASTER 60.9375 ms later.
     */
    @Test
    void aPairElectsTheHigherPriorityAndHandsOverOnGracefulStop() {
        VrrpStateMachine lb1 = machine(150, true, LB1);
        VrrpStateMachine lb2 = machine(100, true, LB2);
        AdvertValidator toLb2 = new AdvertValidator(lb2.settings());
        lb1.startup(T0);
        lb2.startup(T0);

        List<Action> won = lb1.timerFired(T0 + DOWN_150);
        assertThat(lb1.state()).isEqualTo(MASTER);
        assertThat(lb2.timerFired(T0 + DOWN_150)).isEmpty();
        deliver(won, T0 + DOWN_150, toLb2, lb2);
        // lb1 keeps advertising; lb2 never takes over while it does
        for (long t = T0 + DOWN_150 + 100 * MS; t <= T0 + 3_000 * MS; t += 100 * MS) {
            assertThat(lb2.timerFired(t)).isEmpty();
            deliver(lb1.timerFired(t), t, toLb2, lb2);
        }
        assertThat(lb2.state()).isEqualTo(BACKUP);

        long stop = T0 + 3_050 * MS;
        deliver(lb1.shutdown(stop), stop, toLb2, lb2);
        assertThat(lb2.nextDeadline()).isEqualTo(stop + SKEW_100);
        assertThat(lb2.timerFired(stop + SKEW_100)).contains(new AddVirtualIps(VIPS));
        assertThat(lb2.state()).isEqualTo(MASTER);
    }

    private static void deliver(List<Action> sent, long now, AdvertValidator validator, VrrpStateMachine receiver) {
        Inet4Address group = ip("224.0.0.18");
        for (Action a : sent) {
            if (a instanceof SendAdvert(VrrpPacket p)) {
                byte[] wire = p.encode(LB1, group);
                Decoded d = validator.validate(255, java.nio.ByteBuffer.wrap(wire), LB1, group);
                receiver.advertReceived(now, (VrrpPacket) d, LB1);
            }
        }
    }
}
