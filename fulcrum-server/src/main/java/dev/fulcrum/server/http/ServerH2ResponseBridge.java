package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.ResponseDecoder;
import dev.fulcrum.server.http.message.MessageFailure;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The first handler of a server stream's pipeline: turns the response's HTTP/2 frames into the
 * HTTP/1.1 bytes the stream's {@link ResponseDecoder} reads, so that an exchange on a stream sees
 * what it sees on an HTTP/1.1 connection. Every byte from the server is hostile: what HTTP/1.1
 * could not carry, or carries ambiguously, fails the response with a {@link MessageFailure} (502,
 * or a broken-off response) and resets the stream.
 *
 * <p>Translation: the HEADERS with {@code :status} becomes a status line and fields (1xx heads
 * pass, 101 is refused: HTTP/2 has none); its framing is Fulcrum's: {@code Transfer-Encoding:
 * chunked} when the length is unknown or trailers may follow (a gRPC response, a {@code Trailer}
 * field), so that the trailing HEADERS become the chunked trailer section; else the server's
 * Content-Length, checked against the DATA (more, or END_STREAM before it, fails the response). A
 * HEADERS with END_STREAM and no body (a gRPC trailers-only response) gets {@code Content-Length: 0}
 * and keeps its fields. A response to HEAD, a 204 and a 304 have no body: DATA after them is dropped.
 *
 * <p>Checks beyond Netty's HPACK decoder (which refuses upper-case names, pseudo-headers after
 * fields, and connection-specific fields): {@code :status} is three digits and the only
 * pseudo-header, names are tokens, values have no control characters (CR, LF, NUL...) and no
 * surrounding whitespace, at most one Content-Length, DATA only after the head, trailers only with
 * END_STREAM and without pseudo-headers.
 *
 * <p>The server's RST_STREAM and GOAWAY reach the stream as user events: REFUSED_STREAM, and a
 * GOAWAY (Netty passes it only to streams above its last-stream-id), mean that the server did not
 * process the request; {@link BackendHandler#serverEnded} records it before the stream closes, so
 * that the exchange may retry any request on another connection. One per stream, confined to its
 * event loop.
 */
final class ServerH2ResponseBridge extends ChannelInboundHandlerAdapter {

    /** Where the stream's response is. */
    private enum State { AWAITING_HEAD, BODY, DONE }

    private static final byte[] HTTP_1_1 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n'};
    private static final AsciiString STATUS = Http2Headers.PseudoHeaderName.STATUS.value();

    private State state = State.AWAITING_HEAD;
    private boolean headRequest;
    /** The body goes on chunked (else by its Content-Length). */
    private boolean chunked;
    /** The response has no body (HEAD, 204, 304): DATA is dropped. */
    private boolean noBody;
    /** Body bytes the Content-Length still promises. */
    private long remaining;

    /** The request on this stream went out; {@code head} for a HEAD request (its response has no body). */
    void expect(boolean head) {
        headRequest = head;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case Http2HeadersFrame f -> onHeaders(ctx, f.headers(), f.isEndStream());
                case Http2DataFrame d -> onData(ctx, d.content(), d.isEndStream());
                default -> { } // no other frame concerns the response
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2Headers headers, boolean endStream) {
        switch (state) {
            case AWAITING_HEAD -> onHead(ctx, headers, endStream);
            case BODY -> onTrailers(ctx, headers, endStream);
            case DONE -> { }
        }
    }

    private void onHead(ChannelHandlerContext ctx, Http2Headers headers, boolean endStream) {
        int status = status(headers.status());
        if (status < 0) {
            fail(ctx, "sent an invalid response (:status " + quote(headers.status()) + ")");
            return;
        }
        String bad = checkFields(headers, true);
        if (bad != null) {
            fail(ctx, "sent an invalid response (" + bad + ")");
            return;
        }
        List<CharSequence> lengths = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
        long declared = lengths.isEmpty() ? -1 : length(lengths);
        if (declared == -2) {
            fail(ctx, "sent an invalid response (content-length " + quote(String.join(", ", lengths)) + ")");
            return;
        }
        if (status == 101) {
            fail(ctx, "sent an invalid response (101 Switching Protocols over HTTP/2)");
            return;
        }
        ByteBuf out = ctx.alloc().buffer(256);
        out.writeBytes(HTTP_1_1);
        out.writeCharSequence(HttpResponseStatus.valueOf(status).codeAsText(), StandardCharsets.US_ASCII);
        out.writeByte(' ');
        out.writeCharSequence(HttpResponseStatus.valueOf(status).reasonPhrase(), StandardCharsets.US_ASCII);
        out.writeBytes(CRLF);
        for (Map.Entry<CharSequence, CharSequence> field : headers) {
            CharSequence name = field.getKey();
            if (name.charAt(0) != ':' && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                Http2Fields.writeLine(out, name, field.getValue());
            }
        }
        if (status < 200) {
            if (endStream) {
                out.release();
                fail(ctx, "sent an invalid response (an interim " + status + " ended the stream)");
                return;
            }
            ctx.fireChannelRead(out.writeBytes(CRLF)); // the final head follows
            return;
        }
        noBody = headRequest || status == 204 || status == 304;
        if (noBody) {
            if (declared >= 0) {
                Http2Fields.writeLine(out, HttpHeaderNames.CONTENT_LENGTH, Long.toString(declared)); // what a GET would get
            }
        } else if (endStream) {
            if (declared > 0) {
                out.release();
                fail(ctx, "broke off the response (the stream ended before its content-length " + declared + ")");
                return;
            }
            Http2Fields.writeLine(out, HttpHeaderNames.CONTENT_LENGTH, "0");
        } else {
            chunked = declared < 0 || ServerH2RequestWriter.isGrpc(headers.get(HttpHeaderNames.CONTENT_TYPE))
                    || headers.contains(HttpHeaderNames.TRAILER);
            if (chunked) {
                Http2Fields.writeLine(out, HttpHeaderNames.TRANSFER_ENCODING, "chunked");
            } else {
                remaining = declared;
                Http2Fields.writeLine(out, HttpHeaderNames.CONTENT_LENGTH, Long.toString(declared));
            }
        }
        state = endStream ? State.DONE : State.BODY;
        ctx.fireChannelRead(out.writeBytes(CRLF));
    }

    private void onData(ChannelHandlerContext ctx, ByteBuf data, boolean endStream) {
        if (state == State.AWAITING_HEAD) {
            fail(ctx, "sent an invalid response (DATA before the response head)");
            return;
        }
        if (state == State.DONE) {
            return;
        }
        int n = data.readableBytes();
        if (noBody) {
            state = endStream ? State.DONE : state;
            return; // a body where none may be: dropped, as an HTTP/1.1 decoder would not read it
        }
        if (chunked) {
            if (n > 0) {
                ByteBuf size = ctx.alloc().buffer(10);
                size.writeCharSequence(Integer.toHexString(n), StandardCharsets.US_ASCII);
                size.writeBytes(CRLF);
                ctx.fireChannelRead(size);
                ctx.fireChannelRead(data.retainedSlice());
                ctx.fireChannelRead(ctx.alloc().buffer(2).writeBytes(CRLF));
            }
        } else {
            if (n > remaining) {
                fail(ctx, "broke off the response (more body than its content-length)");
                return;
            }
            remaining -= n;
            if (n > 0) {
                ctx.fireChannelRead(data.retainedSlice());
            }
        }
        if (endStream) {
            end(ctx, null);
        }
    }

    private void onTrailers(ChannelHandlerContext ctx, Http2Headers trailers, boolean endStream) {
        if (!endStream) {
            fail(ctx, "broke off the response (HEADERS in the middle of the body)");
            return;
        }
        String bad = checkFields(trailers, false);
        if (bad != null) {
            fail(ctx, "broke off the response (trailers: " + bad + ")");
            return;
        }
        if (noBody) {
            state = State.DONE;
            return;
        }
        end(ctx, trailers);
    }

    /** The response's end: the last chunk and trailer section, or the check that the length was met. */
    private void end(ChannelHandlerContext ctx, Http2Headers trailers) {
        if (!chunked) {
            if (remaining != 0) {
                fail(ctx, "broke off the response (the stream ended " + remaining + " bytes before its content-length)");
                return;
            }
            state = State.DONE; // trailers of a response with a length have nowhere to go
            return;
        }
        ByteBuf out = ctx.alloc().buffer(trailers == null ? 5 : 256);
        out.writeBytes(LAST_CHUNK);
        if (trailers != null) {
            for (Map.Entry<CharSequence, CharSequence> field : trailers) {
                Http2Fields.writeLine(out, field.getKey(), field.getValue());
            }
        }
        state = State.DONE;
        ctx.fireChannelRead(out.writeBytes(CRLF));
    }

    /** The response cannot be passed on: the exchange hears why, and the stream is reset. */
    private void fail(ChannelHandlerContext ctx, String reason) {
        state = State.DONE;
        ctx.fireChannelRead(new MessageFailure(502, reason));
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        BackendHandler backend = ctx.pipeline().get(BackendHandler.class);
        switch (evt) {
            case Http2ResetFrame reset -> {
                Http2Error error = Http2Error.valueOf(reset.errorCode());
                String name = error == null ? "error " + reset.errorCode() : error.name();
                if (backend != null) {
                    backend.serverEnded("reset the stream (" + name + ")", error == Http2Error.REFUSED_STREAM);
                    backend.serverReset(error);
                }
            }
            case Http2GoAwayFrame goAway -> {
                if (backend != null) {
                    backend.serverEnded("went away (GOAWAY) before processing the request", true);
                }
                goAway.release();
            }
            default -> ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        BackendHandler backend = ctx.pipeline().get(BackendHandler.class);
        if (cause instanceof Http2Exception && backend != null) {
            // what Netty's codec refused in this stream's frames (a bad header block, content-length vs DATA...)
            backend.serverEnded("sent an invalid response (" + ErrorResponses.oneLine(String.valueOf(cause.getMessage()))
                    + ")", false);
        }
        ctx.fireExceptionCaught(cause);
    }

    /** {@code :status} as a number when it is exactly three digits from 100, else -1. */
    static int status(CharSequence s) {
        if (s == null || s.length() != 3) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + c - '0';
        }
        return v >= 100 ? v : -1;
    }

    /** One Content-Length from all the fields (equal ones allowed, RFC 9110 8.6), or -2 when invalid. */
    private static long length(List<CharSequence> values) {
        long result = -1;
        for (CharSequence v : values) {
            if (v.isEmpty() || v.length() > 18) {
                return -2;
            }
            long n = 0;
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < '0' || c > '9') {
                    return -2;
                }
                n = n * 10 + c - '0';
            }
            if (result >= 0 && n != result) {
                return -2;
            }
            result = n;
        }
        return result;
    }

    /**
     * Null when every field may go into an HTTP/1.1 head, else what is wrong. Pseudo-headers: only
     * {@code :status} and only in a head ({@code head}).
     */
    private static String checkFields(Http2Headers headers, boolean head) {
        for (Map.Entry<CharSequence, CharSequence> field : headers) {
            CharSequence name = field.getKey();
            if (name.isEmpty()) {
                return "an empty field name";
            }
            if (name.charAt(0) == ':') {
                if (!head || !STATUS.contentEquals(name)) {
                    return "pseudo-header " + quote(name);
                }
                continue;
            }
            for (int i = 0; i < name.length(); i++) {
                if (!isTokenChar(name.charAt(i))) {
                    return "field name " + quote(name);
                }
            }
            CharSequence value = field.getValue();
            if (Http2Fields.hasBlankAtAnEnd(value)) {
                return "whitespace around the value of " + quote(name);
            }
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                    return "a control character in the value of " + quote(name);
                }
            }
        }
        return null;
    }

    /** RFC 9110 5.6.2 tchar. */
    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /** A server's text in an error line: quoted, cut, control characters escaped. */
    private static String quote(CharSequence s) {
        return s == null ? "missing" : "\"" + ErrorResponses.oneLine(s.length() > 40 ? s.subSequence(0, 40) + "..." : s.toString()) + "\"";
    }
}
