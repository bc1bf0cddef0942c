package dev.fulcrum.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.util.function.LongConsumer;

/**
 * Counts the bytes a TLS client connection reads and writes, first in its pipeline (so the TLS
 * records are what counts, and tunnelled or relayed bytes too), and hands each count to the
 * listener's counters (HTTP: its {@code ProxyStats}; TCP: its {@code ListenerMetrics}). Shared by all
 * connections of a listener: stateless, thread-safe as long as the two consumers are.
 *
 * <p>A plain-text connection has no such handler (one handler fewer per connection, two calls
 * fewer per read and write): the bytes on the wire are the bytes its handlers see, so they count
 * them where they read and write — the request decoder, the client's {@code MessageWriter},
 * Fulcrum's own answers, the {@link ByteRelay}s of a tunnel, a TCP session. Those count into
 * {@link #NOT_COUNTED} where this handler counts.
 */
@ChannelHandler.Sharable
public final class ByteCounter extends ChannelDuplexHandler {

    /** Counts nothing: for the handlers of a connection whose bytes this handler counts. */
    public static final LongConsumer NOT_COUNTED = bytes -> { };

    private final LongConsumer read;
    private final LongConsumer written;

    /** @param read told the size of every message read; {@code written}, of every message written */
    public ByteCounter(LongConsumer read, LongConsumer written) {
        this.read = read;
        this.written = written;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        read.accept(size(msg));
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        written.accept(size(msg));
        ctx.write(msg, promise);
    }

    private static long size(Object msg) {
        if (msg instanceof ByteBuf buf) {
            return buf.readableBytes();
        }
        if (msg instanceof ByteBufHolder holder) {
            return holder.content().readableBytes();
        }
        return 0;
    }
}
