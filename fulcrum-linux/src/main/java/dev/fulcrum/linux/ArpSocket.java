package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * An {@code AF_PACKET} datagram socket that sends ARP messages on one interface: the kernel
 * writes the Ethernet header (source = the interface's MAC, type 0x0806) and the caller gives
 * the 28-byte ARP message and the frame's destination MAC. {@link #open} uses protocol 0, so
 * it receives nothing (gratuitous ARP when this instance takes the virtual IPs);
 * {@link #openListening} also receives the interface's ARP messages (answering for DSR's
 * virtual IP).
 *
 * <p>Thread-safety: {@link #send} is synchronized; one socket may serve several threads;
 * {@link #receive} belongs to one thread, {@link #wakeup()} to any.
 */
public final class ArpSocket implements AutoCloseable {

    public static final int ETH_P_ARP = 0x0806;
    /** ff:ff:ff:ff:ff:ff. */
    public static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    /** errno of the receiving thread's calls; sends use {@link #callState} under the lock. */
    private final MemorySegment receiveState = Libc.callState(arena);
    private final MemorySegment buffer = arena.allocate(64, 8);
    private final String interfaceName;
    private final MemorySegment broadcast;
    /** A sockaddr_ll rewritten for each unicast send (sends are synchronized). */
    private final MemorySegment unicast;
    private int fd = -1;
    private boolean closed;
    /** Set for a listening socket ({@link #openListening}). */
    private ReadinessWait readiness;
    private MemorySegment receiveBuffer;

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

    /**
     * Opens a socket that also receives the ARP messages reaching the interface (without their
     * Ethernet header), for {@link #receive}: to answer ARP for an address this host does not
     * hold (DSR's virtual IP).
     */
    public static ArpSocket openListening(String interfaceName, int interfaceIndex) throws NativeException {
        ArpSocket s = new ArpSocket(interfaceName, interfaceIndex);
        try {
            int protocol = Short.toUnsignedInt(Short.reverseBytes((short) ETH_P_ARP)); // htons
            s.fd = (int) Libc.check(Libc.socket(s.callState, Libc.AF_PACKET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC,
                    protocol), s.callState, "socket(AF_PACKET, SOCK_DGRAM, ETH_P_ARP) on " + interfaceName);
            Libc.check(Libc.bind(s.callState, s.fd, SocketAddresses.link(s.arena, interfaceIndex, ETH_P_ARP, null)),
                    s.callState, "bind(ARP on " + interfaceName + ")");
            s.receiveBuffer = s.arena.allocate(256, 8);
            s.readiness = new ReadinessWait(s.arena, s.fd, "ARP socket on " + interfaceName);
            return s;
        } catch (NativeException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Waits up to {@code timeoutNanos} for an ARP message and copies it into {@code into}.
     * Only for a socket from {@link #openListening}; confined to one thread.
     *
     * @return its length, or 0 when the time ran out or {@link #wakeup()} was called
     */
    public int receive(byte[] into, long timeoutNanos) throws NativeException {
        if (readiness == null) {
            throw new IllegalStateException("this ARP socket only sends; open it with openListening");
        }
        return Sockets.receive(readiness, receiveState, fd, receiveBuffer, into, timeoutNanos, "ARP socket");
    }

    /** Ends a {@link #receive} wait early. Any thread. */
    public void wakeup() {
        ReadinessWait r = readiness;
        if (r != null) {
            r.wakeup();
        }
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
        Sockets.release(readiness, callState, fd, arena);
    }
}
