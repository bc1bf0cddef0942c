package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The DSR forwarder's door to the wire: an {@code AF_PACKET} raw socket on one interface that
 * receives the IPv4 frames its {@link BpfFilter} accepts into a memory-mapped ring, hands each to a
 * {@link FrameHandler} in place, and sends back out on the same interface, in one
 * {@code sendmmsg} per batch, the frames the handler rewrote — straight from the ring, no copy in
 * user space.
 *
 * <p><b>The ring is {@code TPACKET_V2}</b>, not V3: V2 hands over every frame as soon as it is
 * written, so a lone packet (a client's SYN, an ACK) waits for nothing; V3 hands over whole blocks,
 * which the kernel closes only when full or after its block timeout (1 ms at best), so at low and
 * medium rates every packet would wait up to that millisecond — ten LAN round trips. Batching comes
 * anyway: when frames arrive faster than they are handled, one call takes all that are ready (up
 * to {@link Options#batchSize()}). V2's fixed frame slots cannot hold a GRO/GSO frame of up to
 * 64 KiB; instead of slots that large, the socket sets {@code PACKET_COPY_THRESH}, so the kernel
 * queues a whole copy of such a frame on the socket and marks its slot {@code TP_STATUS_COPY}; it
 * is read into one oversize buffer and handed to the handler from there (one per batch).
 *
 * <p><b>Opening</b>, in this order so that no unwanted frame gets in: the socket is created with
 * protocol 0 (it receives nothing yet); {@code PACKET_VERSION} V2, {@code PACKET_VNET_HDR} when
 * asked, {@code PACKET_COPY_THRESH}, {@code PACKET_IGNORE_OUTGOING} (so the socket never reads
 * back what this host sends — Linux 4.20 or later), the filter ({@code SO_ATTACH_FILTER}), the ring
 * ({@code PACKET_RX_RING}, mmap); then {@code bind} to the interface for ETH_P_IP. With a fanout
 * group the socket is bound with a drop-all filter, joins the group ({@code PACKET_FANOUT_HASH}:
 * the kernel spreads frames by flow hash, each frame to exactly one member), and only then gets its
 * real filter, so no frame reaches both it and the group during the join.
 *
 * <p><b>virtio_net_hdr.</b> With {@link Options#vnetHeader()} every frame in the ring has a 10-byte
 * virtio_net_hdr in front and every frame sent carries it: the kernel then finishes a partial
 * checksum (frames from local senders with checksum offload) and segments a GSO frame larger than
 * the MTU (which would fail with EMSGSIZE without it).
 *
 * <p><b>Moderation</b> ({@link Options#moderationNanos()}, off by default) trades latency for CPU,
 * as a NIC's interrupt coalescing or the kernel's {@code gro_flush_timeout} do: after a call that
 * handled frames, the next wait first sleeps that long without watching the socket, so frames
 * gather and the next batch amortises the wakeup and the {@code sendmmsg} over more of them. A frame
 * that arrives after a quiet spell is still taken at once.
 *
 * <p><b>Where to bind.</b> The interface whose MAC the clients' frames are addressed to. The socket
 * takes IPv4 (ETH_P_IP), which the kernel delivers after bridge and bond receive handlers: on an
 * interface enslaved to a bridge it sees nothing — bind the bridge. The host's own IP stack gets
 * the same frames; with forwarding on ({@code net.ipv4.ip_forward=1}) and a route to the VIP it
 * would route a second copy, so the balancer's interface must not forward.
 *
 * <p><b>How a forwarder drives it.</b> One socket per forwarder thread, all with the same
 * {@link Options} and fanout group; each thread loops {@code while (running) socket.receive(handler,
 * timeout)}, where the handler decides and rewrites in place and returns whether to send; another
 * thread stops it with {@link #wakeup()} after clearing {@code running}; the owner then closes it.
 *
 * <p>Receiving and sending allocate nothing. Thread-safety: one socket per forwarder thread;
 * {@link #receive} and {@link #close} belong to that thread ({@link #close} once it has left
 * {@link #receive}); {@link #wakeup()} and {@link #counters()} may be used from any thread.
 */
public final class PacketSocket implements AutoCloseable {

    /** sizeof(struct virtio_net_hdr). */
    public static final int VNET_HEADER_LENGTH = 10;
    /** Each ring block is a multiple of this: a multiple of every Linux page size (4, 16, 64 KiB). */
    private static final int BLOCK_UNIT = 64 * 1024;
    /** A frame larger than a ring slot is read into this buffer whole (GSO frames are up to 64 KiB by default). */
    private static final int OVERSIZE_BUFFER = 256 * 1024;
    /** Room in the socket's receive queue for whole copies of oversize frames. */
    private static final int RECEIVE_BUFFER = 4 * 1024 * 1024;

    // struct tpacket2_hdr
    private static final int TP_STATUS = 0;
    private static final int TP_LEN = 4;
    private static final int TP_SNAPLEN = 8;
    private static final int TP_MAC = 12;
    /** TPACKET2_HDRLEN (tpacket2_hdr + sockaddr_ll), the least a frame slot must hold. */
    private static final int TPACKET2_HDRLEN = 52;
    private static final int TP_STATUS_KERNEL = 0;
    private static final int TP_STATUS_USER = 1;
    private static final int TP_STATUS_COPY = 2;
    private static final int TP_STATUS_LOSING = 4;
    // struct mmsghdr (LP64): msghdr {name, namelen, iov, iovlen, control, controllen, flags}, msg_len
    private static final int MMSGHDR_LENGTH = 64;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int IOVEC_LENGTH = 16;

    private static final VarHandle STATUS = JAVA_INT.varHandle();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = Libc.callState(arena);
    private final Options options;
    private final String name;
    private final PacketSocketCounters counters = new PacketSocketCounters();
    private int fd = -1;
    private long ringAddress;
    private long ringLength;
    private MemorySegment ring;
    private ByteBuffer ringBuffer;
    /** Where each frame slot starts in the ring (blocks may end with unused bytes). */
    private int[] slots;
    private int head;
    /** The last call handled frames: traffic flows, so the next wait may first let frames gather. */
    private boolean busy;
    private MemorySegment oversize;
    private ByteBuffer oversizeBuffer;
    private MemorySegment messages;
    private MemorySegment[] messagesFrom;
    private MemorySegment iovecs;
    private MemorySegment statistics;
    private MemorySegment statisticsLength;
    private ReadinessWait readiness;
    private boolean closed;

    private PacketSocket(Options options) {
        this.options = options;
        this.name = "packet socket on " + options.interfaceName();
    }

    /**
     * Opens the socket as {@code options} say.
     *
     * @throws NativeException with the failing call and errno, e.g. EPERM without CAP_NET_RAW,
     *         ENODEV for an unknown interface index, ENOPROTOOPT (PACKET_IGNORE_OUTGOING) before
     *         Linux 4.20, EINVAL (PACKET_FANOUT) when the group exists with another interface
     */
    public static PacketSocket open(Options options) throws NativeException {
        PacketSocket s = new PacketSocket(options);
        try {
            s.configure();
            return s;
        } catch (NativeException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void configure() throws NativeException {
        fd = (int) Libc.check(Libc.socket(callState, Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0),
                callState, "socket(AF_PACKET, SOCK_RAW) on " + options.interfaceName());
        option(Libc.SOL_PACKET, Libc.PACKET_VERSION, Libc.TPACKET_V2, "PACKET_VERSION TPACKET_V2");
        if (options.vnetHeader()) { // before the ring: the kernel refuses it once a ring exists
            option(Libc.SOL_PACKET, Libc.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
        }
        option(Libc.SOL_PACKET, Libc.PACKET_COPY_THRESH, 1, "PACKET_COPY_THRESH");
        option(Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, RECEIVE_BUFFER, "SO_RCVBUFFORCE");
        if (Libc.setsockopt(callState, fd, Libc.SOL_PACKET, Libc.PACKET_IGNORE_OUTGOING,
                SocketAddresses.intValue(arena, 1)) < 0) {
            int errno = Libc.errno(callState);
            throw errno == Errno.ENOPROTOOPT
                    ? new NativeException("setsockopt(PACKET_IGNORE_OUTGOING)", errno, "needs Linux 4.20 or later")
                    : new NativeException("setsockopt(PACKET_IGNORE_OUTGOING)", errno);
        }
        boolean fanout = options.fanoutGroup() != 0;
        attach(fanout ? BpfFilter.dropAll() : options.filter());
        mapRing();
        Libc.check(Libc.bind(callState, fd, SocketAddresses.link(arena, options.interfaceIndex(), Libc.ETH_P_IP, null)),
                callState, "bind(" + options.interfaceName() + " index " + options.interfaceIndex() + ")");
        if (fanout) {
            option(Libc.SOL_PACKET, Libc.PACKET_FANOUT, options.fanoutGroup() | Libc.PACKET_FANOUT_HASH << 16,
                    "PACKET_FANOUT hash group " + options.fanoutGroup());
            attach(options.filter());
        }
        prepareSends();
        statistics = arena.allocate(8, 4);
        statisticsLength = arena.allocate(4, 4);
        readiness = new ReadinessWait(arena, fd, name);
    }

    private void mapRing() throws NativeException {
        int frameSize = options.frameSize();
        int blockSize = (frameSize + BLOCK_UNIT - 1) / BLOCK_UNIT * BLOCK_UNIT;
        int framesPerBlock = blockSize / frameSize;
        int blocks = (options.frameCount() + framesPerBlock - 1) / framesPerBlock;
        int frames = blocks * framesPerBlock;
        MemorySegment request = arena.allocate(16, 4); // struct tpacket_req
        request.set(JAVA_INT, 0, blockSize);
        request.set(JAVA_INT, 4, blocks);
        request.set(JAVA_INT, 8, frameSize);
        request.set(JAVA_INT, 12, frames);
        Libc.check(Libc.setsockopt(callState, fd, Libc.SOL_PACKET, Libc.PACKET_RX_RING, request), callState,
                "setsockopt(PACKET_RX_RING " + blocks + " blocks of " + blockSize + ", " + frames + " frames of "
                        + frameSize + ")");
        long length = (long) blockSize * blocks;
        long address = Libc.mmap(callState, length, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_SHARED | Libc.MAP_POPULATE, fd);
        if (address == -1L) {
            throw new NativeException("mmap(receive ring, " + length + " bytes)", Libc.errno(callState));
        }
        ringAddress = address;
        ringLength = length;
        ring = MemorySegment.ofAddress(address).reinterpret(length, arena, null);
        ringBuffer = ring.asByteBuffer(); // big-endian, as the frames
        slots = new int[frames];
        for (int i = 0; i < frames; i++) {
            slots[i] = i / framesPerBlock * blockSize + i % framesPerBlock * frameSize;
            // touch every slot now (not yet bound: the kernel does not write yet): the first touch of
            // a ring page costs a page-table fill, up to microseconds in a VM, better paid at open
            // than by the first lap of frames
            ring.set(JAVA_INT, slots[i], TP_STATUS_KERNEL);
        }
    }

    /** One mmsghdr per frame of a batch, each with its own iovec; only the iovecs change per send. */
    private void prepareSends() {
        int batch = options.batchSize();
        messages = arena.allocate((long) MMSGHDR_LENGTH * batch, 8);
        iovecs = arena.allocate((long) IOVEC_LENGTH * batch, 8);
        messagesFrom = new MemorySegment[batch];
        for (int i = 0; i < batch; i++) {
            MemorySegment message = messages.asSlice((long) MMSGHDR_LENGTH * i);
            message.set(ADDRESS, MSG_IOV, iovecs.asSlice((long) IOVEC_LENGTH * i, IOVEC_LENGTH));
            message.set(JAVA_LONG, MSG_IOVLEN, 1L);
            messagesFrom[i] = message;
        }
        oversize = arena.allocate(OVERSIZE_BUFFER, 64);
        oversizeBuffer = oversize.asByteBuffer();
    }

    private void attach(BpfFilter filter) throws NativeException {
        Libc.check(Libc.setsockopt(callState, fd, Libc.SOL_SOCKET, Libc.SO_ATTACH_FILTER, filter.program(arena)),
                callState, "setsockopt(SO_ATTACH_FILTER " + filter + ")");
    }

    private void option(int level, int option, int value, String what) throws NativeException {
        Libc.check(Libc.setsockopt(callState, fd, level, option, SocketAddresses.intValue(arena, value)), callState,
                "setsockopt(" + what + ") on " + options.interfaceName());
    }

    /**
     * Waits up to {@code timeoutNanos} (0: do not wait; Long.MAX_VALUE: no limit) for frames, hands
     * each ready one (up to {@link Options#batchSize()}) to {@code handler}, sends those it returned
     * true for in one {@code sendmmsg}, then gives their ring slots back to the kernel. Send errors
     * are counted by errno in {@link #counters()} (the frame is dropped), not thrown.
     *
     * @return the number of frames handed to {@code handler}; 0 when the time ran out, {@link #wakeup()}
     *         was called or a signal interrupted the wait
     * @throws NativeException when waiting fails (not for a refused send)
     */
    public int receive(FrameHandler handler, long timeoutNanos) throws NativeException {
        if (!ready(slots[head])) {
            if (busy && options.moderationNanos() > 0 && timeoutNanos != 0) {
                busy = false;
                if (!readiness.pause(Math.min(options.moderationNanos(), timeoutNanos))) {
                    return 0; // wakeup()
                }
            }
            if (!ready(slots[head])) {
                if (timeoutNanos == 0) {
                    return 0;
                }
                if (!readiness.await(timeoutNanos)) {
                    refreshRingDrops(); // idle: a good moment for the syscall
                    return 0;
                }
            }
        }

        int handled = 0;
        int queued = 0;
        int taken = 0;
        boolean oversizeUsed = false;
        int slot = head;
        // slots go back to the kernel only after the send: a batch that wrapped round the ring
        // would find its own first slots, still marked for user space, and read them again
        int batch = Math.min(options.batchSize(), slots.length);
        try {
            while (taken < batch) {
                long at = slots[slot];
                int status = (int) STATUS.getAcquire(ring, at);
                if ((status & TP_STATUS_USER) == 0) {
                    break;
                }
                if ((status & TP_STATUS_LOSING) != 0) {
                    refreshRingDrops();
                }
                if ((status & TP_STATUS_COPY) != 0) {
                    if (oversizeUsed) {
                        break; // one oversize frame per batch: the next call takes this one
                    }
                    oversizeUsed = true;
                    int length = readOversize();
                    if (length > 0) {
                        handled++;
                        counters.received();
                        int frameStart = options.vnetHeader() ? VNET_HEADER_LENGTH : 0;
                        if (handler.onFrame(oversizeBuffer, vnetHeaderAt(frameStart), frameStart, length)) {
                            queue(queued++, oversize.address(), length);
                        }
                    }
                } else {
                    int frameStart = (int) at + Short.toUnsignedInt(ring.get(JAVA_SHORT, at + TP_MAC));
                    int captured = ring.get(JAVA_INT, at + TP_SNAPLEN);
                    if (captured < ring.get(JAVA_INT, at + TP_LEN)) {
                        counters.truncated(); // too big for the slot, and no room for a whole copy
                    } else {
                        handled++;
                        counters.received();
                        int vnetHeaderAt = vnetHeaderAt(frameStart);
                        int sendFrom = options.vnetHeader() ? vnetHeaderAt : frameStart;
                        int frameEnd = frameStart + captured;
                        if (handler.onFrame(ringBuffer, vnetHeaderAt, frameStart, frameEnd)) {
                            queue(queued++, ringAddress + sendFrom, frameEnd - sendFrom);
                        }
                    }
                }
                taken++;
                slot = slot + 1 == slots.length ? 0 : slot + 1;
            }
        } finally {
            send(queued);
            // the slots go back only now: the frames sent were read from them by sendmmsg
            for (int i = 0, s = head; i < taken; i++, s = s + 1 == slots.length ? 0 : s + 1) {
                STATUS.setRelease(ring, (long) slots[s], TP_STATUS_KERNEL);
            }
            head = slot;
        }
        busy = handled > 0;
        return handled;
    }

    /** Where the kernel put the virtio_net_hdr: right before the frame; or NO_VNET_HEADER. */
    private int vnetHeaderAt(int frameStart) {
        return options.vnetHeader() ? frameStart - VNET_HEADER_LENGTH : FrameHandler.NO_VNET_HEADER;
    }

    private boolean ready(int at) {
        return ((int) STATUS.getAcquire(ring, (long) at) & TP_STATUS_USER) != 0;
    }

    /** Reads the whole copy of an oversize frame queued on the socket; its length, or 0 if it is lost. */
    private int readOversize() {
        long n = Libc.recv(callState, fd, oversize, Libc.MSG_DONTWAIT | Libc.MSG_TRUNC);
        int least = (options.vnetHeader() ? VNET_HEADER_LENGTH : 0) + 14;
        if (n < least || n > OVERSIZE_BUFFER) {
            counters.truncated();
            return 0;
        }
        return (int) n;
    }

    private void queue(int index, long address, int length) {
        long iovec = (long) IOVEC_LENGTH * index;
        iovecs.set(JAVA_LONG, iovec, address);      // iov_base
        iovecs.set(JAVA_LONG, iovec + 8, length);   // iov_len
    }

    /** Sends the first {@code count} queued frames; a refused frame is counted and skipped. */
    private void send(int count) {
        int next = 0;
        while (next < count) {
            int sent = Libc.sendmmsg(callState, fd, messagesFrom[next], count - next, 0);
            if (sent > 0) {
                counters.sent(sent);
                next += sent;
            } else {
                // sendmmsg reports the error of the first message it could not send
                int errno = sent < 0 ? Libc.errno(callState) : Errno.EAGAIN;
                if (errno != Errno.EINTR) {
                    counters.sendError(errno);
                    next++;
                }
            }
        }
    }

    /**
     * Adds the kernel's ring drops since the last read ({@code PACKET_STATISTICS} resets them).
     * The owner thread (package-private for tests that fill the ring without reading it).
     */
    void refreshRingDrops() {
        if (Libc.getsockopt(callState, fd, Libc.SOL_PACKET, Libc.PACKET_STATISTICS, statistics, statisticsLength) == 0) {
            int drops = statistics.get(JAVA_INT, 4); // struct tpacket_stats {tp_packets, tp_drops}
            if (drops != 0) {
                counters.ringDrops(Integer.toUnsignedLong(drops));
            }
        }
    }

    /** This socket's counters; any thread. */
    public PacketSocketCounters counters() {
        return counters;
    }

    /** What the socket was opened with. */
    public Options options() {
        return options;
    }

    /** The number of frame slots in the ring (the frame count asked for, rounded up to whole blocks). */
    public int ringFrames() {
        return slots.length;
    }

    /** Ends a {@link #receive} wait early (now or, if none runs, the next one). Any thread. */
    public synchronized void wakeup() {
        if (!closed && readiness != null) {
            readiness.wakeup();
        }
    }

    /** Closes the socket and unmaps the ring; the owner thread, not inside {@link #receive}. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ringAddress != 0) {
            Libc.munmap(callState, ringAddress, ringLength);
        }
        Sockets.release(readiness, callState, fd, arena);
    }

    /**
     * How to open a {@link PacketSocket}.
     *
     * @param interfaceName  for messages; the socket is bound by index
     * @param interfaceIndex the interface the socket receives on and sends to
     * @param filter         the frames to receive, e.g. {@link BpfFilter#ipv4To}
     * @param vnetHeader     {@code PACKET_VNET_HDR}: a virtio_net_hdr before each frame received and
     *                       sent (recommended: partial checksums and GSO frames then just work)
     * @param fanoutGroup    0: no fanout; 1..65535: join this {@code PACKET_FANOUT_HASH} group (one
     *                       socket per forwarder thread, all with the same group, interface and filter)
     * @param frameSize      bytes per ring slot, a multiple of 16: the slot header (≈ 80 bytes with
     *                       the vnet header) plus the largest ordinary frame (MTU + 14); larger
     *                       frames take the slower oversize path
     * @param frameCount     ring slots (rounded up to whole 64 KiB blocks): the burst the ring absorbs
     *                       while the thread is busy or descheduled
     * @param batchSize      frames handled per {@link #receive} call and sent per {@code sendmmsg}
     * @param moderationNanos 0: off; else how long a wait after a non-empty batch first lets frames
     *                       gather (latency added to frames that arrive during it; see the class
     *                       comment)
     */
    public record Options(String interfaceName, int interfaceIndex, BpfFilter filter, boolean vnetHeader,
                          int fanoutGroup, int frameSize, int frameCount, int batchSize, long moderationNanos) {

        /** Holds an MTU-1500 frame with its slot header; a power of two, so 64 KiB blocks waste nothing. */
        public static final int DEFAULT_FRAME_SIZE = 2048;
        /** 8 MiB of ring: 16 ms at 250k frames/s. */
        public static final int DEFAULT_FRAME_COUNT = 4096;
        /** Enough to amortise the syscalls (one ppoll and one sendmmsg per batch) under load. */
        public static final int DEFAULT_BATCH_SIZE = 64;

        public Options {
            if (interfaceIndex <= 0) {
                throw new IllegalArgumentException("interface index must be positive, got " + interfaceIndex);
            }
            if (filter == null) {
                throw new IllegalArgumentException("a packet socket needs a filter (BpfFilter.acceptAll() for all)");
            }
            if (fanoutGroup < 0 || fanoutGroup > 0xFFFF) {
                throw new IllegalArgumentException("fanout group must be 0 (none) or 1..65535, got " + fanoutGroup);
            }
            if (frameSize % 16 != 0 || frameSize < TPACKET2_HDRLEN + 64 + VNET_HEADER_LENGTH) {
                throw new IllegalArgumentException("frame size must be a multiple of 16 and at least 128, got "
                        + frameSize);
            }
            if (moderationNanos < 0 || moderationNanos >= 1_000_000_000L) {
                throw new IllegalArgumentException("moderation must be 0 (off) or under a second, got "
                        + moderationNanos + " ns");
            }
            if (frameCount < 1 || batchSize < 1 || (long) frameSize * frameCount > 1L << 30) {
                throw new IllegalArgumentException("ring of " + frameCount + " frames of " + frameSize
                        + " bytes, batch " + batchSize + ": counts must be positive and the ring at most 1 GiB");
            }
        }

        /** The defaults: vnet header on, no fanout, {@link #DEFAULT_FRAME_SIZE} × {@link #DEFAULT_FRAME_COUNT}. */
        public static Options of(String interfaceName, int interfaceIndex, BpfFilter filter) {
            return new Options(interfaceName, interfaceIndex, filter, true, 0, DEFAULT_FRAME_SIZE, DEFAULT_FRAME_COUNT,
                    DEFAULT_BATCH_SIZE, 0);
        }

        public Options withFanoutGroup(int group) {
            return new Options(interfaceName, interfaceIndex, filter, vnetHeader, group, frameSize, frameCount, batchSize, moderationNanos);
        }

        public Options withVnetHeader(boolean on) {
            return new Options(interfaceName, interfaceIndex, filter, on, fanoutGroup, frameSize, frameCount, batchSize, moderationNanos);
        }

        public Options withRing(int frameSize, int frameCount) {
            return new Options(interfaceName, interfaceIndex, filter, vnetHeader, fanoutGroup, frameSize, frameCount,
                    batchSize, moderationNanos);
        }

        public Options withBatchSize(int frames) {
            return new Options(interfaceName, interfaceIndex, filter, vnetHeader, fanoutGroup, frameSize, frameCount,
                    frames, moderationNanos);
        }

        public Options withModerationNanos(long nanos) {
            return new Options(interfaceName, interfaceIndex, filter, vnetHeader, fanoutGroup, frameSize, frameCount,
                    batchSize, nanos);
        }
    }
}
