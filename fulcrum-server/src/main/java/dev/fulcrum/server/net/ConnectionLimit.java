package dev.fulcrum.server.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A listener's {@code max-connections}, the way HAProxy's {@code maxconn} works: at the limit the
 * listener stops accepting, so new connections wait in the kernel's backlog (their TCP handshake
 * done, their request unread), and it accepts again as soon as an open connection closes. Nothing
 * is reset; a client over the limit is served late, not refused.
 *
 * <p>One instance per listener, one limit for all its listening sockets (one per event loop with
 * {@code SO_REUSEPORT}, see {@link ListenerSockets}). Each socket's pipeline has a gate
 * ({@link #newHandler()}), in front of the bootstrap's acceptor, that sees each accepted
 * connection before it is registered. The open count is one atomic shared by the gates: a gate
 * passes a connection only if it can take a slot below the limit (a compare-and-set), and a
 * connection's close gives its slot back. Accepting is paused by turning a socket's
 * {@code autoRead} off. A transport may accept a few connections in one batch before the pause
 * takes effect; those that found no slot are held by their gate, unregistered and unread, and
 * passed on as slots free, so the limit is exact.
 *
 * <p>Thread confinement and the invariant: a gate's own state (its held connections, its
 * socket's {@code autoRead}) is touched only on its socket's event loop. The count crosses the
 * limit in two ways, each seen by exactly one thread: a slot taken that makes it reach the limit,
 * a slot given back that takes it below. Each crossing asks every gate, on its own loop, to
 * {@linkplain Gate#recheck() recheck}: read the count at that moment, pass held connections while
 * slots are free, then pause if none is left, resume otherwise. A recheck runs after the crossing
 * that asked for it and reads the count as it is then, so the last recheck of each gate follows
 * the last crossing and sees the side of the limit the count stays on: a socket cannot stay
 * paused below the limit, nor accept on past it. Between crossings nothing is exchanged between
 * loops: below the limit a connection costs one compare-and-set to open and one decrement to close.
 */
public final class ConnectionLimit {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String listener;
    private final int max;
    /** Connections passed on and not yet closed, over all sockets; 0..max. */
    private final AtomicInteger open = new AtomicInteger();
    private final List<Gate> gates = new CopyOnWriteArrayList<>();
    private final AtomicLong lastWarnNanos = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    /** One listener for all connections: gives the slot back. */
    private final ChannelFutureListener release = f -> release();

    private ConnectionLimit(String listener, int max) {
        this.listener = listener;
        this.max = max;
    }

    /**
     * The limit of one listener; a new one per start (it counts that start's connections).
     *
     * @param max the most connections open at once; 0 or less: no limit (gates that pass all)
     */
    public static ConnectionLimit of(String listener, int max) {
        return new ConnectionLimit(listener, max);
    }

    /** The gate for one listening socket ({@code ServerBootstrap.handler}); not sharable. */
    public ChannelHandler newHandler() {
        return max > 0 ? new Gate() : new ChannelInboundHandlerAdapter();
    }

    /** Takes a slot if one is free; any thread. */
    private boolean tryAcquire() {
        for (int n = open.get(); n < max; n = open.get()) {
            if (open.compareAndSet(n, n + 1)) {
                if (n + 1 == max) {
                    reachedLimit();
                }
                return true;
            }
        }
        return false;
    }

    /** A passed connection closed, on its own event loop. */
    private void release() {
        if (open.getAndDecrement() == max) {
            recheckAll(); // below the limit again
        }
    }

    private void reachedLimit() {
        long now = System.nanoTime();
        long last = lastWarnNanos.get();
        if (now - last >= WARN_EVERY_NANOS && lastWarnNanos.compareAndSet(last, now)) {
            log.warn("listener {}: max-connections {} reached; new connections wait in the backlog until one closes",
                    listener, max);
        }
        recheckAll();
    }

    private void recheckAll() {
        for (Gate gate : gates) {
            gate.recheckOnItsLoop();
        }
    }

    /** One listening socket's side of the limit; see the class comment. */
    private final class Gate extends ChannelInboundHandlerAdapter {

        /** Accepted when no slot was free; passed on as slots free. Loop-confined. */
        private final ArrayDeque<Channel> waiting = new ArrayDeque<>();
        private final Runnable recheck = this::recheck;
        private ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            gates.add(this); // after ctx is set: other loops read it through the list
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            gates.remove(this);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof Channel child)) {
                ctx.fireChannelRead(msg);
                return;
            }
            if (waiting.isEmpty() && tryAcquire()) {
                pass(child);
                return;
            }
            waiting.add(child);
            // the count was at the limit just now: a later crossing below it rechecks this gate
            setAccepting(false);
        }

        private void pass(Channel child) {
            child.closeFuture().addListener(release);
            ctx.fireChannelRead(child);
        }

        void recheckOnItsLoop() {
            if (ctx.executor().inEventLoop()) {
                recheck();
                return;
            }
            try {
                ctx.executor().execute(recheck);
            } catch (RejectedExecutionException e) {
                // the socket's loop is shut down: the socket is gone, nothing to pause or resume
            }
        }

        /** On the socket's loop: passes held connections while slots are free, then pauses or resumes. */
        private void recheck() {
            if (!ctx.channel().isOpen()) {
                return;
            }
            for (Channel next; !waiting.isEmpty() && tryAcquire(); ) {
                next = waiting.poll();
                pass(next);
            }
            setAccepting(waiting.isEmpty() && open.get() < max);
        }

        private void setAccepting(boolean accepting) {
            if (ctx.channel().config().isAutoRead() != accepting) {
                ctx.channel().config().setAutoRead(accepting); // on: reads the backlog again
            }
        }

        /** The socket stopped: connections still held here are closed, never served. */
        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            for (Channel child; (child = waiting.poll()) != null; ) {
                child.unsafe().closeForcibly();
            }
            ctx.fireChannelInactive();
        }
    }
}
