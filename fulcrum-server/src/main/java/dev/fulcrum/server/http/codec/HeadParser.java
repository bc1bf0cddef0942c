package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

import java.util.Arrays;

/**
 * One pass over the bytes of a message head — a request head, a response head or a trailer
 * section — that both checks the RFC 9112 grammar and records where each part lies, so that the
 * head is then copied once into a {@link MessageHead} and never parsed again. Shared by
 * {@link RequestDecoder} and {@link ResponseDecoder}.
 *
 * <p>Grammar (every line ends with CRLF; a bare CR or LF is an error):
 * <pre>
 *   request:  method SP request-target SP HTTP/1.(0|1) CRLF      method = token, target = 1*( %x21-7E )
 *   response: HTTP/1.(0|1) SP 3DIGIT [ SP reason ] CRLF           reason = *( HTAB / SP / VCHAR / obs-text )
 *   then      *( token ":" OWS *( SP / HTAB / VCHAR / obs-text ) CRLF )   no folding, no space before ":"
 *             CRLF
 * </pre>
 * A trailer section is the field lines and the blank line only. Each failure has its own one-line
 * text naming what is wrong (pinned by the tests' {@code FramingCase}).
 *
 * <p>Incremental: {@link #scan} resumes where it stopped, so a head trickling in byte by byte
 * costs one pass in total; the reader index is not moved until {@link #head} or {@link #skipHead}.
 * The field index is made for each head and handed to it. Not thread-safe:
 * one per connection, on its event loop.
 */
final class HeadParser implements ByteProcessor {

    /** {@link #scan} results. */
    static final int MORE = 0;
    static final int DONE = 1;
    static final int FAILED = 2;

    /** Room left in a head's byte array for fields appended on the way out (X-Forwarded-*, Via). */
    static final int SLACK = 256;

    static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private static final byte[] VERSION_PREFIX = {'H', 'T', 'T', 'P', '/', '1', '.'};
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    // states; ints rather than an enum so that the switch compiles to a table without an ordinal load
    private static final int METHOD_START = 0;
    private static final int METHOD = 1;
    private static final int TARGET_START = 2;
    private static final int TARGET = 3;
    private static final int VERSION = 4;
    private static final int REQUEST_LINE_CR = 5;
    private static final int STATUS_VERSION = 6;
    private static final int STATUS_SP = 7;
    private static final int STATUS_CODE = 8;
    private static final int STATUS_AFTER_CODE = 9;
    private static final int REASON = 10;
    private static final int LINE_LF = 11;
    private static final int LINE_START = 12;
    private static final int NAME = 13;
    private static final int VALUE_OWS = 14;
    private static final int VALUE = 15;
    private static final int END_LF = 16;
    private static final int DONE_STATE = 17;

    // failures, turned into text by failure() according to the kind of head
    private static final int BARE_LF = 1;
    private static final int BARE_CR = 2;
    private static final int VALUE_CR = 3;
    private static final int FOLDING = 4;
    private static final int EMPTY_NAME = 5;
    private static final int NAME_CHAR = 6;
    private static final int NAME_SPACE = 7;
    private static final int NO_COLON = 8;
    private static final int VALUE_CONTROL = 9;
    private static final int REQUEST_LINE = 10;
    private static final int TARGET_CHAR = 11;
    private static final int BAD_VERSION = 12;
    private static final int STATUS_LINE = 13;
    private static final int REASON_CONTROL = 14;
    private static final int TOO_LARGE = 15;
    private static final int TOO_MANY_FIELDS = 16;

    /**
     * Most fields in one head or trailer section (Envoy's and Apache's default is 100 too): every
     * rule that reads the head is linear in its fields, and some (a Connection header naming fields
     * to remove) multiply them by another count, so the count is bounded whatever
     * {@code max-header-bytes} allows (up to 1 MiB: a quarter of a million 4-byte fields).
     */
    static final int MAX_FIELDS = 100;

    private final int limit;
    private MessageHead.Kind kind;
    private int state;
    /** Offset of the next byte from the head's first byte (the reader index when the head began). */
    private int pos;
    private int failure;

    // start line
    private int versionIndex;
    private int methodEnd;
    private int targetStart;
    private int targetEnd;
    private int minorVersion;
    private int status;
    private int statusDigits;
    private int reasonStart;
    private int reasonEnd;

    // the field being read, then the index of those read
    private int lineStart;
    private int nameEnd;
    private int valueStart;
    private int valueEnd;
    private boolean inField;
    /**
     * The index of the head being read, made at its first field and handed to its
     * {@link MessageHead}: no per-connection scratch stays behind between heads (an idle
     * connection's heap is a cost too).
     */
    private int[] fields = NO_FIELDS;
    private int count;

    private static final int[] NO_FIELDS = new int[0];
    /** Fields a new index has room for: a browser's 16 or so and the 3 the proxy appends, without growing. */
    private static final int INITIAL_FIELDS = 20;

    /** @param limit the largest head, blank line included */
    HeadParser(int limit) {
        this.limit = limit;
        reset(MessageHead.Kind.REQUEST);
    }

    /** Forgets the last head: the next byte is the first of a head of {@code kind}. */
    void reset(MessageHead.Kind kind) {
        this.kind = kind;
        state = switch (kind) {
            case REQUEST -> METHOD_START;
            case RESPONSE -> STATUS_VERSION;
            case TRAILERS -> LINE_START;
        };
        pos = 0;
        failure = 0;
        versionIndex = 0;
        status = 0;
        statusDigits = 0;
        inField = false;
        count = 0;
    }

    /** Bytes of the current head seen so far. */
    int scanned() {
        return pos;
    }

    /**
     * Scans the bytes of {@code in} not seen yet; does not move the reader index.
     *
     * @return {@link #DONE} when the whole head, through its blank line, is in {@code in} and
     *         valid; {@link #MORE} when more bytes are needed; {@link #FAILED} on the first
     *         violation or when the head reaches the limit unfinished ({@link #failure()} says which)
     */
    int scan(ByteBuf in) {
        int length = Math.min(in.readableBytes() - pos, limit - pos);
        if (length > 0) {
            in.forEachByte(in.readerIndex() + pos, length, this);
        }
        if (failure != 0) {
            return FAILED;
        }
        if (state == DONE_STATE) {
            return DONE;
        }
        if (pos >= limit) {
            failure = TOO_LARGE;
            return FAILED;
        }
        return MORE;
    }

    /** 431 for a head over the limit, else 400 (a request's view; a response decoder maps both to 502). */
    int failureStatus() {
        return failure == TOO_LARGE || failure == TOO_MANY_FIELDS ? 431 : 400;
    }

    /** The one-line text of the failure {@link #scan} reported. */
    String failure() {
        boolean trailers = kind == MessageHead.Kind.TRAILERS;
        return switch (failure) {
            case BARE_LF -> trailers ? "trailer line ended by LF without CR" : "line ended by LF without CR";
            case BARE_CR -> trailers ? "CR not followed by LF in trailers" : "CR not followed by LF";
            case VALUE_CR -> trailers ? "invalid character in trailer value" : "CR not followed by LF";
            case FOLDING -> trailers ? "obsolete line folding in trailers"
                    : "obsolete line folding (header line starts with whitespace)";
            case EMPTY_NAME -> trailers ? "invalid character in trailer name" : "empty header name";
            case NAME_CHAR -> trailers ? "invalid character in trailer name" : "invalid character in header name";
            case NAME_SPACE -> trailers ? "invalid character in trailer name" : "whitespace between header name and colon";
            case NO_COLON -> trailers ? "trailer line without a colon" : "header line without a colon";
            case VALUE_CONTROL -> trailers ? "invalid character in trailer value" : "control character in header value";
            case REQUEST_LINE -> "request line is not METHOD SP request-target SP HTTP/1.x";
            case TARGET_CHAR -> "invalid character in request-target";
            case BAD_VERSION -> "HTTP version is not HTTP/1.0 or HTTP/1.1";
            case STATUS_LINE -> "status line is not HTTP/1.x SP 3DIGIT SP reason";
            case REASON_CONTROL -> "control character in reason phrase";
            case TOO_MANY_FIELDS -> "more than " + MAX_FIELDS + (trailers ? " trailer fields" : " header fields");
            case TOO_LARGE -> switch (kind) {
                case REQUEST -> "request head larger than " + limit + " bytes";
                case RESPONSE -> "head larger than " + limit + " bytes";
                case TRAILERS -> "trailers larger than " + limit + " bytes";
            };
            default -> throw new IllegalStateException("no failure");
        };
    }

    /** Number of fields in the head scanned (after {@link #DONE}). */
    int fieldCount() {
        return count;
    }

    /**
     * After {@link #DONE}: the head copied out of {@code in} into its own array (with
     * {@link #SLACK} bytes to spare), with the index made while scanning; the head's bytes, blank
     * line included, are skipped.
     */
    MessageHead head(ByteBuf in) {
        int stored = pos - 2; // the blank line is not stored
        byte[] bytes = new byte[stored + SLACK];
        in.getBytes(in.readerIndex(), bytes, 0, stored);
        in.skipBytes(pos);
        int[] index = fields;
        fields = NO_FIELDS; // the head owns it now (NO_FIELDS is never written: a head grows it first)
        return switch (kind) {
            case REQUEST -> MessageHead.request(bytes, stored, methodEnd, targetStart, targetEnd, minorVersion, index,
                    count);
            case RESPONSE -> MessageHead.response(bytes, stored, minorVersion, status, reasonStart, reasonEnd, index,
                    count);
            case TRAILERS -> MessageHead.trailers(bytes, stored, index, count);
        };
    }

    /** After {@link #DONE}: skips the head's bytes without making a head (an empty trailer section). */
    void skipHead(ByteBuf in) {
        in.skipBytes(pos);
    }

    @Override
    public boolean process(byte value) {
        int p = pos++;
        int b = value & 0xff;
        switch (state) {
            case METHOD_START -> {
                if (!TCHAR[b]) {
                    return fail(value == LF ? BARE_LF : REQUEST_LINE);
                }
                state = METHOD;
            }
            case METHOD -> {
                if (value == ' ') {
                    methodEnd = p;
                    state = TARGET_START;
                } else if (!TCHAR[b]) {
                    return fail(value == LF ? BARE_LF : REQUEST_LINE);
                }
            }
            case TARGET_START, TARGET -> {
                if (value == ' ' && state == TARGET) {
                    targetEnd = p;
                    state = VERSION;
                    versionIndex = 0;
                } else if (b >= 0x21 && b <= 0x7e) {
                    if (state == TARGET_START) {
                        targetStart = p;
                        state = TARGET;
                    }
                } else if (b >= 0x80) {
                    return fail(TARGET_CHAR);
                } else {
                    return fail(value == LF ? BARE_LF : REQUEST_LINE);
                }
            }
            case VERSION, STATUS_VERSION -> {
                boolean ok = versionIndex < VERSION_PREFIX.length
                        ? value == VERSION_PREFIX[versionIndex]
                        : value == '0' || value == '1';
                if (!ok) {
                    int line = state == VERSION ? REQUEST_LINE : STATUS_LINE;
                    return fail(value == LF ? BARE_LF : value == ' ' || value == CR ? line : BAD_VERSION);
                }
                if (++versionIndex == VERSION_PREFIX.length + 1) {
                    minorVersion = value - '0';
                    state = state == VERSION ? REQUEST_LINE_CR : STATUS_SP;
                }
            }
            case REQUEST_LINE_CR -> {
                if (value != CR) {
                    return fail(value == LF ? BARE_LF : REQUEST_LINE);
                }
                state = LINE_LF;
            }
            case STATUS_SP -> {
                if (value != ' ') {
                    return fail(value == LF ? BARE_LF : STATUS_LINE);
                }
                state = STATUS_CODE;
            }
            case STATUS_CODE -> {
                if (value < '0' || value > '9') {
                    return fail(value == LF ? BARE_LF : STATUS_LINE);
                }
                status = status * 10 + value - '0';
                if (++statusDigits == 3) {
                    state = STATUS_AFTER_CODE;
                }
            }
            case STATUS_AFTER_CODE -> {
                if (value == ' ') {
                    reasonStart = reasonEnd = p + 1;
                    state = REASON;
                } else if (value == CR) {
                    reasonStart = reasonEnd = p; // no reason phrase, and no space before it
                    state = LINE_LF;
                } else {
                    return fail(value == LF ? BARE_LF : STATUS_LINE);
                }
            }
            case REASON -> {
                if (value == CR) {
                    reasonEnd = p;
                    state = LINE_LF;
                } else if (value == LF) {
                    return fail(BARE_LF);
                } else if ((b < 0x20 && value != '\t') || b == 0x7f) {
                    return fail(REASON_CONTROL);
                }
            }
            case LINE_LF -> {
                if (value != LF) {
                    return fail(inField ? VALUE_CR : BARE_CR);
                }
                if (inField) {
                    if (count == MAX_FIELDS) {
                        return fail(TOO_MANY_FIELDS);
                    }
                    addField(p + 1);
                }
                state = LINE_START;
            }
            case LINE_START -> {
                if (TCHAR[b]) {
                    lineStart = p;
                    state = NAME;
                } else if (value == CR) {
                    state = END_LF;
                } else if (value == ' ' || value == '\t') {
                    return fail(FOLDING);
                } else if (value == ':') {
                    return fail(EMPTY_NAME);
                } else {
                    return fail(value == LF ? BARE_LF : NAME_CHAR);
                }
            }
            case NAME -> {
                if (value == ':') {
                    nameEnd = p;
                    valueStart = valueEnd = p + 1;
                    inField = true;
                    state = VALUE_OWS;
                } else if (value == ' ' || value == '\t') {
                    return fail(NAME_SPACE);
                } else if (value == CR || value == LF) {
                    return fail(NO_COLON);
                } else if (!TCHAR[b]) {
                    return fail(NAME_CHAR);
                }
            }
            case VALUE_OWS, VALUE -> {
                if (b > 0x20 && b != 0x7f) {
                    if (state == VALUE_OWS) {
                        valueStart = p;
                        state = VALUE;
                    }
                    valueEnd = p + 1;
                } else if (value == CR) {
                    if (state == VALUE_OWS) {
                        valueStart = valueEnd = p;
                    }
                    state = LINE_LF;
                } else if (value == LF) {
                    return fail(BARE_LF);
                } else if (value != ' ' && value != '\t') {
                    return fail(VALUE_CONTROL);
                }
            }
            case END_LF -> {
                if (value != LF) {
                    return fail(BARE_CR);
                }
                state = DONE_STATE;
                return false;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void addField(int lineEnd) {
        int o = count * MessageHead.FIELD_INTS;
        if (o + MessageHead.FIELD_INTS > fields.length) {
            fields = Arrays.copyOf(fields, Math.max(INITIAL_FIELDS * MessageHead.FIELD_INTS, fields.length * 2));
        }
        fields[o] = lineStart;
        fields[o + 1] = nameEnd;
        fields[o + 2] = valueStart;
        fields[o + 3] = valueEnd;
        fields[o + 4] = lineEnd;
        count++;
        inField = false;
    }

    private boolean fail(int what) {
        failure = what;
        return false;
    }
}
