package dev.fulcrum.core.net;

import java.net.Inet4Address;
import java.nio.ByteBuffer;

/**
 * ARP messages for IPv4 over Ethernet (RFC 826), the 28 bytes after the Ethernet header.
 * Pure: builds bytes, sends nothing.
 */
public final class ArpMessage {

    public static final int LENGTH = 28;
    public static final int REQUEST = 1;
    public static final int REPLY = 2;

    private ArpMessage() {
    }

    /**
     * A gratuitous ARP announcing that {@code address} is at {@code mac}: a request whose sender
     * and target address are both {@code address} (RFC 5227 §2.3), the form keepalived and
     * Linux send; neighbours that already know the address update their cache at once.
     */
    public static byte[] announcement(byte[] mac, Inet4Address address) {
        return message(REQUEST, mac, address, new byte[6], address);
    }

    /** A reply telling {@code requesterMac}/{@code requester} that {@code address} is at {@code mac}. */
    public static byte[] reply(byte[] mac, Inet4Address address, byte[] requesterMac, Inet4Address requester) {
        return message(REPLY, mac, address, requesterMac, requester);
    }

    /** One decoded Ethernet/IPv4 ARP message. */
    public record Decoded(int operation, byte[] senderMac, Inet4Address sender, Inet4Address target) {
        public boolean isRequest() {
            return operation == REQUEST;
        }
    }

    /**
     * Decodes {@code length} bytes of an ARP message; empty when it is not Ethernet/IPv4 ARP or
     * is too short.
     */
    public static java.util.Optional<Decoded> decode(byte[] message, int length) {
        if (length < LENGTH) {
            return java.util.Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(message, 0, length);
        if (b.getShort(0) != 1 || b.getShort(2) != 0x0800 || b.get(4) != 6 || b.get(5) != 4) {
            return java.util.Optional.empty();
        }
        byte[] senderMac = java.util.Arrays.copyOfRange(message, 8, 14);
        return java.util.Optional.of(new Decoded(b.getShort(6) & 0xFFFF, senderMac, inet4(message, 14),
                inet4(message, 24)));
    }

    private static Inet4Address inet4(byte[] bytes, int at) {
        try {
            return (Inet4Address) java.net.InetAddress.getByAddress(java.util.Arrays.copyOfRange(bytes, at, at + 4));
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A request asking who has {@code target}, from {@code senderMac}/{@code sender}. */
    public static byte[] request(byte[] senderMac, Inet4Address sender, Inet4Address target) {
        return message(REQUEST, senderMac, sender, new byte[6], target);
    }

    private static byte[] message(int operation, byte[] senderMac, Inet4Address sender, byte[] targetMac,
                                  Inet4Address target) {
        if (senderMac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, got " + senderMac.length);
        }
        return ByteBuffer.allocate(LENGTH)
                .putShort((short) 1)          // hardware type: Ethernet
                .putShort((short) 0x0800)     // protocol type: IPv4
                .put((byte) 6).put((byte) 4)  // address lengths
                .putShort((short) operation)
                .put(senderMac).put(sender.getAddress())
                .put(targetMac).put(target.getAddress())
                .array();
    }
}
