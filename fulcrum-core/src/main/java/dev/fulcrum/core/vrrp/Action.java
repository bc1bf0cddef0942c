package dev.fulcrum.core.vrrp;

import java.net.Inet4Address;
import java.util.List;

/**
 * What the {@link VrrpStateMachine} asks its speaker to do, in the order given: send an advert,
 * add or remove the virtual IPs, send gratuitous ARP, arm a timer, report a transition. The
 * machine never does I/O itself. Immutable.
 */
public sealed interface Action {

    /**
     * Send this advert to the group (or the unicast peers) from our primary address, IP TTL 255.
     * Priority 0 is the "I give up" advert of a graceful stop or a fault.
     */
    record SendAdvert(VrrpPacket advert) implements Action {
        public int priority() {
            return advert.priority();
        }
    }

    /** Add the virtual IPs to the interface (becoming MASTER). */
    record AddVirtualIps(List<Inet4Address> addresses) implements Action {
        public AddVirtualIps {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * Announce the virtual IPs with gratuitous ARP: the speaker sends a burst (keepalived's is 5)
     * now and a second burst some seconds later if it is still MASTER then.
     */
    record SendGratuitousArp(List<Inet4Address> addresses) implements Action {
        public SendGratuitousArp {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * Remove the virtual IPs from the interface: leaving MASTER, or at startup, where stale
     * addresses of a killed instance may still be there (removing an absent address is a no-op).
     */
    record RemoveVirtualIps(List<Inet4Address> addresses) implements Action {
        public RemoveVirtualIps {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * The machine's one timer now expires at {@code deadlineNanos} (on the {@code now} scale the
     * caller passes in, e.g. {@link System#nanoTime()}). For logs and tests:
     * {@link VrrpStateMachine#nanosUntilDeadline(long)} is the speaker's single source of truth.
     */
    record ArmTimer(Timer timer, long deadlineNanos) implements Action {
    }

    /** Report a state change (event, alert, metric, {@code notify}). */
    record Transition(VrrpState from, VrrpState to, String reason) implements Action {
    }

    /** Which of the RFC's two timers runs: a MASTER's advert timer or a BACKUP's master-down timer. */
    enum Timer {
        ADVERT,
        MASTER_DOWN
    }
}
