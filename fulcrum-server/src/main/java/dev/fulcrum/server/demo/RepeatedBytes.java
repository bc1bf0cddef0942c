package dev.fulcrum.server.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.stream.ChunkedInput;

import java.nio.charset.StandardCharsets;

/**
 * The body of {@code GET /bytes?n=N}: exactly N bytes, made on demand in chunks of 64 KiB.
 * Given to Netty's {@link io.netty.handler.stream.ChunkedWriteHandler}, which asks for the next
 * chunk only while the channel is writable, so a 1 GiB answer to a slow client holds at most a
 * few chunks in memory.
 *
 * <p>Not thread-safe: one instance per response, used on its channel's event loop.
 */
final class RepeatedBytes implements ChunkedInput<ByteBuf> {

    static final int CHUNK = 64 * 1024;

    /**
     * One shared chunk, never freed: this class holds its first reference for good, and each
     * response chunk is a retained slice (its release only drops the slice's reference).
     */
    private static final ByteBuf PATTERN;

    static {
        byte[] line = "fulcrum demo bytes\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuf buf = Unpooled.directBuffer(CHUNK, CHUNK);
        while (buf.isWritable()) {
            buf.writeBytes(line, 0, Math.min(line.length, buf.writableBytes()));
        }
        PATTERN = buf;
    }

    private final long length;
    private long sent;

    RepeatedBytes(long length) {
        this.length = length;
    }

    @Override
    public boolean isEndOfInput() {
        return sent >= length;
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) {
        if (isEndOfInput()) {
            return null;
        }
        int n = (int) Math.min(CHUNK, length - sent);
        sent += n;
        return PATTERN.retainedSlice(0, n);
    }

    @Deprecated
    @Override
    public ByteBuf readChunk(io.netty.channel.ChannelHandlerContext ctx) {
        return readChunk(ctx.alloc());
    }

    @Override
    public void close() {
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return sent;
    }
}
