package dev.fulcrum.core.vrrp;

import java.util.Locale;

/**
 * Why a received message was dropped, one value per check of RFC 5798 §7.1 (plus the IPv4 header
 * checks of a raw socket read and two defensive ones of Fulcrum's own). Each is a counter label,
 * {@link #label()}: {@code bad-checksum}, {@code ttl-not-255}, ...
 */
public enum InvalidReason {
    /** Fewer bytes than the IPv4 header or the 8-byte fixed VRRP part. */
    TOO_SHORT,
    /** The IPv4 header itself is not IPv4, has a bad header length or total length. */
    BAD_IP_HEADER,
    /** The IP protocol is not 112 (VRRP). */
    WRONG_PROTOCOL,
    /** IP TTL is not 255: the sender is not on this link (RFC 5798 §7.1). */
    TTL_NOT_255,
    /** Version field is not 3 (a VRRPv2 speaker, for instance). */
    WRONG_VERSION,
    /** Type field is not 1 (ADVERTISEMENT), the only type defined. */
    WRONG_TYPE,
    /** Count IPvX Addr is 0; its minimum is 1 (RFC 5798 §5.2.5). */
    NO_ADDRESSES,
    /** The message length is not 8 + 4 × Count IPvX Addr. */
    LENGTH_MISMATCH,
    /** The checksum over the pseudo-header and the message does not verify (§5.2.8). */
    BAD_CHECKSUM,
    /**
     * Max Adver Int is 0. The RFC gives no minimum, but adopting 0 would make the master-down
     * interval 0 and a backup take over at once: Fulcrum refuses it.
     */
    ZERO_INTERVAL,
    /** The VRID is not the one configured here (another virtual router on the same link). */
    WRONG_VRID,
    /** This router is the address owner (priority 255): it discards every advert (§7.1). */
    ADDRESS_OWNER,
    /** Our own advert, looped back (sent from our own primary address). */
    OWN_ADVERT;

    /** The metric / log label: the name in lower case with hyphens. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
