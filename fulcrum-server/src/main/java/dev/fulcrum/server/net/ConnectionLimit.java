package dev.fulcrum.server.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A listener's {@code max-connections}, the way HAProxy's {@code maxconn} works: at the limit the
 * listener stops accepting, so new connections wait in the kernel's backlog (their TCP handshake
 * done, their request unread), and it accepts again as soon as an open connection closes. Nothing
 * is reset; a client over the limit is served late, not refused.
 *
 * <p>Sits in the server channel's pipeline, in front of the bootstrap's acceptor, and sees each
 * accepted connection before it is registered. Accepting is paused by turning the server channel's
 * {@code autoRead} off. A transport may accept a few connections in one batch before the pause
 * takes effect (NIO does); those past the limit are held here, unregistered and unread, and passed
 * on one by one as slots free, so the limit is exact on every transport.
 *
 * <p>Thread confinement: every field is touched only on the server channel's event loop. A
 * connection's close (on its own child event loop) is handed over to that loop, so counting up and
 * counting down are one sequence on one thread; a close that races with reaching the limit is
 * simply the next step of it and cannot leave the listener paused with a free slot.
 */
public final class ConnectionLimit extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String listener;
    private final int max;
    /** Connections passed on and not yet closed; 0..max. */
    private int open;
    /** Accepted in the batch that reached the limit; passed on as slots free. */
    private final ArrayDeque<Channel> waiting = new ArrayDeque<>();
    private long lastWarnNanos = System.nanoTime() - WARN_EVERY_NANOS;
    private ChannelHandlerContext ctx;

    private ConnectionLimit(String listener, int max) {
        this.listener = listener;
        this.max = max;
    }

    /**
     * The handler for one listener's server channel ({@code ServerBootstrap.handler}); a new one per
     * bind, it is not sharable.
     *
     * @param max the most connections open at once; 0 or less: no limit (a handler that passes all)
     */
    public static ChannelHandler of(String listener, int max) {
        return max > 0 ? new ConnectionLimit(listener, max) : new ChannelInboundHandlerAdapter();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Channel child)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (open >= max) {
            waiting.add(child);
            pause();
            return;
        }
        pass(child);
    }

    private void pass(Channel child) {
        open++;
        child.closeFuture().addListener(f -> closed());
        if (open >= max) {
            pause();
        }
        ctx.fireChannelRead(child);
    }

    private void pause() {
        if (ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
            long now = System.nanoTime();
            if (now - lastWarnNanos >= WARN_EVERY_NANOS) {
                lastWarnNanos = now;
                log.warn("listener {}: max-connections {} reached; new connections wait in the backlog until one closes",
                        listener, max);
            }
        }
    }

    /** On the closed connection's event loop: hands the count-down to the server channel's loop. */
    private void closed() {
        if (ctx.executor().inEventLoop()) {
            release();
            return;
        }
        try {
            ctx.executor().execute(this::release);
        } catch (RejectedExecutionException e) {
            // the acceptor loop is shut down: the listener is gone, nothing left to resume
        }
    }

    private void release() {
        open--;
        Channel next = waiting.poll();
        if (next != null) {
            pass(next);
        } else if (open < max && ctx.channel().isOpen() && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true); // reads the backlog again
        }
    }

    /** The listener stopped: connections still held here are closed, never served. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (Channel child; (child = waiting.poll()) != null; ) {
            child.unsafe().closeForcibly();
        }
        ctx.fireChannelInactive();
    }
}
