package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Enforces {@code request-header-timeout} (slowloris): a request head must be complete within it.
 * The clock starts when the connection opens (first request) or at the first byte of a later
 * request on a keep-alive connection; an idle keep-alive connection is the idle timeout's business.
 * Sits in front of the decoder and sees raw bytes. When time runs out it fires {@link #TIMED_OUT}
 * up the pipeline; the frontend answers 408 if some of the head arrived, else just closes.
 * Confined to the client channel's event loop.
 */
final class RequestHeadGuard extends ChannelInboundHandlerAdapter {

    /** User event: the head did not arrive in time. */
    static final Object TIMED_OUT = new Object() {
        @Override
        public String toString() {
            return "request header timeout";
        }
    };

    private final long timeoutNanos;
    private ChannelHandlerContext ctx;
    private boolean waitingForHead = true;
    private boolean bytesSeen;
    private ScheduledFuture<?> timer;
    /** When the awaited head must be complete ({@link System#nanoTime()}); 0 = not waiting. */
    private long deadlineNanos;

    RequestHeadGuard(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (waitingForHead && !bytesSeen && msg instanceof ByteBuf buf && buf.isReadable()) {
            bytesSeen = true;
            arm();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stopTimer();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stopTimer();
    }

    /** Some bytes of the awaited head arrived (the 408 versus silent-close choice). */
    boolean headStarted() {
        return bytesSeen;
    }

    /** The decoder produced a request head: stop the clock. */
    void headReceived() {
        waitingForHead = false;
        cancel();
    }

    /** The exchange ended on a keep-alive connection: wait for the next head (clock starts at its first byte). */
    void awaitNextHead() {
        waitingForHead = true;
        bytesSeen = false;
        cancel();
    }

    /*
     * A lazy timer: arming and disarming only write the deadline; the one scheduled task of the
     * connection checks it when it fires and re-schedules itself for what is left. On a busy
     * keep-alive connection that is one schedule per timeout period instead of one per request.
     */
    private void arm() {
        if (waitingForHead && timeoutNanos > 0) {
            deadlineNanos = System.nanoTime() + timeoutNanos;
            if (timer == null) {
                schedule(timeoutNanos);
            }
        }
    }

    private void schedule(long delayNanos) {
        timer = ctx.executor().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (deadlineNanos == 0 || !waitingForHead) {
            return;
        }
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            schedule(left);
        } else {
            deadlineNanos = 0;
            ctx.fireUserEventTriggered(TIMED_OUT);
        }
    }

    private void cancel() {
        deadlineNanos = 0;
    }

    /** The connection is gone: drop the task too. */
    private void stopTimer() {
        deadlineNanos = 0;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
