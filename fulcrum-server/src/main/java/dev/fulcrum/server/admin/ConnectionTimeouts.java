package dev.fulcrum.server.admin;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The clocks of one admin connection ({@link AdminLimits}), as a state machine:
 *
 * <pre>
 *   NEW ──byte──▶ HEAD ──head──▶ BODY ──end of body──▶ ANSWERING ──end of response──▶ IDLE ──byte──▶ HEAD
 *   NEW, HEAD: header-timeout (from the connection's start, or from the first byte after IDLE)
 *   BODY: body-timeout          ANSWERING: none          IDLE: idle-timeout
 * </pre>
 *
 * A request head or body that does not arrive in time is answered 408 and the connection closed (a
 * slow client cannot hold a connection with a few bytes now and then); a connection that sent
 * nothing, or is idle between requests, is closed without an answer. While a request is being
 * answered nothing runs out: a reload may take its time, and an events stream (a response that
 * never ends) stays open as long as its client reads it.
 *
 * <p>It sits after the HTTP codec, where it sees request heads and response ends; {@link #byteSpy()}
 * goes before the codec to see the first byte of a head, which the codec does not announce. One
 * instance per connection, confined to its event loop.
 */
final class ConnectionTimeouts extends ChannelDuplexHandler {

    enum Wait { NEW, HEAD, BODY, ANSWERING, IDLE }

    private final AdminLimits limits;
    private Wait wait = Wait.NEW;
    private ScheduledFuture<?> timer;
    /** Counts clocks started, so a clock that fires after it was replaced does nothing. */
    private long clock;
    private ChannelHandlerContext ctx;

    ConnectionTimeouts(AdminLimits limits) {
        this.limits = limits;
    }

    /** The handler to put before the HTTP codec: tells this one when bytes arrive. */
    ChannelInboundHandlerAdapter byteSpy() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext spyCtx, Object msg) {
                bytesArrived();
                spyCtx.fireChannelRead(msg);
            }
        };
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        enter(Wait.NEW, limits.headerTimeout());
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    private void bytesArrived() {
        if (wait == Wait.IDLE) {
            enter(Wait.HEAD, limits.headerTimeout());
        } else if (wait == Wait.NEW) {
            wait = Wait.HEAD; // the clock started with the connection
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest && (wait == Wait.NEW || wait == Wait.HEAD || wait == Wait.IDLE)) {
            enter(Wait.BODY, limits.bodyTimeout());
        }
        if (msg instanceof LastHttpContent && wait == Wait.BODY) {
            enter(Wait.ANSWERING, null);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent && wait == Wait.ANSWERING) {
            enter(Wait.IDLE, limits.idleTimeout());
        }
        ctx.write(msg, promise);
    }

    private void enter(Wait next, Duration timeout) {
        cancel();
        wait = next;
        long started = ++clock;
        if (timeout != null) {
            timer = ctx.executor().schedule(() -> expire(started), timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The clock started as number {@code started} ran out; NEW may have become HEAD meanwhile. */
    private void expire(long started) {
        if (started != clock || !ctx.channel().isActive()) {
            return;
        }
        switch (wait) {
            case HEAD, BODY -> {
                String what = wait == Wait.HEAD ? "request head" : "request body";
                Duration limit = wait == Wait.HEAD ? limits.headerTimeout() : limits.bodyTimeout();
                wait = Wait.ANSWERING; // no other clock: the connection ends here
                ctx.writeAndFlush(ErrorResponse.of(HttpResponseStatus.REQUEST_TIMEOUT,
                        "the " + what + " did not arrive within " + limit.toMillis() + " ms", true))
                        .addListener(ChannelFutureListener.CLOSE);
            }
            default -> ctx.close(); // NEW or IDLE: nothing was asked, nothing to answer
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
