package dev.fulcrum.linux;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The DSR forwarder of these tests, done by hand: a thread that drives one {@link PacketSocket}
 * and, for every frame, rewrites the destination MAC to the server's and the source MAC to the
 * balancer's own (12 bytes), then sends it. Records what it saw for the test to check.
 */
final class TestForwarder implements AutoCloseable {

    final PacketSocket socket;
    /** The largest frame seen (Ethernet header to end). */
    final AtomicInteger largestFrame = new AtomicInteger();
    /** Frames whose virtio_net_hdr says GSO (several segments in one frame). */
    final AtomicInteger gsoFrames = new AtomicInteger();
    /** "ethertype dst-ip dst-mac" of every frame seen, e.g. "0800 10.99.7.100 02:00:00:00:07:02". */
    final Set<String> kinds = ConcurrentHashMap.newKeySet();
    private final byte[] serverMac;
    private final byte[] ownMac;
    private final boolean send;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stop;

    private TestForwarder(PacketSocket socket, byte[] serverMac, byte[] ownMac, boolean send) {
        this.socket = socket;
        this.serverMac = serverMac;
        this.ownMac = ownMac;
        this.send = send;
        this.thread = Thread.ofPlatform().name("test-forwarder").daemon().start(this::run);
    }

    /** Forwards every frame to {@code serverMac}, from {@code ownMac}. */
    static TestForwarder forwarding(PacketSocket socket, byte[] serverMac, byte[] ownMac) {
        return new TestForwarder(socket, serverMac, ownMac, true);
    }

    /** Only looks: sends nothing. */
    static TestForwarder watching(PacketSocket socket) {
        return new TestForwarder(socket, null, null, false);
    }

    private void run() {
        FrameHandler handler = this::onFrame;
        try {
            while (!stop) {
                socket.receive(handler, TimeUnit.MILLISECONDS.toNanos(200));
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    private boolean onFrame(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd) {
        largestFrame.accumulateAndGet(frameEnd - frameStart, Math::max);
        if (vnetHeaderAt != FrameHandler.NO_VNET_HEADER && buffer.get(vnetHeaderAt + 1) != 0) {
            gsoFrames.incrementAndGet();
        }
        byte[] dst = new byte[6];
        buffer.get(frameStart, dst);
        int ip = frameStart + 14;
        kinds.add(String.format("%04x %d.%d.%d.%d %s", buffer.getShort(frameStart + 12) & 0xFFFF,
                buffer.get(ip + 16) & 0xFF, buffer.get(ip + 17) & 0xFF, buffer.get(ip + 18) & 0xFF,
                buffer.get(ip + 19) & 0xFF, DsrLan.format(dst)));
        if (!send) {
            return false;
        }
        buffer.put(frameStart, serverMac);
        buffer.put(frameStart + 6, ownMac);
        return true;
    }

    /**
     * What this forwarder did, for an assertion's message: its socket's counters and whether its
     * thread is alive or failed (a failure is otherwise only thrown at {@link #close()}, after the
     * assertion that saw its effect).
     */
    String describe() {
        PacketSocketCounters c = socket.counters();
        Throwable failed = failure.get();
        return "received " + c.framesReceived() + ", sent " + c.framesSent() + ", ring drops " + c.ringDrops()
                + ", truncated " + c.framesTruncated() + ", send errors " + c.sendErrors()
                + (failed != null ? ", thread failed: " + failed : thread.isAlive() ? ", thread running" : ", thread ended");
    }

    /** Stops the thread (wakeup cuts its wait short), then closes the socket. */
    @Override
    public void close() throws Exception {
        stop = true;
        socket.wakeup();
        thread.join(5_000);
        socket.close();
        if (failure.get() != null) {
            throw new AssertionError("forwarder thread failed", failure.get());
        }
    }
}
