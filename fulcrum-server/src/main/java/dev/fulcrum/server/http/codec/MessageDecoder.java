package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpHeaderNames;

import java.util.List;

/**
 * What the HTTP/1.1 request and response decoders share: the head (one {@link HeadParser} pass,
 * one copy into a {@link MessageHead}) and the body framing after it — a {@code Content-Length}
 * body as retained slices of the bytes received (no copy), a chunked body through a strict chunk
 * parser, a body delimited by the connection's close. Subclasses decide the framing of a head
 * ({@link #frame}) and word the failures.
 *
 * <p>Events, in order, per message: one {@link MessageHead}, zero or more {@code ByteBuf} body
 * parts (retained slices; the receiver releases them), one {@link MessageEnd}. Instead of the
 * rest, once, a {@link MessageFailure}; after it every byte is discarded. {@code decode} returns
 * after each {@code MessageEnd}, so a handler that removes the decoder on it (an upgrade) gets
 * the bytes after the message from {@code ByteToMessageDecoder}, not parsed as another head.
 *
 * <p>Chunk lines (RFC 9112 §7.1): {@code 1*HEXDIG [ BWS chunk-ext ] CRLF} with a size that fits
 * a {@code long}; extensions {@code *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )}
 * are checked and dropped — stricter than Netty's strict mode where it is lax (an empty name, as
 * in {@code 5;;} or {@code 5;=b}, and {@code 5;a b} are refused) and as strict where it is
 * stricter than the RFC (no obs-text in a quoted value); the data is followed by CRLF; trailers
 * are field lines with the head grammar (no folding: the old decoder joined folded trailers),
 * bounded by the head limit, indexed into {@link MessageHead#trailers}, without the framing
 * fields (Content-Length, Transfer-Encoding, Trailer), which mean nothing there. A chunk line
 * longer than the head limit is refused (400).
 *
 * <p>One per connection, confined to its event loop.
 */
abstract class MessageDecoder extends ByteToMessageDecoder {

    /** {@link #frame} results; a result {@code >= 0} is a Content-Length. */
    static final long NO_BODY = -1;
    static final long CHUNKED = -2;
    static final long UNTIL_CLOSE = -3;
    static final long REFUSED = -4;
    /** 101: the connection stops being HTTP after this head. */
    static final long SWITCHED = -5;

    private enum State { HEAD, LENGTH, CHUNK_LINE, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF, TRAILERS, UNTIL_CLOSE,
        SWITCHED, FAILED }

    private static final byte CR = '\r';
    private static final byte LF = '\n';

    // chunk line states
    private static final int SIZE_FIRST = 0;
    private static final int SIZE = 1;
    private static final int SIZE_BWS = 2;
    private static final int EXT_BEFORE_NAME = 3;
    private static final int EXT_NAME = 4;
    private static final int EXT_AFTER_NAME = 5;
    private static final int EXT_BEFORE_VALUE = 6;
    private static final int EXT_VALUE = 7;
    private static final int EXT_QUOTED = 8;
    private static final int EXT_QUOTED_PAIR = 9;
    private static final int EXT_AFTER_VALUE = 10;
    private static final int LINE_LF = 11;

    final int maxHeadBytes;
    /**
     * The head (or trailer) parser, made when a head starts and dropped when one ended with no byte
     * left: an idle keep-alive connection holds none (it is per-head state, ~100 bytes).
     */
    private HeadParser parser;
    private final MessageHead.Kind headKind;
    private State state = State.HEAD;
    /** Body bytes left: of the Content-Length body or of the current chunk. */
    private long remaining;
    private int chunkState;
    private int chunkLineBytes;
    private boolean chunkExtension;
    private String chunkFailure;

    // a refusal set by frame()
    private int refusedStatus;
    private String refusedReason;

    MessageDecoder(int maxHeadBytes, MessageHead.Kind headKind) {
        if (maxHeadBytes < 64) {
            throw new IllegalArgumentException("maxHeadBytes " + maxHeadBytes + " is below 64");
        }
        this.maxHeadBytes = maxHeadBytes;
        this.headKind = headKind;
    }

    /** The parser, made for a head of {@code kind} when there is none. */
    private HeadParser parser(MessageHead.Kind kind) {
        HeadParser p = parser;
        if (p == null) {
            p = parser = new HeadParser(maxHeadBytes);
            p.reset(kind);
        }
        return p;
    }

    /** A head or trailer section ended: the parser goes unless bytes of the next head are here. */
    private void headEnded(ByteBuf in) {
        if (in.isReadable()) {
            parser.reset(headKind);
        } else {
            parser = null;
        }
    }

    /**
     * Decides how the body after {@code head} is framed, applying the head rules; sets the head's
     * framing. Returns a Content-Length ({@code >= 0}), {@link #NO_BODY}, {@link #CHUNKED},
     * {@link #UNTIL_CLOSE}, {@link #SWITCHED}, or {@link #refuse}'s result.
     */
    abstract long frame(MessageHead head);

    /** The failure of a head (its syntax, its rules) as this side words it. */
    abstract MessageFailure headFailure(int status, String detail);

    /** The failure of a body (chunk framing, trailers, a close before the end) as this side words it. */
    abstract MessageFailure bodyFailure(int status, String detail);

    /** What a close in the middle of a body is called. */
    abstract String closedInBody();

    /** A close in the middle of a head ({@code scanned} bytes of it received): a failure, or null for none. */
    abstract MessageFailure closedInHead(int scanned);

    /**
     * Called before anything is decoded from {@code in}: false to decode nothing (the subclass
     * took care of the bytes).
     */
    boolean accept(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        return true;
    }

    /** Called with a head before it is framed; may skip bytes before a head (leading CRLFs): false to wait. */
    boolean beforeHead(ByteBuf in, List<Object> out) {
        return true;
    }

    /** Called after each {@link MessageEnd} is added. */
    void ended() {
    }

    /** For {@link #frame}: refuses the head with {@code status} and a detail that {@link #headFailure} words. */
    final long refuse(int status, String detail) {
        refusedStatus = status;
        refusedReason = detail;
        return REFUSED;
    }

    /** True while a message is between its head and its end. */
    final boolean inMessage() {
        return state != State.HEAD && state != State.FAILED && state != State.SWITCHED;
    }

    /** For a Content-Length body in progress: how many of its bytes are still to come; else -1. */
    public final long bodyRemaining() {
        return state == State.LENGTH ? remaining : -1;
    }

    /**
     * The next {@code n} bytes of the Content-Length body in progress go from the socket to the
     * next hop without passing this decoder (a splice). Fewer than remain: the last bytes of the
     * body come through the decoder, which so sees what the server sent past the body as it does
     * after a copied one. Only with no byte of the body buffered, which holds between reads: a
     * Content-Length body is passed on as far as it arrived.
     */
    public final void bodySpliced(long n) {
        if (state != State.LENGTH || n <= 0 || n >= remaining || actualReadableBytes() != 0) {
            throw new IllegalStateException("no " + n + " body bytes to hand off (" + state + ", " + remaining + " left)");
        }
        remaining -= n;
    }

    /** True when bytes of the next head were seen already. */
    final boolean parserStarted() {
        return parser != null && parser.scanned() > 0;
    }

    /** Fails the connection from {@link #beforeHead}: a head failure with {@code detail}. */
    final void failHead(ByteBuf in, List<Object> out, int status, String detail) {
        fail(in, out, headFailure(status, detail));
    }

    final boolean failed() {
        return state == State.FAILED;
    }

    final boolean switched() {
        return state == State.SWITCHED;
    }

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == State.FAILED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (!accept(ctx, in, out)) {
            return;
        }
        for (;;) {
            switch (state) {
                case HEAD -> {
                    if (!decodeHead(in, out)) {
                        return;
                    }
                }
                case LENGTH -> {
                    if (slice(in, out)) {
                        end(out, MessageEnd.NO_TRAILERS);
                    }
                    return;
                }
                case UNTIL_CLOSE -> {
                    if (in.isReadable()) {
                        out.add(in.readRetainedSlice(in.readableBytes()));
                    }
                    return;
                }
                case CHUNK_LINE -> {
                    if (!chunkLine(in, out)) {
                        return;
                    }
                }
                case CHUNK_DATA -> {
                    if (!slice(in, out)) {
                        return;
                    }
                    state = State.CHUNK_DATA_CR;
                }
                case CHUNK_DATA_CR, CHUNK_DATA_LF -> {
                    if (!in.isReadable()) {
                        return;
                    }
                    byte b = in.readByte();
                    if (b != (state == State.CHUNK_DATA_CR ? CR : LF)) {
                        fail(in, out, bodyFailure(400, "chunk data not followed by CRLF"));
                        return;
                    }
                    if (state == State.CHUNK_DATA_LF) {
                        startChunkLine();
                    } else {
                        state = State.CHUNK_DATA_LF;
                    }
                }
                case TRAILERS -> {
                    decodeTrailers(in, out);
                    return;
                }
                case SWITCHED -> {
                    return; // the bytes stay in the cumulation for the handler that replaces this one
                }
                case FAILED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    /** Passes on what arrived of the {@link #remaining} body bytes, as a slice; true when none remain. */
    private boolean slice(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(remaining, in.readableBytes());
        if (n > 0) {
            out.add(in.readRetainedSlice(n));
            remaining -= n;
        }
        return remaining == 0;
    }

    /** True when a head with a body was emitted and decoding goes on; false to return. */
    private boolean decodeHead(ByteBuf in, List<Object> out) {
        if (!beforeHead(in, out) || state == State.FAILED) {
            return false;
        }
        int result = parser(headKind).scan(in);
        if (result == HeadParser.MORE) {
            return false;
        }
        if (result == HeadParser.FAILED) {
            fail(in, out, headFailure(parser.failureStatus(), parser.failure()));
            return false;
        }
        MessageHead head = parser.head(in);
        headEnded(in);
        long framing = frame(head);
        if (framing == REFUSED) {
            fail(in, out, headFailure(refusedStatus, refusedReason));
            return false;
        }
        out.add(head);
        if (framing == NO_BODY || framing == 0) {
            end(out, MessageEnd.NO_TRAILERS);
            return false;
        }
        if (framing == SWITCHED) {
            out.add(MessageEnd.NO_TRAILERS);
            state = State.SWITCHED;
            return false;
        }
        if (framing == CHUNKED) {
            startChunkLine();
        } else if (framing == UNTIL_CLOSE) {
            state = State.UNTIL_CLOSE;
        } else {
            remaining = framing;
            state = State.LENGTH;
        }
        return true;
    }

    private void end(List<Object> out, MessageEnd end) {
        out.add(end);
        state = State.HEAD;
        ended();
    }

    private void fail(ByteBuf in, List<Object> out, MessageFailure failure) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        out.add(failure);
    }

    private void startChunkLine() {
        state = State.CHUNK_LINE;
        chunkState = SIZE_FIRST;
        chunkLineBytes = 0;
        chunkExtension = false;
        remaining = 0;
    }

    /** Reads the chunk line's bytes as they come; true when it ended and the next state is set. */
    private boolean chunkLine(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        for (int i = start; i < end; i++) {
            if (!chunkLineByte(in.getByte(i))) {
                in.readerIndex(i + 1);
                if (chunkFailure != null) {
                    String detail = chunkFailure;
                    chunkFailure = null;
                    fail(in, out, bodyFailure(400, detail));
                    return false;
                }
                if (remaining == 0) {
                    state = State.TRAILERS;
                    parser(MessageHead.Kind.TRAILERS).reset(MessageHead.Kind.TRAILERS);
                } else {
                    state = State.CHUNK_DATA;
                }
                return true;
            }
            if (++chunkLineBytes >= maxHeadBytes) {
                in.readerIndex(i + 1);
                fail(in, out, bodyFailure(400, "chunk line longer than " + maxHeadBytes + " bytes"));
                return false;
            }
        }
        in.readerIndex(end);
        return false;
    }

    /** One byte of a chunk line: false when the line ended ({@link #chunkFailure} null) or failed. */
    private boolean chunkLineByte(byte value) {
        int b = value & 0xff;
        if (value == LF && chunkState != LINE_LF && chunkState != EXT_QUOTED_PAIR) {
            return chunkFail("chunk line ended by LF without CR");
        }
        switch (chunkState) {
            case SIZE_FIRST, SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    if (remaining > (Long.MAX_VALUE >>> 4)) {
                        return chunkFail("invalid chunk size");
                    }
                    remaining = remaining << 4 | digit;
                    chunkState = SIZE;
                } else if (chunkState == SIZE_FIRST) {
                    return chunkFail("invalid chunk size");
                } else if (value == CR) {
                    chunkState = LINE_LF;
                } else if (value == ';') {
                    chunkExtension = true;
                    chunkState = EXT_BEFORE_NAME;
                } else if (value == ' ' || value == '\t') {
                    chunkState = SIZE_BWS;
                } else {
                    return chunkFail("invalid chunk size");
                }
            }
            case SIZE_BWS -> {
                if (value == ';') {
                    chunkExtension = true;
                    chunkState = EXT_BEFORE_NAME;
                } else if (value != ' ' && value != '\t') {
                    return chunkFail("invalid chunk size");
                }
            }
            case EXT_BEFORE_NAME -> {
                if (HeadParser.TCHAR[b]) {
                    chunkState = EXT_NAME;
                } else if (value != ' ' && value != '\t') {
                    return chunkFail("invalid chunk extension");
                }
            }
            case EXT_NAME, EXT_VALUE -> {
                if (HeadParser.TCHAR[b]) {
                    return true;
                }
                if (value == '=' && chunkState == EXT_NAME) {
                    chunkState = EXT_BEFORE_VALUE;
                } else {
                    return extensionEnd(value, chunkState == EXT_NAME ? EXT_AFTER_NAME : EXT_AFTER_VALUE);
                }
            }
            case EXT_AFTER_NAME -> {
                if (value == '=') {
                    chunkState = EXT_BEFORE_VALUE;
                } else {
                    return extensionEnd(value, EXT_AFTER_NAME);
                }
            }
            case EXT_BEFORE_VALUE -> {
                if (HeadParser.TCHAR[b]) {
                    chunkState = EXT_VALUE;
                } else if (value == '"') {
                    chunkState = EXT_QUOTED;
                } else if (value != ' ' && value != '\t') {
                    return chunkFail("invalid chunk extension");
                }
            }
            case EXT_QUOTED -> {
                if (value == '"') {
                    chunkState = EXT_AFTER_VALUE;
                } else if (value == '\\') {
                    chunkState = EXT_QUOTED_PAIR;
                } else if ((b < 0x20 && value != '\t') || b >= 0x7f) {
                    return chunkFail("invalid chunk extension");
                }
            }
            case EXT_QUOTED_PAIR -> {
                if ((b < 0x20 && value != '\t') || b >= 0x7f) {
                    return chunkFail(value == LF ? "chunk line ended by LF without CR" : "invalid chunk extension");
                }
                chunkState = EXT_QUOTED;
            }
            case EXT_AFTER_VALUE -> {
                return extensionEnd(value, EXT_AFTER_VALUE);
            }
            case LINE_LF -> {
                if (value != LF) {
                    return chunkFail(chunkExtension ? "invalid chunk extension" : "invalid chunk size");
                }
                return false;
            }
            default -> throw new IllegalStateException("chunk state " + chunkState);
        }
        return true;
    }

    /** After an extension's name or value: whitespace, the next extension, or the line's end. */
    private boolean extensionEnd(byte value, int whitespaceState) {
        if (value == ' ' || value == '\t') {
            chunkState = whitespaceState;
        } else if (value == ';') {
            chunkState = EXT_BEFORE_NAME;
        } else if (value == CR) {
            chunkState = LINE_LF;
        } else {
            return chunkFail("invalid chunk extension");
        }
        return true;
    }

    private boolean chunkFail(String detail) {
        chunkFailure = detail;
        return false;
    }

    private void decodeTrailers(ByteBuf in, List<Object> out) {
        int result = parser(MessageHead.Kind.TRAILERS).scan(in);
        if (result == HeadParser.MORE) {
            return;
        }
        if (result == HeadParser.FAILED) {
            fail(in, out, bodyFailure(parser.failureStatus(), parser.failure()));
            return;
        }
        MessageEnd end;
        if (parser.fieldCount() == 0) {
            parser.skipHead(in);
            end = MessageEnd.NO_TRAILERS;
        } else {
            MessageHead trailers = parser.head(in);
            trailers.removeAll(HttpHeaderNames.CONTENT_LENGTH);
            trailers.removeAll(HttpHeaderNames.TRANSFER_ENCODING);
            trailers.removeAll(HttpHeaderNames.TRAILER);
            end = trailers.liveSize() == 0 ? MessageEnd.NO_TRAILERS : MessageEnd.withTrailers(trailers);
        }
        headEnded(in);
        end(out, end);
    }

    @Override
    protected final void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // ByteToMessageDecoder decoded what it could before; a message that ends here may free more
        while (in.isReadable() && state != State.FAILED && state != State.SWITCHED) {
            int before = in.readableBytes();
            int emitted = out.size();
            decode(ctx, in, out);
            if (in.readableBytes() == before && out.size() == emitted) {
                break;
            }
        }
        switch (state) {
            case HEAD -> {
                int scanned = Math.max(parser == null ? 0 : parser.scanned(), in.readableBytes());
                MessageFailure failure = scanned > 0 ? closedInHead(scanned) : null;
                if (failure != null) {
                    fail(in, out, failure);
                }
            }
            case UNTIL_CLOSE -> end(out, MessageEnd.NO_TRAILERS);
            case LENGTH, CHUNK_LINE, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF, TRAILERS ->
                    fail(in, out, bodyFailure(400, closedInBody()));
            case SWITCHED, FAILED -> {
            }
        }
    }
}
