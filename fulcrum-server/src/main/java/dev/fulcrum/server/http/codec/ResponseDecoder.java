package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.util.List;

/**
 * Decodes a pooled server connection's responses into the same events as {@link RequestDecoder}:
 * per response one {@link MessageHead}, body parts, one {@link dev.fulcrum.server.http.message.MessageEnd}
 * (a 1xx head is followed by its end and then by the next head); or, once and last, a
 * {@link MessageFailure} with status 502 and the reason "sent an invalid response (DETAIL)" when
 * a head is wrong (its syntax, its framing fields, a close in the middle of it, more than
 * {@value #MAX_HEAD_BYTES} bytes) or "broke off the response (DETAIL)" when the body is (chunk
 * framing, trailers, a close before a Content-Length or chunked body ended).
 *
 * <p>Status line {@code HTTP/1.(0|1) SP 3DIGIT [ SP reason ] CRLF}, status 100 to 999; fields as
 * in a request ({@link HeadParser}). Framing by RFC 9112 §6.3: the answer to HEAD
 * ({@link #expect expect(true)}), 1xx, 204 and 304 have no body; Content-Length with
 * Transfer-Encoding, more than one Content-Length, an invalid one, or a coding other than
 * {@code chunked} once are refused ({@link FramingFields}, whatever the status); then chunked,
 * Content-Length, or else the body lasts until the server closes ({@link #closeDelimited()}), and
 * ends in {@code decodeLast}. A 101 ends HTTP on the connection: after its head and end nothing is
 * decoded; the bytes stay for the handler that replaces this one.
 *
 * <p>Connection reuse, as {@code ServerResponseDecoder} had it: a connection goes back to the pool
 * only when its bytes were framed exactly, since a byte left over would be read as the start of
 * the next client's response. {@link #reusable()} after an end is true only when no byte is left;
 * while the connection idles, any byte from the server closes it. It idles from its start, after
 * {@link #idle()}, and — unlike {@code ServerResponseDecoder} — by itself after the end of each
 * final (non-1xx) response, until the next {@link #expect}: bytes after a response are never
 * decoded as another response nobody asked for.
 *
 * <p>One per server connection, confined to its event loop.
 */
public final class ResponseDecoder extends MessageDecoder {

    /** The largest response head, and trailer section, accepted from a server. */
    public static final int MAX_HEAD_BYTES = 64 * 1024;

    private boolean expecting;
    private boolean headRequest;
    private boolean closeDelimited;
    /** The last head was a 1xx: the final one is still to come. */
    private boolean informational;

    ResponseDecoder() {
        super(MAX_HEAD_BYTES, MessageHead.Kind.RESPONSE);
    }

    /** A request was sent: its response is expected; {@code head} when it was a HEAD request. */
    public void expect(boolean head) {
        expecting = true;
        headRequest = head;
    }

    /** The connection idles in the pool: the server has nothing to say until the next request. */
    public void idle() {
        expecting = false;
    }

    /**
     * After a response's {@code MessageEnd}: true when the connection may carry another request —
     * no byte is left over, the body was not delimited by the close, nothing failed.
     */
    public boolean reusable() {
        return !inMessage() && !failed() && !switched() && !closeDelimited && actualReadableBytes() == 0;
    }

    /** True when the last response's body lasts until the server closes (no Content-Length, not chunked). */
    public boolean closeDelimited() {
        return closeDelimited;
    }

    @Override
    boolean accept(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!expecting && in.isReadable()) {
            in.skipBytes(in.readableBytes());
            ctx.close(); // bytes nobody asked for: the connection's framing can no longer be trusted
            return false;
        }
        return true;
    }

    @Override
    long frame(MessageHead head) {
        int status = head.status();
        if (status < 100) {
            return refuse(502, "status " + status + " is below 100");
        }
        String framing = FramingFields.check(head);
        if (framing != null) {
            return refuse(502, framing);
        }
        closeDelimited = false;
        informational = status < 200;
        if (informational) {
            return status == 101 ? SWITCHED : NO_BODY;
        }
        if (headRequest || status == 204 || status == 304) {
            return NO_BODY;
        }
        if (head.isChunked()) {
            return CHUNKED;
        }
        if (head.contentLength() >= 0) {
            return head.contentLength();
        }
        closeDelimited = true;
        return UNTIL_CLOSE;
    }

    /** After a final response, the decoder idles until the next {@link #expect}; after a 1xx the final head follows. */
    @Override
    void ended() {
        if (!informational) {
            expecting = false;
        }
    }

    @Override
    MessageFailure headFailure(int status, String detail) {
        return new MessageFailure(502, "sent an invalid response (" + detail + ")");
    }

    @Override
    MessageFailure bodyFailure(int status, String detail) {
        return new MessageFailure(502, "broke off the response (" + detail + ")");
    }

    @Override
    String closedInBody() {
        return "connection closed before the body ended";
    }

    @Override
    MessageFailure closedInHead(int scanned) {
        return headFailure(502, "connection closed after " + scanned + " bytes of a head");
    }
}
