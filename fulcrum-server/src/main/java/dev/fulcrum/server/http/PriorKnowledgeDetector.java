package dev.fulcrum.server.http;

import dev.fulcrum.server.net.ListenerConnections;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * A plain-text listener with http2 on: reads the first bytes of a connection and, when they are
 * the HTTP/2 connection preface ({@code PRI * HTTP/2.0...}, "prior knowledge", RFC 9113 §3.3),
 * makes it an HTTP/2 connection, otherwise an HTTP/1.1 one; then passes the bytes read on and
 * removes itself. It decides at the first byte that differs from the preface, so an HTTP/1.1
 * request waits for at most its first few bytes. A client that sends less than that for
 * {@code request-header-timeout} is closed (the HTTP/1.1 head timeout would have closed it too).
 *
 * <p>One per connection, confined to its event loop.
 */
final class PriorKnowledgeDetector extends ChannelInboundHandlerAdapter {

    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final HttpProxyInitializer pipelines;
    private final long timeoutNanos;
    private ByteBuf seen;
    private ScheduledFuture<?> timeout;

    PriorKnowledgeDetector(HttpProxyInitializer pipelines, long timeoutNanos) {
        this.pipelines = pipelines;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // held back: the handlers of the protocol chosen get it once they are there
        timeout = ctx.executor().schedule(() -> ctx.close(), timeoutNanos, TimeUnit.NANOSECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (seen == null) {
            seen = in;
        } else {
            seen = ctx.alloc().compositeBuffer().addComponents(true, seen, in);
        }
        int n = Math.min(seen.readableBytes(), PREFACE.readableBytes());
        boolean prefix = samePrefix(seen, PREFACE, n);
        if (!prefix) {
            decide(ctx, false);
        } else if (n == PREFACE.readableBytes()) {
            decide(ctx, true);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.read(); // not decided yet (once decided, this handler is gone): read on
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ListenerConnections.GRACEFUL_CLOSE) {
            ctx.close(); // no request yet: nothing to finish
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    private void decide(ChannelHandlerContext ctx, boolean http2) {
        timeout.cancel(false);
        if (http2) {
            pipelines.addHttp2(ctx.pipeline());
        } else {
            pipelines.addHttp1(ctx.pipeline());
        }
        ByteBuf bytes = seen;
        seen = null;
        // gone before the events pass: the read's own channelReadComplete then reaches the new handlers
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
        ctx.fireChannelRead(bytes);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        if (timeout != null) {
            timeout.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (seen != null) {
            seen.release();
            seen = null;
        }
    }

    /** True when the first {@code n} readable bytes of {@code a} and {@code b} are the same. */
    private static boolean samePrefix(ByteBuf a, ByteBuf b, int n) {
        for (int i = 0; i < n; i++) {
            if (a.getByte(a.readerIndex() + i) != b.getByte(b.readerIndex() + i)) {
                return false;
            }
        }
        return true;
    }
}
