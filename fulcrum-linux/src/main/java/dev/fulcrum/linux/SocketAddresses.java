package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * The C structs the sockets need, written field by field: families and indexes in host order,
 * ports, protocols and addresses in network order. Package-private.
 */
final class SocketAddresses {

    private static final java.lang.foreign.ValueLayout.OfShort NET_SHORT =
            JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private SocketAddresses() {
    }

    /** {@code struct sockaddr_in} (16 bytes), port 0. */
    static MemorySegment inet(Arena arena, Inet4Address address) {
        MemorySegment s = arena.allocate(16, 4);
        s.set(JAVA_SHORT_UNALIGNED, 0, (short) Libc.AF_INET);
        MemorySegment.copy(address.getAddress(), 0, s, JAVA_BYTE, 4, 4);
        return s;
    }

    /** {@code struct ip_mreqn} (12 bytes): group, local address, interface index. */
    static MemorySegment ipMreqn(Arena arena, Inet4Address group, Inet4Address local, int interfaceIndex) {
        MemorySegment s = arena.allocate(12, 4);
        if (group != null) {
            MemorySegment.copy(group.getAddress(), 0, s, JAVA_BYTE, 0, 4);
        }
        MemorySegment.copy(local.getAddress(), 0, s, JAVA_BYTE, 4, 4);
        s.set(JAVA_INT_UNALIGNED, 8, interfaceIndex);
        return s;
    }

    /** {@code struct sockaddr_ll} (20 bytes) to send frames of {@code etherType} to {@code mac} on an interface. */
    static MemorySegment link(Arena arena, int interfaceIndex, int etherType, byte[] mac) {
        MemorySegment s = arena.allocate(20, 4);
        s.set(JAVA_SHORT_UNALIGNED, 0, (short) Libc.AF_PACKET);
        s.set(NET_SHORT, 2, (short) etherType);
        s.set(JAVA_INT_UNALIGNED, 4, interfaceIndex);
        if (mac != null) {
            s.set(JAVA_BYTE, 11, (byte) mac.length);
            MemorySegment.copy(mac, 0, s, JAVA_BYTE, 12, mac.length);
        }
        return s;
    }

    /** {@code struct sockaddr_nl} (12 bytes): the kernel (pid 0), no groups. */
    static MemorySegment netlinkKernel(Arena arena) {
        MemorySegment s = arena.allocate(12, 4);
        s.set(JAVA_SHORT_UNALIGNED, 0, (short) Libc.AF_NETLINK);
        return s;
    }

    /** A C int holding {@code value}, for setsockopt. */
    static MemorySegment intValue(Arena arena, int value) {
        MemorySegment s = arena.allocate(4, 4);
        s.set(JAVA_INT_UNALIGNED, 0, value);
        return s;
    }

    /** A NUL-terminated C string. */
    static MemorySegment cString(Arena arena, String value) {
        return arena.allocateFrom(value);
    }
}
