package dev.fulcrum.server.http;

import dev.fulcrum.server.net.ListenerConnections;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The end of an HTTP/2 connection's life, after its frame codec and stream multiplexer: a graceful
 * close of the listener ({@link ListenerConnections#GRACEFUL_CLOSE}: stop, or a reload that
 * removes the listener) sends GOAWAY with the last stream the client opened, lets the streams in
 * flight finish, and closes when none is left (the listener's close timeout closes what remains);
 * a connection with no open stream for {@code idle-timeout} gets GOAWAY and closes. PINGs and
 * SETTINGS do not keep a connection alive: only streams do (as nginx's HTTP/2 idle timeout).
 * Connection errors Netty already answered with GOAWAY end here (logged at debug).
 *
 * <p>It also bounds the rate of PING and SETTINGS frames a client sends: Netty's own guard only
 * trips once 10 000 answers queue up unread, which a client that reads slowly reaches only after
 * hundreds of thousands of frames. Here a connection may send {@value #CONTROL_FRAME_BURST} at once and
 * {@value #CONTROL_FRAMES_PER_SECOND} a second after that (browsers send a handful, gRPC's
 * bandwidth probes far fewer than this); past it, GOAWAY ENHANCE_YOUR_CALM and the close
 * (counted as {@code control-frame-flood}).
 *
 * <p>One per connection, confined to its event loop.
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(Http2ConnectionGuard.class);

    static final int CONTROL_FRAME_BURST = 2_000;
    static final int CONTROL_FRAMES_PER_SECOND = 1_000;

    private final long idleNanos;
    /** PING and SETTINGS frames the client may still send now (a token bucket, refilled as time passes). */
    private double controlTokens = CONTROL_FRAME_BURST;
    private long controlRefilledAt = System.nanoTime();
    private boolean flooded;
    private Http2Connection connection;
    private ChannelHandlerContext ctx;
    /** When the last stream closed (or the connection began): idleness counts from here. */
    private long idleSince;
    private ScheduledFuture<?> idleCheck;
    private boolean goingAway;

    Http2ConnectionGuard(long idleNanos) {
        this.idleNanos = idleNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.connection = ctx.pipeline().get(Http2FrameCodec.class).connection();
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                streamClosed();
            }
        });
        idleSince = System.nanoTime();
        scheduleIdleCheck(idleNanos);
    }

    private void scheduleIdleCheck(long delayNanos) {
        if (idleNanos > 0) {
            idleCheck = ctx.executor().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void checkIdle() {
        if (!ctx.channel().isActive() || goingAway) {
            return;
        }
        if (connection.numActiveStreams() > 0) {
            scheduleIdleCheck(idleNanos);
            return;
        }
        long idle = System.nanoTime() - idleSince;
        if (idle < idleNanos) {
            scheduleIdleCheck(idleNanos - idle);
            return;
        }
        log.debug("closing idle HTTP/2 connection {}", ctx.channel());
        goAway();
    }

    private void streamClosed() {
        // whether the closing stream still counts as active here is Netty's detail: <= 1 holds either
        // way (an early idleSince is harmless, checkIdle looks at the count first); the close runs after
        if (connection.numActiveStreams() <= 1) {
            idleSince = System.nanoTime();
            if (goingAway) {
                ctx.executor().execute(this::closeIfDone);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if ((msg instanceof Http2PingFrame ping && !ping.ack()) || msg instanceof Http2SettingsFrame) {
            if (!takeControlToken()) {
                ReferenceCountUtil.release(msg);
                refuseControlFlood();
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    private boolean takeControlToken() {
        long now = System.nanoTime();
        controlTokens = Math.min(CONTROL_FRAME_BURST,
                controlTokens + (now - controlRefilledAt) * (CONTROL_FRAMES_PER_SECOND / 1e9));
        controlRefilledAt = now;
        if (controlTokens < 1) {
            return false;
        }
        controlTokens--;
        return true;
    }

    private void refuseControlFlood() {
        if (flooded) {
            return; // the rest of the read that tripped the limit
        }
        flooded = true;
        goingAway = true;
        // the debug data names the guard: Http2Refusals counts it as control-frame-flood
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM, Unpooled.copiedBuffer(
                        "too many control frames (PING, SETTINGS) per second", StandardCharsets.US_ASCII)))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ListenerConnections.GRACEFUL_CLOSE) {
            goAway();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** GOAWAY with the last stream the client opened: those finish, no new one starts. */
    private void goAway() {
        if (goingAway || !ctx.channel().isActive()) {
            return;
        }
        goingAway = true;
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR))
                .addListener((ChannelFutureListener) f -> closeIfDone());
    }

    private void closeIfDone() {
        if (connection.numActiveStreams() == 0) {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception) {
            log.debug("HTTP/2 connection {}: {}", ctx.channel(), cause.getMessage()); // answered with GOAWAY already
        } else {
            log.debug("HTTP/2 connection {} failed: {}", ctx.channel(), cause.toString());
            ctx.close();
        }
    }
}
