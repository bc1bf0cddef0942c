package dev.fulcrum.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.util.function.LongConsumer;

/**
 * Counts the bytes a client connection reads and writes, first in its pipeline (so TLS records and
 * tunnelled or relayed bytes count too), and hands each count to the listener's counters (HTTP:
 * its {@code ProxyStats}; TCP: its {@code ListenerMetrics}). Shared by all connections of a
 * listener: stateless, thread-safe as long as the two consumers are.
 */
@ChannelHandler.Sharable
public final class ByteCounter extends ChannelDuplexHandler {

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
