package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Adds and removes IPv4 addresses on an interface through rtnetlink ({@code RTM_NEWADDR} /
 * {@code RTM_DELADDR}), what {@code ip addr add|del ADDR/LEN dev IF} does, waiting for the
 * kernel's answer (at most 2 s). Needs CAP_NET_ADMIN.
 *
 * <p>Thread-safety: requests are synchronized, one at a time.
 */
public final class InterfaceAddresses implements AutoCloseable {

    private static final short RTM_NEWADDR = 20;
    private static final short RTM_DELADDR = 21;
    private static final short NLMSG_ERROR = 2;
    private static final short NLM_F_REQUEST = 0x1;
    private static final short NLM_F_ACK = 0x4;
    private static final short NLM_F_EXCL = 0x200;
    private static final short NLM_F_CREATE = 0x400;
    private static final short IFA_ADDRESS = 1;
    private static final short IFA_LOCAL = 2;
    private static final int SO_RCVTIMEO = 20;
    /** nlmsghdr 16 + ifaddrmsg 8 + two 8-byte address attributes. */
    private static final int REQUEST_LENGTH = 40;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment request = arena.allocate(REQUEST_LENGTH, 8);
    private final MemorySegment answer = arena.allocate(8192, 8);
    private final MemorySegment kernel = SocketAddresses.netlinkKernel(arena);
    private int fd = -1;
    private int sequence;
    private boolean closed;

    private InterfaceAddresses() {
    }

    /** @throws NativeException when the netlink socket cannot be opened */
    public static InterfaceAddresses open() throws NativeException {
        InterfaceAddresses a = new InterfaceAddresses();
        try {
            a.fd = (int) Libc.check(Libc.socket(a.callState, Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC,
                    Libc.NETLINK_ROUTE), a.callState, "socket(AF_NETLINK, NETLINK_ROUTE)");
            Libc.check(Libc.bind(a.callState, a.fd, SocketAddresses.netlinkKernel(a.arena)), a.callState,
                    "bind(netlink)");
            MemorySegment twoSeconds = a.arena.allocate(16, 8);
            twoSeconds.set(JAVA_LONG, 0, 2);
            Libc.check(Libc.setsockopt(a.callState, a.fd, Libc.SOL_SOCKET, SO_RCVTIMEO, twoSeconds), a.callState,
                    "setsockopt(netlink SO_RCVTIMEO)");
            return a;
        } catch (NativeException | RuntimeException e) {
            a.close();
            throw e;
        }
    }

    /**
     * Adds {@code address/prefixLength} to the interface.
     *
     * @return true if added, false if the interface already had it
     * @throws NativeException e.g. EPERM without CAP_NET_ADMIN, ENODEV for a gone interface
     */
    public synchronized boolean add(int interfaceIndex, Inet4Address address, int prefixLength) throws NativeException {
        int errno = request(RTM_NEWADDR, (short) (NLM_F_CREATE | NLM_F_EXCL), interfaceIndex, address, prefixLength);
        if (errno == Errno.EEXIST) {
            return false;
        }
        if (errno != 0) {
            throw new NativeException("RTM_NEWADDR " + address.getHostAddress() + "/" + prefixLength, errno);
        }
        return true;
    }

    /**
     * Removes {@code address/prefixLength} from the interface.
     *
     * @return true if removed, false if the interface did not have it
     */
    public synchronized boolean remove(int interfaceIndex, Inet4Address address, int prefixLength)
            throws NativeException {
        int errno = request(RTM_DELADDR, (short) 0, interfaceIndex, address, prefixLength);
        if (errno == Errno.EADDRNOTAVAIL) {
            return false;
        }
        if (errno != 0) {
            throw new NativeException("RTM_DELADDR " + address.getHostAddress() + "/" + prefixLength, errno);
        }
        return true;
    }

    /** Sends one request and returns the kernel's errno for it (0 = done). */
    private int request(short type, short flags, int interfaceIndex, Inet4Address address, int prefixLength)
            throws NativeException {
        if (closed) {
            throw new IllegalStateException("netlink socket is closed");
        }
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, got " + prefixLength);
        }
        int seq = ++sequence;
        request.fill((byte) 0);
        request.set(JAVA_INT, 0, REQUEST_LENGTH);                         // nlmsg_len
        request.set(JAVA_SHORT, 4, type);                                 // nlmsg_type
        request.set(JAVA_SHORT, 6, (short) (NLM_F_REQUEST | NLM_F_ACK | flags));
        request.set(JAVA_INT, 8, seq);                                    // nlmsg_seq
        request.set(JAVA_BYTE, 16, (byte) Libc.AF_INET);                  // ifa_family
        request.set(JAVA_BYTE, 17, (byte) prefixLength);                  // ifa_prefixlen
        request.set(JAVA_INT, 20, interfaceIndex);                        // ifa_index (scope 0 = universe)
        attribute(24, IFA_LOCAL, address);
        attribute(32, IFA_ADDRESS, address);
        Libc.check(Libc.sendto(callState, fd, request, REQUEST_LENGTH, 0, kernel), callState,
                "sendto(netlink)");
        while (true) {
            long n = Libc.check(Libc.recv(callState, fd, answer, 0), callState, "recv(netlink answer)");
            for (int at = 0; at + 20 <= n; ) {
                int length = answer.get(JAVA_INT, at);
                if (length < 16) {
                    break;
                }
                if (answer.get(JAVA_SHORT, at + 4) == NLMSG_ERROR && answer.get(JAVA_INT, at + 8) == seq) {
                    return -answer.get(JAVA_INT, at + 16);
                }
                at += (length + 3) & ~3;
            }
        }
    }

    private void attribute(int at, short type, Inet4Address address) {
        request.set(JAVA_SHORT, at, (short) 8);
        request.set(JAVA_SHORT, at + 2, type);
        MemorySegment.copy(address.getAddress(), 0, request, JAVA_BYTE, at + 4, 4);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sockets.release(null, callState, fd, arena);
    }
}
