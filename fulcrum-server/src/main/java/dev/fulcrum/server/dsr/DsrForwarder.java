package dev.fulcrum.server.dsr;

import dev.fulcrum.core.dsr.DsrRouter;
import dev.fulcrum.core.dsr.DsrSettings;
import dev.fulcrum.core.dsr.DsrTargets;
import dev.fulcrum.linux.FrameHandler;
import dev.fulcrum.linux.NativeException;
import dev.fulcrum.linux.PacketSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One forwarder thread: its own packet socket (a member of the service's fanout group, so each
 * flow reaches one thread) and its own {@link DsrRouter} (flow table, counters). Receives a batch,
 * routes each frame in place in the ring, and the socket sends the forwarded ones in one
 * {@code sendmmsg}. Nothing on this path allocates, blocks on a lock or calls the control plane.
 */
final class DsrForwarder implements FrameHandler {

    private static final Logger log = LoggerFactory.getLogger(DsrForwarder.class);
    /** How long a receive waits, so a stop is seen within it even without a wakeup. */
    private static final long WAIT_NANOS = 200_000_000L;

    private final PacketSocket socket;
    private final DsrRouter router;
    private final Thread thread;
    private volatile boolean running = true;
    /** The time of the current batch: one clock read per receive. */
    private long now;

    DsrForwarder(int index, PacketSocket socket, DsrSettings settings, AtomicReference<DsrTargets> targets) {
        this.socket = socket;
        this.router = new DsrRouter(settings, targets);
        this.thread = Thread.ofPlatform().name("fulcrum-dsr-" + index).daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    DsrRouter router() {
        return router;
    }

    PacketSocket socket() {
        return socket;
    }

    private void run() {
        try {
            while (running) {
                now = System.nanoTime();
                socket.receive(this, WAIT_NANOS);
            }
        } catch (NativeException | RuntimeException e) {
            log.error("dsr: forwarder {} stopped: {}", thread.getName(), e.toString());
        } finally {
            socket.close();
        }
    }

    @Override
    public boolean onFrame(ByteBuffer buffer, int vnetHeaderAt, int frameStart, int frameEnd) {
        return router.route(buffer, vnetHeaderAt, frameStart, frameEnd, now).forwarded();
    }

    /** Stops the thread (it closes its socket) and waits up to 2 s. */
    void stop() {
        running = false;
        socket.wakeup();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
