package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.ResponseDecoder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.handler.ssl.SslHandler;

/**
 * Relays the rest of a large Content-Length response body from the server connection to the
 * client with {@code splice(2)}: socket to pipe to socket in the kernel, never through a Java
 * buffer — what HAProxy's {@code option splice-response} does. Only where Netty can (both
 * channels epoll sockets of one event loop) and where the bytes are the same on both sides (no
 * TLS on either, the client gets the same Content-Length).
 *
 * <p>Off unless {@code -Dfulcrum.splice=true}: measured here (loopback, kernel 6.18, 1 MiB
 * responses from nginx), splicing cost 0.59 ms of CPU per MiB against 0.32 copied on epoll and 0.35
 * on io_uring — the kernel sends the pipe's pages as many small segments (more packets, more
 * softirq work) where a copy goes out in 64 KiB ones, and each piece toggles the server
 * connection's epoll interest. It may pay on a NIC with segmentation offload; measure first
 * ({@code bench/run.sh -T "fulcrum fulcrum-splice"}).
 *
 * <p>The body goes in pieces of at most {@value #PIECE} bytes: after each, the client connection
 * counts as active (its idle timer) and its bytes are counted. The decoder and the writer are told
 * of each piece. The last {@value #TAIL} bytes are not spliced but read as usual, so that the
 * response ends where every response ends: its decoder sees the end of the body, and whatever
 * the server sent past it.
 *
 * <p>While a splice runs the server connection reads by itself ({@code autoRead}): Netty stops
 * splicing when the client stops taking bytes and starts again once it took them. It keeps
 * reading so until it closes — a server connection that spliced is not reused: once a channel has
 * spliced, Netty's epoll read loop drops a {@code read()} asked for from inside it when
 * {@code autoRead} is off (4.2.18), and reading on request is how a pooled connection is driven.
 * One connection per large body costs little next to the body.
 *
 * <p>Confined to the event loop of the two channels.
 */
final class BodySplice implements ChannelFutureListener {

    /** Below this, copying through a buffer costs less than setting a splice up. */
    static final long MIN_BYTES = 64 * 1024;
    /** The end of the body that goes through the decoder (see above). */
    static final long TAIL = 4096;
    /** The most spliced before the client connection counts as active again. */
    static final int PIECE = 256 * 1024;

    /** Whether {@code -Dfulcrum.splice=true}: read once per listener (see {@link HttpListener#splices()}). */
    static boolean enabled() {
        return Boolean.getBoolean("fulcrum.splice");
    }

    /** What the exchange hears of a splice. */
    interface Listener {
        /** {@code bytes} more reached the client. */
        void spliced(int bytes);

        /** All but the last {@link #TAIL} bytes reached the client; the rest comes as body parts, then the end. */
        void splicedAll();

        /** The splice broke off (either side closed or failed). */
        void spliceFailed(Throwable cause);
    }

    private final AbstractEpollStreamChannel server;
    private final AbstractEpollStreamChannel client;
    private final ResponseDecoder decoder;
    private final MessageWriter writer;
    private final Listener listener;
    private long left;
    private int piece;

    private BodySplice(AbstractEpollStreamChannel server, AbstractEpollStreamChannel client, ResponseDecoder decoder,
                       MessageWriter writer, long bytes, Listener listener) {
        this.server = server;
        this.client = client;
        this.decoder = decoder;
        this.writer = writer;
        this.left = bytes;
        this.listener = listener;
    }

    /**
     * Starts splicing the rest of the response body being decoded on {@code server} to
     * {@code client}, except its last {@link #TAIL} bytes, when that is possible and worth it: at
     * the end of a read (nothing of the body buffered), with at least {@link #MIN_BYTES} to splice. Returns the running splice,
     * or null when the body goes on through buffers. What was written to the client before goes
     * out first.
     */
    static BodySplice startIfWorth(Channel server, ResponseDecoder decoder, Channel client, MessageWriter writer,
                                   Listener listener) {
        long rest = decoder.bodyRemaining() - TAIL;
        if (rest < MIN_BYTES || !writer.awaitsLengthBody(rest + TAIL)
                || !(server instanceof AbstractEpollStreamChannel from)
                || !(client instanceof AbstractEpollStreamChannel to)
                || server.eventLoop() != client.eventLoop()
                || server.pipeline().get(SslHandler.class) != null || client.pipeline().get(SslHandler.class) != null) {
            return null;
        }
        BodySplice splice = new BodySplice(from, to, decoder, writer, rest, listener);
        server.config().setAutoRead(true);
        splice.next();
        return splice;
    }

    private void next() {
        piece = (int) Math.min(left, PIECE);
        decoder.bodySpliced(piece);
        writer.bodyWrittenElsewhere(piece);
        server.spliceTo(client, piece, server.newPromise()).addListener(this);
    }

    @Override
    public void operationComplete(ChannelFuture f) {
        if (!f.isSuccess()) {
            listener.spliceFailed(f.cause());
            return;
        }
        left -= piece;
        listener.spliced(piece);
        if (left > 0) {
            next();
        } else {
            listener.splicedAll();
        }
    }
}
