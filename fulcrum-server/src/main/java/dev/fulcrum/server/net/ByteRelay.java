package dev.fulcrum.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

import java.util.function.LongConsumer;

/**
 * Relays the bytes one channel receives to a peer channel: one half of a byte tunnel (a TCP
 * listener's session, or a WebSocket / {@code CONNECT} tunnel of the HTTP proxy once the upgrade is
 * done). Install one on each side, each pointing at the other, then call {@code read()} on both.
 *
 * <p>Contract:
 * <ul>
 *   <li>Backpressure: both channels have {@code AUTO_READ} off; this handler asks its channel for
 *       more only when everything it read in the last batch has been written to the peer, so a slow
 *       receiver slows the sender down and neither side buffers more than one read batch.</li>
 *   <li>Half-close: with {@code ALLOW_HALF_CLOSURE} on, the end of this channel's input (the
 *       sender's FIN) becomes a shutdown of the peer's output once the pending bytes are written;
 *       the other direction goes on. When both directions have ended, both channels are closed.
 *       When the peer cannot be half-closed (not a {@link DuplexChannel}, or TLS runs on it), the
 *       end of input closes the peer after its pending writes.</li>
 *   <li>A closed or failed side closes the other after its pending writes (a reset stays a close:
 *       Netty does not expose sending RST).</li>
 *   <li>Messages: {@link ByteBuf}s are relayed as they are; a {@link ByteBufHolder} (what an HTTP
 *       codec still hands on while it is taken out after a protocol switch, such as an empty last
 *       content) is relayed as its bytes, or dropped when it holds none. Anything else is a bug of
 *       the caller's pipeline and ends the tunnel.</li>
 * </ul>
 *
 * <p>The relay asks for no read itself: once both relays are installed, the caller reads each side
 * (or fires the read batch it already holds through the pipeline).
 *
 * <p>Counting ({@code fulcrum_bytes_total}): a plain-text client connection has no
 * {@link ByteCounter} in its pipeline, so its relays count its wire bytes: the client's relay what it
 * reads (a TCP session counts that before its relay), the server's relay what it writes to the client. Where a {@code ByteCounter} counts (TLS:
 * the bytes on the wire are records), the relays count nothing ({@link ByteCounter#NOT_COUNTED}).
 *
 * <p>Not thread-safe: both channels must be on the same event loop (the backend is bootstrapped on
 * the client's loop), so the two relays of a tunnel never race.
 */
public final class ByteRelay extends ChannelInboundHandlerAdapter {

    private final Channel peer;
    /** Told the size of every buffer this channel reads, and of every buffer written to the peer. */
    private final LongConsumer read;
    private final LongConsumer written;
    /** The last write of the current read batch; its completion means the whole batch left. */
    private ChannelFuture lastWrite;
    private ChannelHandlerContext ctx;
    /** Completes each batch's last write: one listener for the tunnel's life, not one per batch. */
    private final ChannelFutureListener batchWritten = this::batchWritten;

    /** @param peer where the bytes this handler's channel receives are written; nothing is counted */
    public ByteRelay(Channel peer) {
        this(peer, ByteCounter.NOT_COUNTED, ByteCounter.NOT_COUNTED);
    }

    /**
     * @param peer    where the bytes this handler's channel receives are written
     * @param read    told the size of every buffer this handler's channel reads
     * @param written told the size of every buffer written to {@code peer}
     */
    public ByteRelay(Channel peer, LongConsumer read, LongConsumer written) {
        this.peer = peer;
        this.read = read;
        this.written = written;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            read.accept(buf.readableBytes()); // as it came off the socket, relayed or not
        }
        ByteBuf bytes = switch (msg) {
            case ByteBuf buf -> buf;
            case ByteBufHolder holder -> {
                ByteBuf content = holder.content().retain();
                holder.release();
                yield content;
            }
            default -> {
                ReferenceCountUtil.release(msg);
                throw new IllegalArgumentException("ByteRelay relays bytes only, got " + msg.getClass().getSimpleName());
            }
        };
        if (!bytes.isReadable()) {
            bytes.release(); // nothing to relay; the batch goes on
            return;
        }
        if (!peer.isActive()) {
            bytes.release();
            ctx.close();
            return;
        }
        written.accept(bytes.readableBytes());
        lastWrite = peer.write(bytes);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ChannelFuture batch = lastWrite;
        lastWrite = null;
        if (batch == null) {
            // nothing forwarded (an empty read); keep reading unless the input is gone
            if (!isInputShutdown(ctx.channel())) {
                ctx.read();
            }
            return;
        }
        peer.flush();
        batch.addListener(batchWritten);
    }

    /** The last read batch reached the peer's socket: read the next one. */
    private void batchWritten(ChannelFuture f) {
        if (f.isSuccess()) {
            if (!isInputShutdown(ctx.channel())) {
                ctx.read();
            }
        } else {
            closeBoth(ctx.channel());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            Channel self = ctx.channel();
            // an empty write queued after the pending data: it completes once they are written
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess() || !(peer instanceof DuplexChannel duplexPeer)
                        || peer.pipeline().get(SslHandler.class) != null) {
                    // no half-close over TLS: a bare FIN would look like a truncation attack;
                    // closing sends close_notify
                    closeBoth(self);
                    return;
                }
                duplexPeer.shutdownOutput().addListener((ChannelFutureListener) s -> {
                    if (!s.isSuccess() || isOutputShutdown(self)) {
                        closeBoth(self); // both directions delivered and ended
                    }
                });
            });
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // connection resets and the like end the tunnel; they are not worth a stack trace
        closeBoth(ctx.channel());
    }

    private void closeBoth(Channel self) {
        self.close();
        peer.close();
    }

    private static boolean isInputShutdown(Channel channel) {
        return channel instanceof DuplexChannel duplex && duplex.isInputShutdown();
    }

    private static boolean isOutputShutdown(Channel channel) {
        return channel instanceof DuplexChannel duplex && duplex.isOutputShutdown();
    }
}
