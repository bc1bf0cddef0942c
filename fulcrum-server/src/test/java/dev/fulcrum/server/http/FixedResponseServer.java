package dev.fulcrum.server.http;

import dev.fulcrum.server.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP server on 127.0.0.1 for load through the proxy, so cheap that the proxy is what is
 * measured: it answers every request head with the same tiny keep-alive {@code 200} without
 * decoding it, recognising a head by its blank line alone (requests must carry no body). It runs on
 * the event loops of a {@link Transport} it is given, typically the proxy's own single loop: then a
 * request's round trip through it costs no thread wake-up, which on a small machine would cost
 * more than the proxy. Counts the connections it accepted and the heads it answered. Thread-safe.
 */
final class FixedResponseServer implements AutoCloseable {

    private static final byte[] RESPONSE =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BLANK_LINE = {'\r', '\n', '\r', '\n'};

    private final Channel serverChannel;
    private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();

    /** Listens on 127.0.0.1:{@code port}, on {@code transport}'s workers (which its owner closes). */
    FixedResponseServer(Transport transport, int port) throws InterruptedException {
        this.serverChannel = new ServerBootstrap().group(transport.workers())
                .channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        children.add(ch);
                        ch.pipeline().addLast(new Answerer());
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
    }

    /** Connections accepted since the start. */
    int connectionsAccepted() {
        return connections.get();
    }

    /** Request heads answered since the start. */
    long requests() {
        return requests.get();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        children.close().syncUninterruptibly();
    }

    /** Writes one response per blank line read (a head may span reads), flushes once per read batch. */
    private final class Answerer extends ChannelInboundHandlerAdapter {
        /** How many bytes of {@link #BLANK_LINE} the bytes read so far end with. */
        private int matched;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                for (int i = in.readerIndex(); i < in.writerIndex(); i++) {
                    byte b = in.getByte(i);
                    matched = b == BLANK_LINE[matched] ? matched + 1 : b == '\r' ? 1 : 0;
                    if (matched == BLANK_LINE.length) {
                        matched = 0;
                        requests.incrementAndGet();
                        ctx.write(Unpooled.wrappedBuffer(RESPONSE));
                    }
                }
            } finally {
                in.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
