package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * An {@code AF_PACKET} datagram socket that sends ARP messages on one interface: the kernel
 * writes the Ethernet header (source = the interface's MAC, type 0x0806) and the caller gives
 * the 28-byte ARP message and the frame's destination MAC. Opened with protocol 0, so it
 * receives nothing. Used for gratuitous ARP when this instance takes the virtual IPs.
 *
 * <p>Thread-safety: {@link #send} is synchronized; one socket may serve several threads.
 */
public final class ArpSocket implements AutoCloseable {

    public static final int ETH_P_ARP = 0x0806;
    /** ff:ff:ff:ff:ff:ff. */
    public static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment buffer = arena.allocate(64, 8);
    private final String interfaceName;
    private final MemorySegment broadcast;
    /** A sockaddr_ll rewritten for each unicast send (sends are synchronized). */
    private final MemorySegment unicast;
    private int fd = -1;
    private boolean closed;

    private ArpSocket(String interfaceName, int interfaceIndex) {
        this.interfaceName = interfaceName;
        this.broadcast = SocketAddresses.link(arena, interfaceIndex, ETH_P_ARP, BROADCAST);
        this.unicast = SocketAddresses.link(arena, interfaceIndex, ETH_P_ARP, BROADCAST);
    }

    /** @throws NativeException e.g. EPERM without CAP_NET_RAW */
    public static ArpSocket open(String interfaceName, int interfaceIndex) throws NativeException {
        ArpSocket s = new ArpSocket(interfaceName, interfaceIndex);
        int fd = Libc.socket(s.callState, Libc.AF_PACKET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            int errno = Libc.errno(s.callState);
            s.close();
            throw new NativeException("socket(AF_PACKET, SOCK_DGRAM) for ARP on " + interfaceName, errno);
        }
        s.fd = fd;
        return s;
    }

    /** Sends {@code arpMessage} (at most 64 bytes) in a frame to {@code destinationMac} (6 bytes). */
    public synchronized void send(byte[] arpMessage, byte[] destinationMac) throws NativeException {
        if (closed) {
            throw new IllegalStateException("ARP socket on " + interfaceName + " is closed");
        }
        MemorySegment.copy(arpMessage, 0, buffer, JAVA_BYTE, 0, arpMessage.length);
        if (destinationMac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, got " + destinationMac.length);
        }
        MemorySegment to = broadcast;
        if (!java.util.Arrays.equals(destinationMac, BROADCAST)) {
            MemorySegment.copy(destinationMac, 0, unicast, JAVA_BYTE, 12, 6);
            to = unicast;
        }
        Libc.check(Libc.sendto(callState, fd, buffer, arpMessage.length, 0, to), callState,
                "sendto(ARP on " + interfaceName + ")");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (fd >= 0) {
            Libc.close(callState, fd);
        }
        arena.close();
    }
}
