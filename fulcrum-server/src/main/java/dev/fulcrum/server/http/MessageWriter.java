package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import dev.fulcrum.server.net.ByteCounter;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.ChannelPromise;

import java.util.function.LongConsumer;

/**
 * Puts HTTP/1.1 messages on the wire from a {@link MessageHead}, the body parts and the
 * {@link MessageEnd} a decoder emits, framing the body for the next hop as the head declares it —
 * what Netty's {@code HttpRequestEncoder} and {@code HttpResponseEncoder} do for objects, with
 * the fewest copies: the head is written once into one pooled buffer sized by
 * {@link MessageHead#encodedLengthBound()}, and a body part is written as itself, never copied
 * (chunked framing adds a small pooled size line before it and a CRLF after it).
 *
 * <p>The framing is read from the head as written (after {@code ForwardedHeaders.toServer} or
 * {@code toClient} rewrote it), so the next hop and this writer cannot disagree:
 * <ul>
 * <li>{@link Framing#NONE} for a response to HEAD, a 1xx, a 204 or a 304 (whatever they declare),
 *     and for a request declaring neither chunked nor a Content-Length above 0: body parts that
 *     still come are released unwritten, and the end writes nothing;</li>
 * <li>{@link Framing#LENGTH} for a Content-Length: parts are written as they are, bytes past the
 *     declared length are cut off (a server or client cannot make the next hop read a second
 *     message out of a body);</li>
 * <li>{@link Framing#CHUNKED} for {@code Transfer-Encoding: chunked}: each non-empty part is
 *     {@code hex-size CRLF data CRLF}, the end is {@code 0 CRLF}, the trailer fields that may be
 *     trailers ({@code ForwardedHeaders.filterTrailers}, applied here) and {@code CRLF}, written
 *     exactly once;</li>
 * <li>{@link Framing#CLOSE} for a response with neither (an HTTP/1.0 client of a response of
 *     unknown length): parts are written as they are, and the caller closes after the end.</li>
 * </ul>
 * Trailers of a message not framed as chunked are dropped (there is nowhere to put them).
 *
 * <p>Futures: every write method takes the promise to complete and returns it. Only the last buffer
 * a call writes carries it; the ones before it (a chunk's size line and data) carry the channel's
 * void promise, so a write costs no promise or listener where nothing awaits it — pass
 * {@link #voidPromise()} for those, and {@code channel.newPromise()} where the caller waits (the
 * last write before a flush, to read the other side again once it is written; the last write
 * before closing). Writes complete in order, so the returned future completing means everything
 * the call wrote is written. A write with a void promise that fails fires {@code exceptionCaught}
 * (Netty's void promise); the promised write after it fails too. A call that writes nothing (a
 * dropped part, the end of a message not chunked) still completes the promise in order, after the
 * writes before it, by writing an empty buffer with it — unless it is the void promise.
 *
 * <p>Ownership: a body part passed in is the writer's (written, or released when dropped). Writes
 * are not flushed: the caller flushes. One writer per connection direction, reused for every
 * message on it, confined to the channel's event loop; no allocation per message beyond the
 * pooled buffers.
 */
final class MessageWriter implements RequestWriter {

    /** How the body of the message being written is framed on the wire. */
    enum Framing { NONE, LENGTH, CHUNKED, CLOSE }

    private static final short CRLF_SHORT = ('\r' << 8) | '\n';
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n'};
    /** {@link #writeHead}'s {@code responseMinor} for a request head. */
    private static final int REQUEST = -1;

    private final ChannelOutboundInvoker out;
    private final ByteBufAllocator alloc;
    private final ChannelPromise voidPromise;
    /**
     * Told the size of every buffer written, as it is written (a plain-text client connection's
     * wire bytes, {@code fulcrum_bytes_total}); not of the body bytes that went by splice.
     */
    private final LongConsumer counted;

    /** The framing of the message being written, or null between messages (its end was written). */
    private Framing framing;
    /** For {@link Framing#LENGTH}: body bytes still to write. */
    private long remaining;
    /** Every byte written so far (framing included, spliced bytes too): a request's bytes out are the difference. */
    private long bytesWritten;

    /** A writer that writes through the whole pipeline of {@code channel} (as {@code channel.write}). */
    MessageWriter(Channel channel) {
        this(channel, channel.alloc(), channel.voidPromise(), ByteCounter.NOT_COUNTED);
    }

    /** A writer that writes from the handler of {@code ctx} towards the socket (as {@code ctx.write}). */
    MessageWriter(ChannelHandlerContext ctx) {
        this(ctx, ByteCounter.NOT_COUNTED);
    }

    /** As {@link #MessageWriter(ChannelHandlerContext)}, telling {@code counted} the size of every buffer it writes. */
    MessageWriter(ChannelHandlerContext ctx, LongConsumer counted) {
        this(ctx, ctx.alloc(), ctx.voidPromise(), counted);
    }

    private MessageWriter(ChannelOutboundInvoker out, ByteBufAllocator alloc, ChannelPromise voidPromise,
                          LongConsumer counted) {
        this.out = out;
        this.alloc = alloc;
        this.voidPromise = voidPromise;
        this.counted = counted;
    }

    /** The channel's void promise, for writes nothing waits for. */
    ChannelPromise voidPromise() {
        return voidPromise;
    }

    /** Bytes this writer wrote so far, framing included, and the bytes of its body that went by splice. */
    long bytesWritten() {
        return bytesWritten;
    }

    /** The framing of the message being written, or null when none is (before a head, after an end). */
    Framing framing() {
        return framing;
    }

    /**
     * Writes a request head as HTTP/1.1 and starts its body: chunked when it declares
     * {@code Transfer-Encoding: chunked}, by length when it declares a Content-Length above 0,
     * otherwise none.
     *
     * @throws IllegalStateException when the previous message was not ended, or the head's
     *     Content-Length is not a number (the decoder lets no such head through)
     */
    @Override
    public ChannelFuture writeRequest(MessageHead request, ChannelPromise promise) {
        checkBetweenMessages();
        Framing f;
        if (ForwardedHeaders.declaresChunked(request)) {
            f = Framing.CHUNKED;
        } else {
            long length = Math.max(0, ForwardedHeaders.declaredLength(request));
            f = length > 0 ? Framing.LENGTH : Framing.NONE;
            remaining = length;
        }
        return writeHead(request, REQUEST, f, promise);
    }

    /**
     * Writes a response head with the status line of HTTP/1.{@code minorVersion} and starts its
     * body. A response to HEAD ({@code answersHead}), a 1xx, 204 or 304 has no body on the wire,
     * whatever it declares and whatever body bytes the server sent: the message ends with its head.
     * Otherwise the body is chunked when the head declares it, by length when it has a
     * Content-Length, else delimited by closing the connection.
     *
     * @throws IllegalStateException when the previous message was not ended, or the head's
     *     Content-Length is not a number
     */
    ChannelFuture writeResponse(MessageHead response, int minorVersion, boolean answersHead, ChannelPromise promise) {
        checkBetweenMessages();
        int status = response.status();
        Framing f;
        if (answersHead || status < 200 || status == 204 || status == 304) {
            f = Framing.NONE;
        } else if (ForwardedHeaders.declaresChunked(response)) {
            f = Framing.CHUNKED;
        } else if (ForwardedHeaders.declaresLength(response)) {
            f = Framing.LENGTH;
            remaining = Math.max(0, ForwardedHeaders.declaredLength(response));
        } else {
            f = Framing.CLOSE;
        }
        return writeHead(response, minorVersion, f, promise);
    }

    /**
     * Writes {@code head} into one pooled buffer — as a request line when {@code responseMinor} is
     * {@link #REQUEST}, else as a status line of HTTP/1.{@code responseMinor} — and starts its body
     * framed as {@code f}.
     */
    private ChannelFuture writeHead(MessageHead head, int responseMinor, Framing f, ChannelPromise promise) {
        ByteBuf buf = alloc.buffer(head.encodedLengthBound());
        try {
            if (responseMinor == REQUEST) {
                head.writeRequest(buf);
            } else {
                head.writeResponse(buf, responseMinor);
            }
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        framing = f == Framing.NONE ? null : f;
        return write(buf, promise);
    }

    /**
     * Writes one body part (framing removed, as a decoder emits it) framed for the next hop, and
     * takes it over. A part of a message without a body, or after its end, is released unwritten;
     * an empty part writes nothing (in chunked framing it would end the body).
     */
    @Override
    public ChannelFuture writeBody(ByteBuf part, ChannelPromise promise) {
        int n = part.readableBytes();
        if (framing == null || n == 0) {
            part.release();
            return nothing(promise);
        }
        switch (framing) {
            case CHUNKED -> {
                write(sizeLine(n), voidPromise);
                write(part, voidPromise);
                return write(alloc.buffer(2).writeShort(CRLF_SHORT), promise);
            }
            case LENGTH -> {
                if (remaining == 0) {
                    part.release();
                    return nothing(promise);
                }
                if (n > remaining) {
                    part.writerIndex(part.readerIndex() + (int) remaining); // the rest would be another message
                    n = (int) remaining;
                }
                remaining -= n;
                return write(part, promise);
            }
            default -> {
                return write(part, promise);
            }
        }
    }

    /** True when the message being written has a Content-Length body with at least {@code n} bytes still to write. */
    boolean awaitsLengthBody(long n) {
        return framing == Framing.LENGTH && remaining >= n;
    }

    /** {@code n} bytes of the Content-Length body went to the socket another way (a splice). */
    void bodyWrittenElsewhere(long n) {
        if (!awaitsLengthBody(n)) {
            throw new IllegalStateException(n + " body bytes written elsewhere, " + remaining + " expected (" + framing + ")");
        }
        remaining -= n;
        bytesWritten += n;
    }

    /**
     * Ends the message: for chunked framing the last chunk, the trailer fields allowed as
     * trailers, and the blank line, in one pooled buffer; nothing on the wire otherwise. A second
     * end, or an end of a message without a body, writes nothing. A Content-Length body ended
     * short (the sender broke off: the decoder reports a failure, not an end) leaves the next hop
     * waiting for the rest: the caller closes that connection, it does not call this.
     */
    @Override
    public ChannelFuture writeEnd(MessageEnd end, ChannelPromise promise) {
        Framing f = framing;
        framing = null;
        if (f != Framing.CHUNKED) {
            return nothing(promise);
        }
        MessageHead trailers = end == null ? null : end.trailers();
        ByteBuf buf;
        if (trailers == null) {
            buf = alloc.buffer(5).writeBytes(LAST_CHUNK).writeShort(CRLF_SHORT);
        } else {
            ForwardedHeaders.filterTrailers(trailers);
            buf = alloc.buffer(LAST_CHUNK.length + trailers.encodedLengthBound()).writeBytes(LAST_CHUNK);
            trailers.writeFields(buf);
        }
        return write(buf, promise);
    }

    /** Every buffer goes out here: counted, then written. */
    private ChannelFuture write(ByteBuf buf, ChannelPromise promise) {
        int n = buf.readableBytes();
        bytesWritten += n;
        counted.accept(n);
        return out.write(buf, promise);
    }

    private ChannelFuture nothing(ChannelPromise promise) {
        return promise.isVoid() ? promise : out.write(Unpooled.EMPTY_BUFFER, promise);
    }

    private void checkBetweenMessages() {
        if (framing != null) {
            throw new IllegalStateException("a head while the previous message's body (" + framing + ") is not ended");
        }
    }

    private ByteBuf sizeLine(int n) {
        int digits = (32 - Integer.numberOfLeadingZeros(n) + 3) / 4;
        ByteBuf b = alloc.buffer(digits + 2);
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
            b.writeByte(HEX[(n >>> shift) & 0xf]);
        }
        return b.writeShort(CRLF_SHORT);
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

}
