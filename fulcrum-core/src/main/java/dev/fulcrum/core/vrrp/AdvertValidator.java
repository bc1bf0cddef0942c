package dev.fulcrum.core.vrrp;

import java.net.Inet4Address;
import java.nio.ByteBuffer;

/**
 * The receive path's checks of RFC 5798 §7.1 for one virtual router: the IP TTL is 255, the
 * message decodes ({@link VrrpPacket#decode}: version, type, length, checksum), the VRID is ours,
 * we are not the address owner, and the advert is not our own looped back. What passes is a
 * {@link VrrpPacket} for {@link VrrpStateMachine#advertReceived}; everything else an
 * {@link Invalid} to count by {@link InvalidReason#label()} and drop.
 *
 * <p>Not done here (the RFC's MAY): comparing the advertised addresses with the configured ones;
 * a mismatch is still processed by the RFC, so the speaker may log it from the packet.
 *
 * <p>Immutable and thread-safe.
 */
public final class AdvertValidator {

    private static final int IPV4_MIN_HEADER = 20;

    private final VrrpSettings settings;

    public AdvertValidator(VrrpSettings settings) {
        this.settings = settings;
    }

    /**
     * Checks a whole IPv4 packet as a raw socket with its IP header delivers it (Linux: the header
     * in network byte order), from the buffer's position to its limit; neither is changed.
     */
    public Decoded validateIpPacket(ByteBuffer ipPacket) {
        int start = ipPacket.position();
        int available = ipPacket.remaining();
        if (available < IPV4_MIN_HEADER) {
            return new Invalid(InvalidReason.TOO_SHORT, available + " bytes, an IPv4 header has at least 20");
        }
        int versionAndIhl = ipPacket.get(start) & 0xFF;
        int headerLength = (versionAndIhl & 0x0F) * 4;
        int totalLength = ipPacket.getShort(start + 2) & 0xFFFF;
        if (versionAndIhl >>> 4 != 4 || headerLength < IPV4_MIN_HEADER || totalLength < headerLength
                || totalLength > available) {
            return new Invalid(InvalidReason.BAD_IP_HEADER, "version " + (versionAndIhl >>> 4) + ", header "
                    + headerLength + " bytes, total " + totalLength + " of " + available + " read");
        }
        int protocol = ipPacket.get(start + 9) & 0xFF;
        if (protocol != VrrpPacket.IP_PROTOCOL) {
            return new Invalid(InvalidReason.WRONG_PROTOCOL, "ip protocol " + protocol + ", must be 112");
        }
        int ttl = ipPacket.get(start + 8) & 0xFF;
        byte[] raw = new byte[4];
        ipPacket.get(start + 12, raw);
        Inet4Address source = VrrpPacket.inet4(raw);
        ipPacket.get(start + 16, raw);
        Inet4Address destination = VrrpPacket.inet4(raw);
        return validate(ttl, ipPacket.slice(start + headerLength, totalLength - headerLength), source, destination);
    }

    /**
     * Checks a VRRP message (position to limit, not changed) received with IP TTL {@code ipTtl}
     * from {@code source} at {@code destination}, in the order of §7.1.
     */
    public Decoded validate(int ipTtl, ByteBuffer vrrpMessage, Inet4Address source, Inet4Address destination) {
        if (ipTtl != 255) {
            return new Invalid(InvalidReason.TTL_NOT_255, "ttl " + ipTtl + " from "
                    + source.getHostAddress() + ", must be 255");
        }
        Decoded decoded = VrrpPacket.decode(vrrpMessage, source, destination);
        if (!(decoded instanceof VrrpPacket packet)) {
            return decoded;
        }
        if (packet.virtualRouterId() != settings.virtualRouterId()) {
            return new Invalid(InvalidReason.WRONG_VRID, "vrid " + packet.virtualRouterId() + " from "
                    + source.getHostAddress() + ", ours is " + settings.virtualRouterId());
        }
        if (source.equals(settings.primaryAddress())) {
            return new Invalid(InvalidReason.OWN_ADVERT, "our own advert from " + source.getHostAddress());
        }
        if (settings.addressOwner()) {
            return new Invalid(InvalidReason.ADDRESS_OWNER, "advert from " + source.getHostAddress()
                    + " ignored: this router owns the addresses (priority 255)");
        }
        return packet;
    }
}
