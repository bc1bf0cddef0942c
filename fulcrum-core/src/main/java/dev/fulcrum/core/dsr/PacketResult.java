package dev.fulcrum.core.dsr;

import java.util.Locale;

/**
 * What the DSR forwarder did with one received frame: the {@code reason} behind
 * {@code fulcrum_dsr_packets_total}. Exactly one result per frame, so the counters add up to the
 * frames read. {@link #label()} gives the metric / log spelling ({@code no-server}, ...), the same
 * convention as the VRRP drop reasons.
 *
 * <p>Three kinds: {@link #FORWARDED}; <em>ignored</em> frames, which were never DSR traffic (another
 * protocol, another host's address) and say nothing about DSR's health; and <em>dropped</em> ones,
 * DSR traffic that could not be sent: those are the ones to alert on. The spec's
 * {@code result="forwarded"/"dropped"} label is {@link #forwarded()} / not; ignored frames are
 * best left out of {@code dropped}.
 */
public enum PacketResult {
    /** Sent on to a server, destination MAC rewritten. */
    FORWARDED(Kind.FORWARDED),
    /** Not an IPv4 frame (ARP, IPv6, LLDP, ...). */
    NOT_IPV4(Kind.IGNORED),
    /**
     * An 802.1Q / 802.1ad tag inside the frame. The kernel strips the (outer) tag before a packet
     * socket sees it, so a tag here is QinQ or a tap on the wrong interface: the VLAN it belongs to
     * is not the one DSR serves, so it is not forwarded.
     */
    VLAN_TAGGED(Kind.IGNORED),
    /**
     * The destination MAC is not this interface's: another host's frame seen in promiscuous mode,
     * or a frame this forwarder sent itself (which must never be forwarded again: a loop).
     */
    NOT_OUR_MAC(Kind.IGNORED),
    /** IPv4, but to another address than {@code dsr.virtual-ip}. */
    NOT_FOR_VIP(Kind.IGNORED),
    /**
     * To the virtual IP but neither TCP nor UDP, nor an ICMP error about a packet a server sent from
     * the virtual IP (those are forwarded to that server): pings, other protocols.
     */
    NOT_TCP_UDP(Kind.DROPPED),
    /** TCP or UDP to the virtual IP on a port not in {@code dsr.ports}. */
    NOT_DSR_PORT(Kind.DROPPED),
    /** Truncated or inconsistent Ethernet / IPv4 / TCP / UDP header, or a bad virtio_net_hdr. */
    MALFORMED(Kind.DROPPED),
    /**
     * Larger than the interface MTU and not segmentable on send: a GRO-merged frame with no
     * virtio_net_hdr to hand on to the kernel (the send would fail with EMSGSIZE).
     */
    TOO_BIG(Kind.DROPPED),
    /** A new flow (or one whose server went down) and no server accepts new flows. */
    NO_SERVER(Kind.DROPPED),
    /** The flow's server has no known MAC address (neighbour entry lost); the flow stays put. */
    NO_MAC(Kind.DROPPED);

    private enum Kind { FORWARDED, IGNORED, DROPPED }

    private final Kind kind;
    private final String label;

    PacketResult(Kind kind) {
        this.kind = kind;
        this.label = name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The metric / log label: the name in lower case with hyphens. */
    public String label() {
        return label;
    }

    /** True only for {@link #FORWARDED}. */
    public boolean forwarded() {
        return kind == Kind.FORWARDED;
    }

    /** True for frames that were never DSR traffic; their count says nothing about DSR's health. */
    public boolean ignored() {
        return kind == Kind.IGNORED;
    }

    /** True for DSR traffic that was not forwarded. */
    public boolean dropped() {
        return kind == Kind.DROPPED;
    }
}
