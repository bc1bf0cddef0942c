package dev.fulcrum.core.vrrp;

import java.net.Inet4Address;
import java.util.List;
import java.util.Objects;

/**
 * This router's part in one virtual router: what the {@link VrrpStateMachine} and the
 * {@link AdvertValidator} decide with. {@code primaryAddress} is this router's own address on the
 * interface, the IP source of its adverts and the tie-break between equal priorities (§6.4.3);
 * {@code virtualIps} are the addresses the MASTER holds and advertises. Priority 255 is the
 * address owner (goes MASTER at once, ignores adverts); the config file allows 1..254.
 * Immutable.
 */
public record VrrpSettings(int virtualRouterId, int priority, int advertIntervalCentis, boolean preempt,
                           Inet4Address primaryAddress, List<Inet4Address> virtualIps) {

    public VrrpSettings {
        Objects.requireNonNull(primaryAddress, "primaryAddress");
        virtualIps = List.copyOf(virtualIps);
        if (priority < 1 || priority > 255) {
            throw new IllegalArgumentException("priority must be 1..255, got " + priority);
        }
        // the other ranges are the advert's: one place checks them
        advert(virtualRouterId, priority, advertIntervalCentis, virtualIps);
    }

    /** Whether this router owns the virtual addresses (priority 255). */
    public boolean addressOwner() {
        return priority == 255;
    }

    /** The advert this router sends as MASTER: its own priority and advert interval. */
    public VrrpPacket advert() {
        return advert(virtualRouterId, priority, advertIntervalCentis, virtualIps);
    }

    private static VrrpPacket advert(int vrid, int priority, int intervalCentis, List<Inet4Address> ips) {
        return new VrrpPacket(vrid, priority, intervalCentis, ips);
    }
}
