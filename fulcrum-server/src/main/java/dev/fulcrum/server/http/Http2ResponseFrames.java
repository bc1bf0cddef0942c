package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.AsciiString;

import java.util.List;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads the HTTP/1.1 response bytes a stream's {@link FrontendHandler} writes (its own output: a
 * status line and fields, a body by Content-Length, chunked or until close, trailers, 1xx interim
 * responses first) and turns them into the stream's HEADERS, DATA and trailing HEADERS frames.
 * Connection-specific fields (RFC 9113 §8.2.2) are dropped; names go lowercase. The last frame of
 * a complete response carries END_STREAM, so closing the stream after it resets nothing.
 *
 * <p>Body bytes become DATA frames as slices of what was written (no copy), except the few that
 * arrive in the same buffer as the head. A head or a trailer section is gathered until complete;
 * it is this listener's own output, bounded by {@link #MAX_HEAD_BYTES}.
 *
 * <p>One per stream, confined to its event loop.
 */
final class Http2ResponseFrames {

    /** Fulcrum's response heads are bounded by the servers' (max-header-bytes) plus what it adds. */
    static final int MAX_HEAD_BYTES = 2 * 1024 * 1024;

    /** {@link Http2Fields#CONNECTION_SPECIFIC}, and {@code te}, which means nothing in a response. */
    private static final Set<AsciiString> NOT_IN_H2 = notInH2();

    private static Set<AsciiString> notInH2() {
        Set<AsciiString> names = new HashSet<>(Http2Fields.CONNECTION_SPECIFIC);
        names.add(HttpHeaderNames.TE);
        return Set.copyOf(names);
    }

    private enum State { HEAD, LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS, UNTIL_CLOSE, DONE }

    private final boolean answersHead;
    private State state = State.HEAD;
    private long remaining;
    /** Bytes of a head, size line or trailer section not complete yet; null when none wait. */
    private ByteBuf cumulation;

    /** @param answersHead the request was HEAD: the response has no body whatever it declares */
    Http2ResponseFrames(boolean answersHead) {
        this.answersHead = answersHead;
    }

    /** True once the frame with END_STREAM was made. */
    boolean complete() {
        return state == State.DONE;
    }

    /** True once the final response's HEADERS were made and its END_STREAM was not: a body is on its way. */
    boolean inBody() {
        return state != State.HEAD && state != State.DONE;
    }

    /** True when the body runs until close: closing ends it (an empty DATA frame with END_STREAM). */
    boolean endsOnClose() {
        return state == State.UNTIL_CLOSE;
    }

    /** The frame that ends a body delimited by closing. */
    Http2StreamFrame endOnClose() {
        state = State.DONE;
        return new DefaultHttp2DataFrame(true);
    }

    /** Takes {@code in} over and adds the frames it completes to {@code out}. */
    void add(ByteBuf in, List<Http2StreamFrame> out) {
        ByteBuf buf = in;
        if (cumulation != null) {
            cumulation.writeBytes(in);
            in.release();
            buf = cumulation;
        }
        try {
            parse(buf, out);
        } finally {
            if (buf != cumulation) {
                if (buf.isReadable() && state != State.DONE) {
                    cumulation = Unpooled.buffer(buf.readableBytes());
                    cumulation.writeBytes(buf);
                }
                buf.release();
            } else if (!cumulation.isReadable() || state == State.DONE) {
                cumulation.release();
                cumulation = null;
            } else {
                cumulation.discardReadBytes();
            }
        }
        if (cumulation != null && cumulation.readableBytes() > MAX_HEAD_BYTES) {
            throw new IllegalStateException("response head or trailers larger than " + MAX_HEAD_BYTES + " bytes");
        }
    }

    /** Releases what waits. */
    void release() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    private void parse(ByteBuf buf, List<Http2StreamFrame> out) {
        while (buf.isReadable()) {
            switch (state) {
                case HEAD -> {
                    int end = indexOf(buf, buf.readerIndex(), true);
                    if (end < 0) {
                        return;
                    }
                    head(buf, end, out);
                }
                case LENGTH -> {
                    int n = (int) Math.min(remaining, buf.readableBytes());
                    remaining -= n;
                    boolean last = remaining == 0;
                    out.add(new DefaultHttp2DataFrame(take(buf, n), last));
                    if (last) {
                        state = State.DONE;
                    }
                }
                case CHUNK_SIZE -> {
                    int end = indexOf(buf, buf.readerIndex(), false);
                    if (end < 0) {
                        return;
                    }
                    long size = chunkSize(buf, end);
                    buf.readerIndex(end + 2);
                    if (size == 0) {
                        state = State.TRAILERS;
                    } else {
                        remaining = size;
                        state = State.CHUNK_DATA;
                    }
                }
                case CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, buf.readableBytes());
                    remaining -= n;
                    out.add(new DefaultHttp2DataFrame(take(buf, n), false));
                    if (remaining == 0) {
                        state = State.CHUNK_CRLF;
                    }
                }
                case CHUNK_CRLF -> {
                    if (buf.readableBytes() < 2) {
                        return;
                    }
                    buf.skipBytes(2);
                    state = State.CHUNK_SIZE;
                }
                case TRAILERS -> {
                    if (buf.readableBytes() < 2) {
                        return;
                    }
                    if (buf.getByte(buf.readerIndex()) == '\r') {
                        buf.skipBytes(2); // no trailer fields
                        out.add(new DefaultHttp2DataFrame(true));
                    } else {
                        int end = indexOf(buf, buf.readerIndex(), true);
                        if (end < 0) {
                            return;
                        }
                        Http2Headers trailers = new DefaultHttp2Headers(false);
                        fields(buf, buf.readerIndex(), end + 2, trailers);
                        buf.readerIndex(end + 4);
                        out.add(trailers.isEmpty() ? new DefaultHttp2DataFrame(true)
                                : new DefaultHttp2HeadersFrame(trailers, true));
                    }
                    state = State.DONE;
                }
                case UNTIL_CLOSE -> out.add(new DefaultHttp2DataFrame(take(buf, buf.readableBytes()), false));
                case DONE -> buf.skipBytes(buf.readableBytes()); // nothing follows a complete response
            }
        }
    }

    /** Parses the head ending at {@code end} (its blank line's CRLF CRLF starts there) and starts the body. */
    private void head(ByteBuf buf, int end, List<Http2StreamFrame> out) {
        int start = buf.readerIndex();
        int lineEnd = indexOf(buf, start, false);
        // "HTTP/1.1 200 Reason": the status is the three digits after the first space
        int status = (buf.getByte(start + 9) - '0') * 100 + (buf.getByte(start + 10) - '0') * 10
                + (buf.getByte(start + 11) - '0');
        Http2Headers headers = new DefaultHttp2Headers(false);
        headers.status(AsciiString.of(Integer.toString(status)));
        fields(buf, lineEnd + 2, end + 2, headers);
        buf.readerIndex(end + 4);
        if (status < 200) {
            out.add(new DefaultHttp2HeadersFrame(headers, false)); // interim: the final head follows
            return;
        }
        boolean chunked = headers.contains(HttpHeaderNames.TRANSFER_ENCODING);
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        CharSequence length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        if (answersHead || status == 204 || status == 304) {
            state = State.DONE;
        } else if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (length != null) {
            remaining = Long.parseLong(length.toString());
            state = remaining == 0 ? State.DONE : State.LENGTH;
        } else {
            state = State.UNTIL_CLOSE;
        }
        out.add(new DefaultHttp2HeadersFrame(headers, state == State.DONE));
    }

    /** Adds the fields of lines from {@code from} to {@code to} (each ending CRLF) to {@code headers}. */
    private static void fields(ByteBuf buf, int from, int to, Http2Headers headers) {
        int i = from;
        while (i < to) {
            int eol = indexOf(buf, i, false);
            int colon = buf.indexOf(i, eol, (byte) ':');
            if (colon > i) {
                AsciiString name = new AsciiString(bytes(buf, i, colon - i), false).toLowerCase();
                int v = colon + 1;
                while (v < eol && (buf.getByte(v) == ' ' || buf.getByte(v) == '\t')) {
                    v++;
                }
                int e = eol;
                while (e > v && (buf.getByte(e - 1) == ' ' || buf.getByte(e - 1) == '\t')) {
                    e--;
                }
                if (name.equals(HttpHeaderNames.TRANSFER_ENCODING)) {
                    headers.set(name, AsciiString.EMPTY_STRING); // a marker that the body is chunked; removed by head()
                } else if (!NOT_IN_H2.contains(name)) {
                    headers.add(name, new AsciiString(bytes(buf, v, e - v), false));
                }
            }
            i = eol + 2;
        }
    }

    /** The hex size at the start of the line from the reader index to {@code end}; extensions ignored. */
    private static long chunkSize(ByteBuf buf, int end) {
        long size = 0;
        for (int i = buf.readerIndex(); i < end; i++) {
            int d = Character.digit(buf.getByte(i), 16);
            if (d < 0) {
                break;
            }
            size = size * 16 + d;
        }
        return size;
    }

    /** Index of the next CRLF ({@code blankLine}: CRLF CRLF) at or after {@code from}, or -1. */
    private static int indexOf(ByteBuf buf, int from, boolean blankLine) {
        int last = buf.writerIndex() - (blankLine ? 4 : 2);
        for (int i = from; i <= last; i++) {
            if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n'
                    && (!blankLine || buf.getByte(i + 2) == '\r' && buf.getByte(i + 3) == '\n')) {
                return i;
            }
        }
        return -1;
    }

    /** {@code n} body bytes: a slice of what was written, a copy of what waited in the cumulation. */
    private ByteBuf take(ByteBuf buf, int n) {
        return buf == cumulation ? buf.readBytes(n) : buf.readRetainedSlice(n);
    }

    /** Copies out of a buffer without moving its indexes. */
    private static byte[] bytes(ByteBuf buf, int from, int n) {
        byte[] b = new byte[n];
        buf.getBytes(from, b);
        return b;
    }
}
