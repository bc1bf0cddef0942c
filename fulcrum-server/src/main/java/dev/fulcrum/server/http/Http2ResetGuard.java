package dev.fulcrum.server.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The rapid-reset guard (CVE-2023-44487), between the frame codec and the stream multiplexer:
 * more than {@link #MAX_PREMATURE_RESETS} premature client resets within {@link #WINDOW_SECONDS}
 * close the connection with GOAWAY ENHANCE_YOUR_CALM. A reset is premature when it comes less
 * than {@link #PREMATURE_MILLIS} after its stream opened (Envoy's definition): the attack opens
 * and resets at once, so it costs Fulcrum work and the attacker nothing; a reset after that cost
 * the client a second of one of its {@code max-concurrent-streams}, which bounds the rate.
 *
 * <p>Netty's own limit counts every RST_STREAM, and a gRPC cancel, or an expired deadline, is one:
 * a busy gRPC client lost its connection, and every call on it, at its 201st cancel in 30 s.
 *
 * <p>The debug data is Netty's ("Maximum number of RST frames reached"), which {@link Http2Refusals}
 * counts as {@code rapid-reset}. One per connection, confined to its event loop.
 */
final class Http2ResetGuard extends ChannelInboundHandlerAdapter {

    static final int MAX_PREMATURE_RESETS = HttpProxyInitializer.MAX_RESETS_PER_WINDOW;
    static final int WINDOW_SECONDS = HttpProxyInitializer.RESET_WINDOW_SECONDS;
    static final long PREMATURE_MILLIS = 1000;
    static final String DEBUG_DATA = "Maximum number of RST frames reached";

    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(WINDOW_SECONDS);
    private static final long PREMATURE_NANOS = TimeUnit.MILLISECONDS.toNanos(PREMATURE_MILLIS);

    /** {@link System#nanoTime()} in production; a test's clock in tests. */
    private final LongSupplier nanoTime;
    private Http2Connection connection;
    /** Where each stream keeps the {@link System#nanoTime()} it opened at. */
    private Http2Connection.PropertyKey openedAt;
    private long windowStart;
    private int premature;
    private boolean closing;

    Http2ResetGuard() {
        this(System::nanoTime);
    }

    Http2ResetGuard(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        connection = ctx.pipeline().get(Http2FrameCodec.class).connection();
        openedAt = connection.newKey();
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamAdded(Http2Stream stream) {
                stream.setProperty(openedAt, nanoTime.getAsLong());
            }
        });
        windowStart = nanoTime.getAsLong();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2ResetFrame reset && !closing && isPremature(reset)) {
            long now = nanoTime.getAsLong();
            if (now - windowStart > WINDOW_NANOS) {
                windowStart = now;
                premature = 0;
            }
            if (++premature > MAX_PREMATURE_RESETS) {
                closing = true;
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM,
                                Unpooled.copiedBuffer(DEBUG_DATA, StandardCharsets.US_ASCII)))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** The codec passes a reset before it closes the stream, so the stream is still there to ask. */
    private boolean isPremature(Http2ResetFrame reset) {
        Http2Stream stream = reset.stream() == null ? null : connection.stream(reset.stream().id());
        Long opened = stream == null ? null : stream.getProperty(openedAt);
        return opened == null || nanoTime.getAsLong() - opened < PREMATURE_NANOS;
    }
}
