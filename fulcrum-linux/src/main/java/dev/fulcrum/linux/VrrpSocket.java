package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A raw IPv4 socket for IP protocol 112 (VRRP) on one interface: it receives every VRRP packet
 * that reaches the interface, IP header included (so the receiver can check TTL 255), and sends
 * VRRP messages with TTL 255, the kernel writing the IP header.
 *
 * <p>Multicast mode joins 224.0.0.18 on the interface and sends from {@code source} through it,
 * with loopback of its own packets off. Unicast mode (peers listed) binds to {@code source}, so
 * it receives what is addressed to it and sends from it.
 *
 * <p>{@link #receive} waits with {@code ppoll} on the socket and an eventfd, so another thread
 * can cut a wait short with {@link #wakeup()}. Buffers are allocated once: receiving and sending
 * allocate nothing. Thread-safety: {@link #receive}, {@link #send} and {@link #close} belong to
 * one thread (the speaker's); {@link #wakeup()} may be called from any thread.
 */
public final class VrrpSocket implements AutoCloseable {

    /** IANA's VRRP multicast group. */
    public static final Inet4Address GROUP = address(224, 0, 0, 18);
    public static final int IP_PROTOCOL = 112;
    private static final int MAX_PACKET = 1500;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final MemorySegment receiveBuffer = arena.allocate(MAX_PACKET, 8);
    private final MemorySegment sendBuffer = arena.allocate(MAX_PACKET, 8);
    private final Map<Inet4Address, MemorySegment> destinations = new HashMap<>();
    /** {@link #destinations}' keys, fixed once configured: the speaker asks at every advert. */
    private List<Inet4Address> destinationList = List.of();
    private final String interfaceName;
    private int fd = -1;
    private ReadinessWait readiness;
    private boolean closed;

    private VrrpSocket(String interfaceName) {
        this.interfaceName = interfaceName;
    }

    /**
     * Opens the socket on {@code interfaceName} ({@code interfaceIndex} is its index), sending from
     * {@code source} (this host's primary address there) to {@code destinations}: the multicast
     * group, or the unicast peers.
     *
     * @throws NativeException with the failing call and errno, e.g. EPERM without CAP_NET_RAW
     */
    public static VrrpSocket open(String interfaceName, int interfaceIndex, Inet4Address source,
                                  List<Inet4Address> unicastPeers) throws NativeException {
        VrrpSocket s = new VrrpSocket(interfaceName);
        try {
            s.configure(interfaceIndex, source, unicastPeers);
            return s;
        } catch (NativeException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void configure(int interfaceIndex, Inet4Address source, List<Inet4Address> unicastPeers)
            throws NativeException {
        fd = (int) Libc.check(Libc.socket(callState, Libc.AF_INET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, IP_PROTOCOL),
                callState, "socket(AF_INET, SOCK_RAW, 112)");
        readiness = new ReadinessWait(arena, fd, "vrrp socket");
        option(Libc.SOL_SOCKET, Libc.SO_BINDTODEVICE, SocketAddresses.cString(arena, interfaceName),
                "SO_BINDTODEVICE " + interfaceName);
        option(Libc.IPPROTO_IP, Libc.IP_TTL, SocketAddresses.intValue(arena, 255), "IP_TTL 255");
        if (unicastPeers.isEmpty()) {
            option(Libc.IPPROTO_IP, Libc.IP_MULTICAST_IF, SocketAddresses.ipMreqn(arena, null, source, interfaceIndex),
                    "IP_MULTICAST_IF " + interfaceName);
            option(Libc.IPPROTO_IP, Libc.IP_MULTICAST_TTL, SocketAddresses.intValue(arena, 255), "IP_MULTICAST_TTL 255");
            option(Libc.IPPROTO_IP, Libc.IP_MULTICAST_LOOP, SocketAddresses.intValue(arena, 0), "IP_MULTICAST_LOOP 0");
            option(Libc.IPPROTO_IP, Libc.IP_ADD_MEMBERSHIP, SocketAddresses.ipMreqn(arena, GROUP, source, interfaceIndex),
                    "IP_ADD_MEMBERSHIP 224.0.0.18 on " + interfaceName);
            destinations.put(GROUP, SocketAddresses.inet(arena, GROUP));
        } else {
            Libc.check(Libc.bind(callState, fd, SocketAddresses.inet(arena, source)), callState,
                    "bind(" + source.getHostAddress() + ")");
            for (Inet4Address peer : unicastPeers) {
                destinations.put(peer, SocketAddresses.inet(arena, peer));
            }
        }
        destinationList = List.copyOf(destinations.keySet());
    }

    private void option(int level, int name, MemorySegment value, String what) throws NativeException {
        Libc.check(Libc.setsockopt(callState, fd, level, name, value), callState, "setsockopt(" + what + ")");
    }

    /** Where {@link #send} may send: 224.0.0.18, or the unicast peers. */
    public List<Inet4Address> destinations() {
        return destinationList;
    }

    /**
     * Waits up to {@code timeoutNanos} (Long.MAX_VALUE: no limit) for a packet and copies it,
     * IP header first, into {@code into}.
     *
     * @return the packet's length, or 0 when the time ran out, {@link #wakeup()} was called or a
     *         signal interrupted the wait
     */
    public int receive(byte[] into, long timeoutNanos) throws NativeException {
        return Sockets.receive(readiness, callState, fd, receiveBuffer, into, timeoutNanos, "vrrp socket");
    }

    /**
     * Sends one VRRP message (no IP header; the kernel adds it with TTL 255) to {@code destination},
     * one of {@link #destinations()}.
     */
    public void send(byte[] message, int length, Inet4Address destination) throws NativeException {
        MemorySegment to = destinations.get(destination);
        if (to == null) {
            throw new IllegalArgumentException(destination.getHostAddress() + " is not a destination of this socket");
        }
        MemorySegment.copy(message, 0, sendBuffer, JAVA_BYTE, 0, length);
        Libc.check(Libc.sendto(callState, fd, sendBuffer, length, 0, to), callState,
                "sendto(" + destination.getHostAddress() + " on " + interfaceName + ")");
    }

    /** Ends a {@link #receive} wait early (now or, if none runs, the next one). Any thread. */
    public synchronized void wakeup() {
        if (!closed && readiness != null) {
            readiness.wakeup();
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sockets.release(readiness, callState, fd, arena);
    }

    private static Inet4Address address(int a, int b, int c, int d) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
