package dev.fulcrum.core.vrrp;

import dev.fulcrum.core.vrrp.Action.AddVirtualIps;
import dev.fulcrum.core.vrrp.Action.ArmTimer;
import dev.fulcrum.core.vrrp.Action.RemoveVirtualIps;
import dev.fulcrum.core.vrrp.Action.SendAdvert;
import dev.fulcrum.core.vrrp.Action.SendGratuitousArp;
import dev.fulcrum.core.vrrp.Action.Timer;
import dev.fulcrum.core.vrrp.Action.Transition;

import java.net.Inet4Address;
import java.util.List;

/**
 * The VRRPv3 state machine of RFC 5798 §6.4 for one IPv4 virtual router on this host, plus
 * Fulcrum's {@link VrrpState#FAULT}. Each input is a method call with the current time; it
 * returns the {@link Action}s to perform, in order. No I/O, no thread, no clock: time comes in as
 * {@code long nowNanos} on one monotonic scale ({@link System#nanoTime()} in production, any
 * number in tests); deadlines are compared by difference, so the scale may wrap.
 *
 * <p>The rules:
 * <ul>
 *   <li>{@link #startup}: the address owner (priority 255) goes MASTER at once; any other router
 *       goes BACKUP with the master-down timer at {@code 3 × Master_Adver_Interval + Skew_Time}
 *       ({@link VrrpTimers}), starting from its own advert interval.</li>
 *   <li>BACKUP, advert received: priority 0 (the master gave up) sets the master-down timer to
 *       Skew_Time; an advert that is not preempted ({@code preempt} false, or priority ≥ ours)
 *       adopts the master's advert interval and re-arms the master-down timer; with
 *       {@code preempt} true an advert of a lower priority is ignored, so the timer expires and
 *       this router takes over.</li>
 *   <li>BACKUP, master-down timer expired: MASTER (add the virtual IPs, advert, gratuitous ARP).</li>
 *   <li>MASTER, advert timer expired: advert, re-armed one advert interval from now.</li>
 *   <li>MASTER, advert received: priority 0 is answered by an advert at once; a higher priority,
 *       or an equal priority from a higher primary address (unsigned), makes this router BACKUP
 *       (virtual IPs removed, the other's interval adopted); anything lower is ignored.</li>
 *   <li>{@link #shutdown}: to INITIALIZE; a MASTER first sends a priority-0 advert so a backup
 *       takes over after its skew time instead of the whole master-down interval.</li>
 *   <li>{@link #fault} (Fulcrum's own): from any state to FAULT; a MASTER gives up with a
 *       priority-0 advert and removes the virtual IPs. Adverts and timers are ignored in FAULT;
 *       {@link #recovered} re-enters as at startup.</li>
 * </ul>
 * An input that does not apply in the current state (an advert in INITIALIZE, a timer call
 * before its deadline) returns no action, so callers need not guard.
 *
 * <p>How the speaker thread drives it (the speaker owns the sockets; this class owns the
 * decisions):
 * <pre>{@code
 * execute(machine.startup(System.nanoTime()));
 * while (running) {
 *     long wait = machine.nanosUntilDeadline(System.nanoTime());  // Long.MAX_VALUE: no timer
 *     Optional<Received> r = socket.receive(wait);                // raw IP, with its header
 *     long now = System.nanoTime();
 *     if (r.isPresent()) {
 *         switch (validator.validateIpPacket(r.get().buffer())) {
 *             case VrrpPacket advert -> execute(machine.advertReceived(now, advert, r.get().source()));
 *             case Invalid invalid -> countAndDrop(invalid.reason());
 *         }
 *     }
 *     execute(machine.timerFired(now));  // no-op unless the deadline has passed
 *     if (healthChanged) execute(healthy ? machine.recovered(now) : machine.fault(now, why));
 * }
 * execute(machine.shutdown(System.nanoTime()));
 * }</pre>
 * {@code execute} sends adverts (encoded with {@link VrrpPacket#encode}), adds/removes addresses,
 * sends gratuitous ARP, and turns each {@link Transition} into an event, an alert, a metric and a
 * run of {@code notify}; {@link ArmTimer} needs no handling since {@link #nanosUntilDeadline}
 * already reflects it.
 *
 * <p>Not thread-safe: confined to the speaker thread. Returned lists are immutable.
 */
public final class VrrpStateMachine {

    private final VrrpSettings settings;
    private final SendAdvert advert;
    private final SendAdvert giveUp;
    private final List<Inet4Address> virtualIps;

    private VrrpState state = VrrpState.INITIALIZE;
    /** The running timer, or null (INITIALIZE, FAULT). */
    private Timer timer;
    private long deadline;
    /** Master_Adver_Interval: ours at startup, then the master's as a BACKUP learns it. */
    private int masterAdvertIntervalCentis;
    /** Why the master-down timer runs, for the transition's reason. */
    private String masterDownCause = "";

    public VrrpStateMachine(VrrpSettings settings) {
        this.settings = settings;
        this.advert = new SendAdvert(settings.advert());
        this.giveUp = new SendAdvert(settings.advert().withPriority(0));
        this.virtualIps = settings.virtualIps();
        this.masterAdvertIntervalCentis = settings.advertIntervalCentis();
    }

    public VrrpState state() {
        return state;
    }

    public VrrpSettings settings() {
        return settings;
    }

    /** Master_Adver_Interval in centiseconds: our own, or the one adopted from the master's adverts. */
    public int masterAdvertIntervalCentis() {
        return masterAdvertIntervalCentis;
    }

    /** Skew_Time for our priority and the current Master_Adver_Interval. */
    public long skewNanos() {
        return VrrpTimers.skewNanos(settings.priority(), masterAdvertIntervalCentis);
    }

    /** Master_Down_Interval for our priority and the current Master_Adver_Interval. */
    public long masterDownIntervalNanos() {
        return VrrpTimers.masterDownNanos(settings.priority(), masterAdvertIntervalCentis);
    }

    /** Whether a timer runs (BACKUP: master-down, MASTER: advert); none in INITIALIZE and FAULT. */
    public boolean timerArmed() {
        return timer != null;
    }

    /** The running timer, or null. */
    public Timer timer() {
        return timer;
    }

    /**
     * The deadline the speaker waits for, on the callers' {@code now} scale; meaningful only while
     * {@link #timerArmed()}. At that instant, call {@link #timerFired}.
     */
    public long nextDeadline() {
        if (timer == null) {
            throw new IllegalStateException("no timer runs in " + state);
        }
        return deadline;
    }

    /** How long to wait for a packet before calling {@link #timerFired}: ≥ 0, or Long.MAX_VALUE with no timer. */
    public long nanosUntilDeadline(long nowNanos) {
        return timer == null ? Long.MAX_VALUE : Math.max(0, deadline - nowNanos);
    }

    /** Startup event (§6.4.1). Only from INITIALIZE; a fault reported earlier waits for {@link #recovered}. */
    public List<Action> startup(long nowNanos) {
        if (state != VrrpState.INITIALIZE) {
            return List.of();
        }
        return enter(nowNanos, "startup");
    }

    /** Shutdown event (§6.4.2, §6.4.3): to INITIALIZE; a MASTER sends a priority-0 advert first. */
    public List<Action> shutdown(long nowNanos) {
        VrrpState from = state;
        return switch (from) {
            case INITIALIZE -> List.of();
            case MASTER -> {
                stop(VrrpState.INITIALIZE);
                yield List.of(giveUp, new RemoveVirtualIps(virtualIps),
                        new Transition(from, VrrpState.INITIALIZE, "shutdown: gave up with a priority 0 advert"));
            }
            case BACKUP, FAULT -> {
                stop(VrrpState.INITIALIZE);
                yield List.of(new Transition(from, VrrpState.INITIALIZE, "shutdown"));
            }
        };
    }

    /** A valid advert (see {@link AdvertValidator}) from {@code source}, the sender's primary address. */
    public List<Action> advertReceived(long nowNanos, VrrpPacket received, Inet4Address source) {
        if (received.virtualRouterId() != settings.virtualRouterId()) {
            return List.of(); // another virtual router's: the validator drops these first
        }
        return switch (state) {
            case INITIALIZE, FAULT -> List.of();
            case BACKUP -> backupReceived(nowNanos, received, source);
            case MASTER -> masterReceived(nowNanos, received, source);
        };
    }

    private List<Action> backupReceived(long now, VrrpPacket received, Inet4Address source) {
        if (received.priority() == 0) {
            // the master is leaving: the best backup (smallest skew) takes over first
            masterDownCause = "the master " + source.getHostAddress()
                    + " gave up (priority 0 advert) and the skew time passed";
            return List.of(arm(Timer.MASTER_DOWN, now + skewNanos()));
        }
        if (!settings.preempt() || received.priority() >= settings.priority()) {
            masterAdvertIntervalCentis = received.maxAdvertIntervalCentis();
            masterDownCause = noAdvertCause();
            return List.of(arm(Timer.MASTER_DOWN, now + masterDownIntervalNanos()));
        }
        // preempt, and the master's priority is lower than ours: let the timer run out
        return List.of();
    }

    private List<Action> masterReceived(long now, VrrpPacket received, Inet4Address source) {
        if (received.priority() == 0) {
            // another master gave up: answer at once so the backups see a master
            return List.of(advert, arm(Timer.ADVERT, now + VrrpTimers.intervalNanos(settings.advertIntervalCentis())));
        }
        String why;
        if (received.priority() > settings.priority()) {
            why = "advert from " + source.getHostAddress() + " with priority " + received.priority()
                    + ", above ours (" + settings.priority() + ")";
        } else if (received.priority() == settings.priority()
                && VrrpPacket.compare(source, settings.primaryAddress()) > 0) {
            why = "advert from " + source.getHostAddress() + " with our priority (" + settings.priority()
                    + ") and a higher address than ours (" + settings.primaryAddress().getHostAddress() + ")";
        } else {
            return List.of(); // a lower one: we stay MASTER and our next advert tells it so
        }
        masterAdvertIntervalCentis = received.maxAdvertIntervalCentis();
        masterDownCause = noAdvertCause();
        state = VrrpState.BACKUP;
        return List.of(new RemoveVirtualIps(virtualIps),
                arm(Timer.MASTER_DOWN, now + masterDownIntervalNanos()),
                new Transition(VrrpState.MASTER, VrrpState.BACKUP, why));
    }

    /** The timer may have expired: acts only if one runs and {@code nowNanos} is at or past its deadline. */
    public List<Action> timerFired(long nowNanos) {
        if (timer == null || nowNanos - deadline < 0) {
            return List.of();
        }
        return switch (state) {
            case BACKUP -> becomeMaster(nowNanos, VrrpState.BACKUP, masterDownCause);
            case MASTER -> List.of(advert,
                    arm(Timer.ADVERT, nowNanos + VrrpTimers.intervalNanos(settings.advertIntervalCentis())));
            case INITIALIZE, FAULT -> List.of(); // no timer runs there
        };
    }

    /** {@link #fault(long, String)} without a detail. */
    public List<Action> fault(long nowNanos) {
        return fault(nowNanos, "this instance cannot serve");
    }

    /**
     * This instance cannot serve ({@code why}: "listener web failed"): to FAULT from any state; a
     * MASTER first gives up with a priority-0 advert and removes the virtual IPs.
     */
    public List<Action> fault(long nowNanos, String why) {
        VrrpState from = state;
        return switch (from) {
            case FAULT -> List.of();
            case MASTER -> {
                stop(VrrpState.FAULT);
                yield List.of(giveUp, new RemoveVirtualIps(virtualIps),
                        new Transition(from, VrrpState.FAULT, "ha-fault: " + why + "; gave up with a priority 0 advert"));
            }
            case INITIALIZE, BACKUP -> {
                stop(VrrpState.FAULT);
                yield List.of(new Transition(from, VrrpState.FAULT, "ha-fault: " + why));
            }
        };
    }

    /** The fault is over: from FAULT, enter the election again as at startup. */
    public List<Action> recovered(long nowNanos) {
        if (state != VrrpState.FAULT) {
            return List.of();
        }
        return enter(nowNanos, "recovered from fault");
    }

    /** §6.4.1, from INITIALIZE or FAULT. */
    private List<Action> enter(long now, String why) {
        VrrpState from = state;
        masterAdvertIntervalCentis = settings.advertIntervalCentis();
        if (settings.addressOwner()) {
            return becomeMaster(now, from, why + " as the address owner (priority 255)");
        }
        state = VrrpState.BACKUP;
        masterDownCause = noAdvertCause();
        return List.of(new RemoveVirtualIps(virtualIps),
                arm(Timer.MASTER_DOWN, now + masterDownIntervalNanos()),
                new Transition(from, VrrpState.BACKUP, why));
    }

    private List<Action> becomeMaster(long now, VrrpState from, String why) {
        state = VrrpState.MASTER;
        return List.of(new AddVirtualIps(virtualIps), advert, new SendGratuitousArp(virtualIps),
                arm(Timer.ADVERT, now + VrrpTimers.intervalNanos(settings.advertIntervalCentis())),
                new Transition(from, VrrpState.MASTER, why));
    }

    private String noAdvertCause() {
        return "no advert within the master-down interval (" + VrrpTimers.millis(masterDownIntervalNanos()) + ")";
    }

    private ArmTimer arm(Timer which, long at) {
        timer = which;
        deadline = at;
        return new ArmTimer(which, at);
    }

    private void stop(VrrpState to) {
        state = to;
        timer = null;
    }
}
