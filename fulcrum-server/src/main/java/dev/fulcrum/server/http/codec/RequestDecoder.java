package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * Decodes a client connection's bytes into requests as bytes with an index (STYLE.md principle
 * 15): per request one {@link MessageHead}, its body as retained {@code ByteBuf} slices (framing
 * removed), one {@link dev.fulcrum.server.http.message.MessageEnd}; or, once and last, a
 * {@link MessageFailure} whose status (400, 405, 431) and one-line reason Fulcrum answers with
 * before it closes. After a failure every byte is discarded, so a request hidden behind an
 * ambiguous one is never emitted.
 *
 * <p>Strict (RFC 9112, no request smuggling): one pass over the head checks its grammar
 * ({@link HeadParser}: exact request line, no obsolete folding, no bare CR or LF, no whitespace
 * before a colon, at most {@code maxHeaderBytes}, else 431 "request head larger than N bytes");
 * the rules run on the index ({@link RequestHeadRules#check(MessageHead)}: CONNECT is 405, target
 * forms, one valid Host, Content-Length and Transfer-Encoding never together, one Content-Length,
 * only {@code chunked} once, no Transfer-Encoding in HTTP/1.0); the body is framed by
 * Content-Length or chunked ({@link MessageDecoder}'s strict chunk parser; trailers bounded by the
 * same limit, "trailers larger than N bytes" 431), a request with neither has none. Empty lines
 * before a request are skipped (RFC 9112 §2.2). A close before the body ended gives "connection
 * closed before the request ended"; a close in the middle of a head gives nothing (nobody is
 * left to answer). Each failure text names the rule broken, one
 * line (the tests pin them: {@code FramingCase}).
 *
 * <p>An upgrade: the decoder returns after each message's end, so a handler that removes it on
 * that end gets the bytes that follow from {@code ByteToMessageDecoder} untouched.
 *
 * <p>One per connection, confined to its event loop.
 */
public final class RequestDecoder extends MessageDecoder {

    /**
     * True when bytes of a request head that is not complete yet were received: between requests,
     * the head timeout runs from then on, and a connection with such bytes is not idle.
     */
    public boolean headStarted() {
        return !inMessage() && !failed() && (parserStarted() || actualReadableBytes() > 0);
    }

    /** Told the size of every buffer read from the client, before decoding (see {@link HttpCodecs#requestDecoder}). */
    private final LongConsumer bytesRead;

    /**
     * @param maxHeaderBytes the largest request head (request line, fields, blank line) and trailer section
     * @param bytesRead      told the size of every buffer the connection reads
     */
    RequestDecoder(int maxHeaderBytes, LongConsumer bytesRead) {
        super(maxHeaderBytes, MessageHead.Kind.REQUEST);
        this.bytesRead = bytesRead;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf bytes) {
            bytesRead.accept(bytes.readableBytes()); // what came, whether it decodes or is discarded after a failure
        }
        super.channelRead(ctx, msg);
    }

    /**
     * Takes the bytes received and not decoded (after an upgrade: the first bytes of the tunnel,
     * counted already), so that removing the decoder hands nothing on; the caller releases them.
     */
    public ByteBuf takeUndecoded() {
        ByteBuf held = internalBuffer();
        return held.readRetainedSlice(held.readableBytes());
    }

    @Override
    long frame(MessageHead head) {
        try {
            return RequestHeadRules.check(head);
        } catch (BadRequestException e) {
            return refuse(e.status(), e.getMessage());
        }
    }

    /** Skips empty lines before a request; a CR not followed by LF there is refused. */
    @Override
    boolean beforeHead(ByteBuf in, List<Object> out) {
        if (parserStarted()) {
            return true;
        }
        while (in.isReadable() && in.getByte(in.readerIndex()) == '\r') {
            if (in.readableBytes() < 2) {
                return false;
            }
            if (in.getByte(in.readerIndex() + 1) != '\n') {
                in.skipBytes(1);
                failHead(in, out, 400, "CR not followed by LF");
                return false;
            }
            in.skipBytes(2);
        }
        return in.isReadable();
    }

    @Override
    MessageFailure headFailure(int status, String detail) {
        return new MessageFailure(status, detail);
    }

    @Override
    MessageFailure bodyFailure(int status, String detail) {
        return new MessageFailure(status, detail);
    }

    @Override
    String closedInBody() {
        return "connection closed before the request ended";
    }

    @Override
    MessageFailure closedInHead(int scanned) {
        return null;
    }
}
