package dev.fulcrum.server.admin;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps the admin connections open at once ({@link AdminLimits#maxConnections()}): the one past the
 * cap is answered 503 and closed at once, before anything it sends is read, so a flood of
 * connections costs a bounded number of sockets and buffers. Events streams count: each is an
 * open connection. Sharable (one per admin server) and thread-safe.
 */
@ChannelHandler.Sharable
final class ConnectionLimit extends ChannelInboundHandlerAdapter {

    private final int max;
    private final AtomicInteger open = new AtomicInteger();

    ConnectionLimit(int max) {
        this.max = max;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.channel().closeFuture().addListener(f -> open.decrementAndGet());
        if (open.incrementAndGet() > max) {
            ctx.channel().config().setAutoRead(false);
            // from the tail, so the HTTP encoder behind this handler writes it
            ctx.channel().writeAndFlush(ErrorResponse.of(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "too many admin connections (" + max + " open); try again later", true))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireChannelActive();
    }

    /** Connections open now. */
    int open() {
        return open.get();
    }
}
