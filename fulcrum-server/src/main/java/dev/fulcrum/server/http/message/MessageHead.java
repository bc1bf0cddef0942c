package dev.fulcrum.server.http.message;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.util.Arrays;

/**
 * One HTTP message head — a request, a response or a trailer section — as its bytes with an index
 * (HAProxy's HTX idea, Fulcrum-sized). A decoder copies the head's bytes once into a {@code byte[]}
 * and records where the start line's parts and each field's name and value lie; rules read the
 * index; edits are splices (a field is marked removed, new fields are appended as bytes); the head
 * is written to the next hop in one pass that copies runs of kept lines. No per-field
 * {@code String} or header-map entry is made on the request path.
 *
 * <p>Layout of {@link #bytes}: the start line (absent for trailers) and every field line, each
 * ending in CRLF, then room for appended fields; the blank line that ends a head is not stored.
 * Each field has {@value #FIELD_INTS} ints in {@link #fields}: line start (= name start), name end
 * (the colon), value start and value end (optional whitespace trimmed) and line end (after the
 * LF). A removed field keeps its entry with the line end negated, so indexes stay stable.
 *
 * <p>Version-neutral by construction: the start line is parts (method, target, status, reason) that
 * an HTTP/2 codec maps to and from pseudo-headers, and fields are name/value pairs in order
 * ({@link #name(int)}, {@link #value(int)} are views, {@link #add} takes any pair). Writing as
 * HTTP/1.1 is {@link #writeRequest} / {@link #writeResponse}.
 *
 * <p>Framing decided by the decoder (Content-Length or chunked) travels with the head
 * ({@link #contentLength()}, {@link #isChunked()}); the index is not re-read for it.
 *
 * <p>Not thread-safe; a head belongs to one exchange on one event loop. Holds no pooled memory, so
 * it needs no release.
 */
public final class MessageHead {

    /** What the head is the head of. */
    public enum Kind { REQUEST, RESPONSE, TRAILERS }

    /** Ints per field in the index. */
    public static final int FIELD_INTS = 5;
    private static final int LINE_START = 0;
    private static final int NAME_END = 1;
    private static final int VALUE_START = 2;
    private static final int VALUE_END = 3;
    private static final int LINE_END = 4;

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HTTP_1_1 = " HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Kind kind;
    private byte[] bytes;
    /** Bytes of {@link #bytes} in use. */
    private int length;
    private int[] fields;
    private int count;

    // start line; offsets into bytes
    private final int methodEnd;
    private final int targetStart;
    private final int targetEnd;
    private final int minorVersion;
    private final int status;
    private final int reasonStart;
    private final int reasonEnd;

    /** A target set by {@link #setTarget} (absolute-form normalised, a prefix stripped), or null. */
    private String newTarget;
    private HttpMethod method;

    private long contentLength = -1;
    private boolean chunked;
    /** {@link #setFraming} was called: the framing is known without reading the fields. */
    private boolean framingDecided;

    /** Not read yet: {@link #hostIndex} and {@link #connectionOptions} scan the fields on their first call. */
    private static final int UNREAD = -2;
    /**
     * The first live Host field's index, -1 for none, or {@link #UNREAD} (also when the index does
     * not fit). A short and a byte: they fit in the object's alignment padding, so a head costs no
     * more bytes for them (RequestHeadBenchmark's bytes per head).
     */
    private short hostField = UNREAD;
    /** The {@code CONNECTION_*} bits of the live Connection fields, or {@link #UNREAD}. */
    private byte connectionOptions = UNREAD;

    private MessageHead(Kind kind, byte[] bytes, int length, int[] fields, int count, int methodEnd, int targetStart,
                        int targetEnd, int minorVersion, int status, int reasonStart, int reasonEnd) {
        if (fields.length < count * FIELD_INTS || length > bytes.length) {
            throw new IllegalArgumentException("index larger than its arrays");
        }
        this.kind = kind;
        this.bytes = bytes;
        this.length = length;
        this.fields = fields;
        this.count = count;
        this.methodEnd = methodEnd;
        this.targetStart = targetStart;
        this.targetEnd = targetEnd;
        this.minorVersion = minorVersion;
        this.status = status;
        this.reasonStart = reasonStart;
        this.reasonEnd = reasonEnd;
    }

    /**
     * A request head indexed by a decoder: {@code bytes[0, length)} holds the request line and the
     * field lines; the method is {@code [0, methodEnd)}, the target {@code [targetStart, targetEnd)}.
     * The arrays are taken over, not copied.
     */
    public static MessageHead request(byte[] bytes, int length, int methodEnd, int targetStart, int targetEnd,
                                      int minorVersion, int[] fields, int count) {
        return new MessageHead(Kind.REQUEST, bytes, length, fields, count, methodEnd, targetStart, targetEnd,
                minorVersion, 0, 0, 0);
    }

    /** A response head indexed by a decoder; the reason phrase is {@code [reasonStart, reasonEnd)}. */
    public static MessageHead response(byte[] bytes, int length, int minorVersion, int status, int reasonStart,
                                       int reasonEnd, int[] fields, int count) {
        return new MessageHead(Kind.RESPONSE, bytes, length, fields, count, 0, 0, 0, minorVersion, status,
                reasonStart, reasonEnd);
    }

    /** A trailer section indexed by a decoder: field lines only. */
    public static MessageHead trailers(byte[] bytes, int length, int[] fields, int count) {
        return new MessageHead(Kind.TRAILERS, bytes, length, fields, count, 0, 0, 0, 1, 0, 0, 0);
    }

    /** A new request head with no fields yet (an HTTP/2 stream's, or one Fulcrum makes); add them with {@link #add}. */
    public static MessageHead newRequest(HttpMethod method, CharSequence target) {
        String m = method.name();
        byte[] b = new byte[m.length() + 1 + target.length() + HTTP_1_1.length + 256];
        int n = putAscii(b, 0, m);
        b[n++] = ' ';
        int ts = n;
        n = putAscii(b, n, target);
        int te = n;
        System.arraycopy(HTTP_1_1, 0, b, n, HTTP_1_1.length);
        n += HTTP_1_1.length;
        MessageHead h = request(b, n, m.length(), ts, te, 1, new int[8 * FIELD_INTS], 0);
        h.method = method;
        return h;
    }

    /** A new response head with no fields yet; the reason phrase may be empty. */
    public static MessageHead newResponse(int status, CharSequence reason) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status " + status);
        }
        byte[] b = new byte[13 + reason.length() + 2 + 256];
        int n = putAscii(b, 0, "HTTP/1.1 " + status + " ");
        int rs = n;
        n = putAscii(b, n, reason);
        int re = n;
        b[n++] = '\r';
        b[n++] = '\n';
        return response(b, n, 1, status, rs, re, new int[8 * FIELD_INTS], 0);
    }

    public Kind kind() {
        return kind;
    }

    // ---- start line --------------------------------------------------------------------------

    /** The request method; well-known methods are Netty's constants (compare with {@code ==}). */
    public HttpMethod method() {
        HttpMethod m = method;
        if (m == null) {
            m = method = knownMethod();
        }
        return m;
    }

    private static final HttpMethod[] KNOWN_METHODS = {HttpMethod.GET, HttpMethod.POST, HttpMethod.HEAD,
            HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE, HttpMethod.CONNECT};

    private HttpMethod knownMethod() {
        int n = methodEnd;
        for (HttpMethod k : KNOWN_METHODS) {
            AsciiString name = k.asciiName();
            if (name.length() == n && rangeEquals(0, n, name, false)) {
                return k;
            }
        }
        return HttpMethod.valueOf(new String(bytes, 0, 0, n));
    }

    /** The request target as sent (or as set by {@link #setTarget}). Allocates: not for every request. */
    public String target() {
        return newTarget != null ? newTarget : new String(bytes, 0, targetStart, targetEnd - targetStart);
    }

    /** Length of the target. */
    public int targetLength() {
        return newTarget != null ? newTarget.length() : targetEnd - targetStart;
    }

    /** The target's byte at {@code i}. */
    public byte targetByte(int i) {
        return newTarget != null ? (byte) newTarget.charAt(i) : bytes[targetStart + i];
    }

    /** Replaces the target on the way out (must be visible ASCII, no space). */
    public void setTarget(String target) {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("invalid character in request-target");
            }
        }
        newTarget = target;
    }

    /** 0 for HTTP/1.0, 1 for HTTP/1.1 (an HTTP/2 head is made as 1.1). */
    public int minorVersion() {
        return minorVersion;
    }

    public HttpVersion version() {
        return minorVersion == 0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
    }

    /** The response status code. */
    public int status() {
        return status;
    }

    /** The reason phrase (possibly empty). Allocates. */
    public String reason() {
        return new String(bytes, 0, reasonStart, reasonEnd - reasonStart);
    }

    // ---- framing, as the decoder decided it -------------------------------------------------

    /** The body length the decoder framed the message by, or -1 when it has no Content-Length. */
    public long contentLength() {
        return contentLength;
    }

    /** True when the decoder framed the body as chunked. */
    public boolean isChunked() {
        return chunked;
    }

    /** Set by the decoder once it decided how the body is framed. */
    public void setFraming(long contentLength, boolean chunked) {
        this.contentLength = contentLength;
        this.chunked = chunked;
        this.framingDecided = true;
    }

    /**
     * True once a decoder (or a rewrite for the next hop) recorded the framing: then
     * {@link #contentLength()} and {@link #isChunked()} are the whole truth and the fields need not
     * be read again; a head built in code has none until it is set.
     */
    public boolean isFramingDecided() {
        return framingDecided;
    }

    // ---- the fields every request asks about, read once -----------------------------------------

    /** {@link #connectionOptions} bit: {@code close}. */
    public static final int CONNECTION_CLOSE = 1;
    /** {@link #connectionOptions} bit: {@code keep-alive}. */
    public static final int CONNECTION_KEEP_ALIVE = 2;
    /** {@link #connectionOptions} bit: {@code upgrade}. */
    public static final int CONNECTION_UPGRADE = 4;
    /** {@link #connectionOptions} bit: any other option (the name of a field that is hop-by-hop on this hop). */
    public static final int CONNECTION_OTHER = 8;

    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString CONNECTION = AsciiString.cached("connection");
    private static final AsciiString CLOSE = AsciiString.cached("close");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString UPGRADE = AsciiString.cached("upgrade");

    /**
     * The index of the first live {@code Host} field, or -1: found once (a decoder's rules record
     * it, {@link #recordHost}), then kept until a Host field is removed or added. Routing, the
     * keep-alive and upgrade checks and the rewrite all ask; none scans the fields again.
     */
    public int hostIndex() {
        int h = hostField;
        if (h == UNREAD) {
            h = indexOf(HOST, 0);
            recordHost(h);
        }
        return h;
    }

    /** What a decoder's rules found: {@code i}, the first live Host field, or -1. */
    public void recordHost(int i) {
        hostField = i <= Short.MAX_VALUE ? (short) i : UNREAD;
    }

    /**
     * The options all live {@code Connection} fields list, as {@code CONNECTION_*} bits (case
     * ignored): read once (a decoder records them, {@link #recordConnectionOptions}), then kept
     * until a Connection field is removed or added.
     */
    public int connectionOptions() {
        int o = connectionOptions;
        if (o == UNREAD) {
            o = 0;
            for (int c = indexOf(CONNECTION, 0); c >= 0; c = indexOf(CONNECTION, c + 1)) {
                for (long t = nextToken(c, valueStart(c)); t >= 0; t = nextToken(c, tokenEnd(t))) {
                    o |= connectionOption(t);
                }
            }
            connectionOptions = (byte) o;
        }
        return o;
    }

    /** The {@code CONNECTION_*} bit of {@code token}, an option of a Connection field. */
    public int connectionOption(long token) {
        return tokenIs(token, CLOSE) ? CONNECTION_CLOSE : tokenIs(token, KEEP_ALIVE) ? CONNECTION_KEEP_ALIVE
                : tokenIs(token, UPGRADE) ? CONNECTION_UPGRADE : CONNECTION_OTHER;
    }

    /** What a decoder found reading every Connection option ({@link #connectionOption} of each, or'ed). */
    public void recordConnectionOptions(int options) {
        connectionOptions = (byte) options;
    }

    /** A field named {@code [start, nameEnd)} is added or removed: what was read of its kind is read again. */
    private void fieldChanged(int start, int nameEnd) {
        int n = nameEnd - start;
        if (n == HOST.length() && rangeEquals(start, nameEnd, HOST, true)) {
            hostField = UNREAD;
        } else if (n == CONNECTION.length() && rangeEquals(start, nameEnd, CONNECTION, true)) {
            connectionOptions = UNREAD;
        }
    }

    // ---- fields ------------------------------------------------------------------------------

    /** Number of field entries, removed ones included (their index stays valid). */
    public int size() {
        return count;
    }

    public boolean isRemoved(int i) {
        return fields[i * FIELD_INTS + LINE_END] < 0;
    }

    /** True when field {@code i} is not removed and its name is {@code lowerName}, ignoring case. */
    public boolean nameIs(int i, AsciiString lowerName) {
        int o = i * FIELD_INTS;
        int s = fields[o + LINE_START];
        return fields[o + LINE_END] >= 0 && fields[o + NAME_END] - s == lowerName.length()
                && rangeEquals(s, fields[o + NAME_END], lowerName, true);
    }

    /** The first live field named {@code lowerName} at or after {@code from}, or -1. */
    public int indexOf(AsciiString lowerName, int from) {
        for (int i = from; i < count; i++) {
            if (nameIs(i, lowerName)) {
                return i;
            }
        }
        return -1;
    }

    public int indexOf(AsciiString lowerName) {
        return indexOf(lowerName, 0);
    }

    public boolean contains(AsciiString lowerName) {
        return indexOf(lowerName, 0) >= 0;
    }

    /** How many live fields are named {@code lowerName}. */
    public int count(AsciiString lowerName) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (nameIs(i, lowerName)) {
                n++;
            }
        }
        return n;
    }

    /** The value of the first live field named {@code lowerName}, or null. Allocates a String. */
    public String get(AsciiString lowerName) {
        int i = indexOf(lowerName, 0);
        return i < 0 ? null : valueString(i);
    }

    /** Field {@code i}'s name as a view over the bytes (no copy; valid while the head is not edited). */
    public AsciiString name(int i) {
        int o = i * FIELD_INTS;
        return new AsciiString(bytes, fields[o + LINE_START], fields[o + NAME_END] - fields[o + LINE_START], false);
    }

    /** Field {@code i}'s value (without surrounding whitespace) as a view over the bytes. */
    public AsciiString value(int i) {
        int o = i * FIELD_INTS;
        return new AsciiString(bytes, fields[o + VALUE_START], fields[o + VALUE_END] - fields[o + VALUE_START], false);
    }

    /** Field {@code i}'s value as a String (ISO-8859-1, as HTTP field values are octets). */
    public String valueString(int i) {
        int o = i * FIELD_INTS;
        return new String(bytes, 0, fields[o + VALUE_START], fields[o + VALUE_END] - fields[o + VALUE_START]);
    }

    /** True when field {@code i}'s whole value is {@code lower}, ignoring case. */
    public boolean valueEqualsIgnoreCase(int i, AsciiString lower) {
        int o = i * FIELD_INTS;
        int s = fields[o + VALUE_START];
        int e = fields[o + VALUE_END];
        return e - s == lower.length() && rangeEquals(s, e, lower, true);
    }

    /**
     * True when field {@code i}'s value, read as a comma-separated list (RFC 9110 5.6.1), has the
     * element {@code lowerToken}, ignoring case and the whitespace around elements.
     */
    public boolean valueHasToken(int i, AsciiString lowerToken) {
        int o = i * FIELD_INTS;
        int end = fields[o + VALUE_END];
        for (long t = nextToken(i, fields[o + VALUE_START]); t >= 0; t = nextToken(i, tokenEnd(t))) {
            int s = tokenStart(t);
            int e = tokenEnd(t);
            if (e - s == lowerToken.length() && rangeEquals(s, e, lowerToken, true)) {
                return true;
            }
            if (e >= end) {
                break;
            }
        }
        return false;
    }

    /** True when any live field named {@code lowerName} has the list element {@code lowerToken}. */
    public boolean hasToken(AsciiString lowerName, AsciiString lowerToken) {
        for (int i = indexOf(lowerName, 0); i >= 0; i = indexOf(lowerName, i + 1)) {
            if (valueHasToken(i, lowerToken)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The next non-empty list element of field {@code i}'s value at or after byte offset
     * {@code from}, packed as {@code start << 32 | end} (byte offsets, whitespace trimmed), or -1.
     * Zero-allocation iteration: {@code for (long t = nextToken(i, valueStart(i)); t >= 0;
     * t = nextToken(i, tokenEnd(t)))}.
     */
    public long nextToken(int i, int from) {
        int o = i * FIELD_INTS;
        int end = fields[o + VALUE_END];
        int p = Math.max(from, fields[o + VALUE_START]);
        while (p < end) {
            while (p < end && (bytes[p] == ',' || bytes[p] == ' ' || bytes[p] == '\t')) {
                p++;
            }
            int s = p;
            while (p < end && bytes[p] != ',') {
                p++;
            }
            int e = p;
            while (e > s && (bytes[e - 1] == ' ' || bytes[e - 1] == '\t')) {
                e--;
            }
            if (e > s) {
                return (long) s << 32 | e;
            }
        }
        return -1;
    }

    /** Byte offset of field {@code i}'s value (whitespace trimmed), for walking it with {@link #byteAt}. */
    public int valueStart(int i) {
        return fields[i * FIELD_INTS + VALUE_START];
    }

    /** Byte offset just after field {@code i}'s value (whitespace trimmed). */
    public int valueEnd(int i) {
        return fields[i * FIELD_INTS + VALUE_END];
    }

    /**
     * The head's byte at {@code offset}, an offset this index gave ({@link #valueStart},
     * {@link #valueEnd}, {@link #tokenStart}): rules that read a value byte by byte do so without a copy.
     */
    public byte byteAt(int offset) {
        if (offset < 0 || offset >= length) {
            throw new IndexOutOfBoundsException(offset);
        }
        return bytes[offset];
    }

    /**
     * Bytes of the start line and field lines as stored: for a head a decoder made, before any
     * edit, its size on the wire less the blank line's two. Edits change it.
     */
    public int storedLength() {
        return length;
    }

    /** Number of fields not removed. */
    public int liveSize() {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (fields[i * FIELD_INTS + LINE_END] >= 0) {
                n++;
            }
        }
        return n;
    }

    public static int tokenStart(long token) {
        return (int) (token >>> 32);
    }

    public static int tokenEnd(long token) {
        return (int) token;
    }

    /** True when the bytes {@code [start, end)} (a token) equal {@code lower}, ignoring case. */
    public boolean tokenIs(long token, AsciiString lower) {
        int s = tokenStart(token);
        int e = tokenEnd(token);
        return e - s == lower.length() && rangeEquals(s, e, lower, true);
    }

    /** True when live field {@code i}'s name equals the bytes of {@code token}, ignoring case. */
    public boolean nameEqualsToken(int i, long token) {
        int o = i * FIELD_INTS;
        if (fields[o + LINE_END] < 0) {
            return false;
        }
        int ns = fields[o + LINE_START];
        int len = fields[o + NAME_END] - ns;
        int ts = tokenStart(token);
        if (tokenEnd(token) - ts != len) {
            return false;
        }
        for (int k = 0; k < len; k++) {
            if (lower(bytes[ns + k]) != lower(bytes[ts + k])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Field {@code i}'s value as a non-negative decimal number, or -1 when it is not one (empty,
     * a sign, other characters, more than 18 digits).
     */
    public long longValue(int i) {
        int o = i * FIELD_INTS;
        int s = fields[o + VALUE_START];
        int e = fields[o + VALUE_END];
        if (e == s || e - s > 18) {
            return -1;
        }
        long v = 0;
        for (int p = s; p < e; p++) {
            int d = bytes[p] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    // ---- edits -------------------------------------------------------------------------------

    /** Marks field {@code i} removed: it is skipped by every read and by the writers. */
    public void remove(int i) {
        int o = i * FIELD_INTS;
        if (fields[o + LINE_END] >= 0) {
            fields[o + LINE_END] = -fields[o + LINE_END] - 1;
            fieldChanged(fields[o + LINE_START], fields[o + NAME_END]);
        }
    }

    /** Removes every live field named {@code lowerName}; returns how many. */
    public int removeAll(AsciiString lowerName) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (nameIs(i, lowerName)) {
                remove(i);
                n++;
            }
        }
        return n;
    }

    /** Appends the field {@code name: value}. */
    public void add(CharSequence name, CharSequence value) {
        beginField(name);
        appendText(value);
        endField();
    }

    /** Replaces every field named {@code lowerName} with one {@code name: value}. */
    public void set(AsciiString lowerName, CharSequence name, CharSequence value) {
        removeAll(lowerName);
        add(name, value);
    }

    private int pendingStart = -1;
    private int pendingNameEnd;
    private int pendingValueStart;

    /**
     * Starts appending a field whose value is then built from parts ({@link #appendValueOf},
     * {@link #appendText}) and ended with {@link #endField}: e.g. {@code X-Forwarded-For} joining
     * the values received with the client's address, without a String in between.
     */
    public void beginField(CharSequence name) {
        if (pendingStart >= 0) {
            throw new IllegalStateException("a field is being appended already");
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty field name");
        }
        ensure(name.length() + 2);
        pendingStart = length;
        for (int k = 0; k < name.length(); k++) {
            char c = name.charAt(k);
            if (c <= 0x20 || c >= 0x7f || c == ':') {
                pendingStart = -1;
                throw new IllegalArgumentException("invalid character in field name " + name);
            }
            bytes[length++] = (byte) c;
        }
        pendingNameEnd = length;
        bytes[length++] = ':';
        bytes[length++] = ' ';
        pendingValueStart = length;
    }

    /** Appends field {@code i}'s value (as received) to the field being appended. */
    public void appendValueOf(int i) {
        checkPending();
        int o = i * FIELD_INTS;
        int s = fields[o + VALUE_START];
        int n = fields[o + VALUE_END] - s;
        ensure(n);
        System.arraycopy(bytes, s, bytes, length, n); // (bytes may have moved in ensure: copy after)
        length += n;
    }

    /**
     * Appends text to the field being appended. Characters outside ISO-8859-1, and CR, LF and NUL
     * (which would end the field and start another: response splitting), are refused.
     */
    public void appendText(CharSequence text) {
        checkPending();
        ensure(text.length());
        for (int k = 0; k < text.length(); k++) {
            char c = text.charAt(k);
            if (c == '\r' || c == '\n' || c == 0 || c > 0xff) {
                length = pendingStart;
                pendingStart = -1;
                throw new IllegalArgumentException("invalid character in a field value");
            }
            bytes[length++] = (byte) c;
        }
    }

    /**
     * Appends {@code v} as 16 lower-case hex digits to the field being appended: a generated
     * identifier without a String in between.
     */
    public void appendHex(long v) {
        checkPending();
        ensure(16);
        for (int shift = 60; shift >= 0; shift -= 4) {
            bytes[length++] = HEX[(int) (v >>> shift) & 0xf];
        }
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Ends the field begun with {@link #beginField}. */
    public void endField() {
        checkPending();
        int valueEnd = length;
        while (valueEnd > pendingValueStart && (bytes[valueEnd - 1] == ' ' || bytes[valueEnd - 1] == '\t')) {
            valueEnd--;
        }
        ensure(2);
        bytes[length++] = '\r';
        bytes[length++] = '\n';
        if ((count + 1) * FIELD_INTS > fields.length) {
            fields = Arrays.copyOf(fields, Math.max(8, count * 2) * FIELD_INTS);
        }
        int o = count * FIELD_INTS;
        fields[o + LINE_START] = pendingStart;
        fields[o + NAME_END] = pendingNameEnd;
        fields[o + VALUE_START] = pendingValueStart;
        fields[o + VALUE_END] = valueEnd;
        fields[o + LINE_END] = length;
        count++;
        pendingStart = -1;
        fieldChanged(fields[o + LINE_START], fields[o + NAME_END]);
    }

    private void checkPending() {
        if (pendingStart < 0) {
            throw new IllegalStateException("no field is being appended");
        }
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more + 64));
        }
    }

    // ---- writing -----------------------------------------------------------------------------

    /** An upper bound of the bytes {@link #writeRequest} or {@link #writeResponse} write. */
    public int encodedLengthBound() {
        return length + (newTarget == null ? 0 : newTarget.length()) + 32;
    }

    /** Writes the head as an HTTP/1.1 request: request line, live fields, blank line. */
    public void writeRequest(ByteBuf out) {
        if (kind != Kind.REQUEST) {
            throw new IllegalStateException("not a request head");
        }
        out.writeBytes(bytes, 0, methodEnd);
        out.writeByte(' ');
        if (newTarget != null) {
            out.writeCharSequence(newTarget, java.nio.charset.StandardCharsets.US_ASCII);
        } else {
            out.writeBytes(bytes, targetStart, targetEnd - targetStart);
        }
        out.writeBytes(HTTP_1_1);
        writeFields(out);
    }

    /**
     * Writes the head as a response of HTTP version {@code 1.minorVersion}: status line (the
     * reason phrase as received), live fields, blank line.
     */
    public void writeResponse(ByteBuf out, int minorVersion) {
        if (kind != Kind.RESPONSE) {
            throw new IllegalStateException("not a response head");
        }
        out.writeBytes(minorVersion == 0 ? HTTP_1_0_SP : HTTP_1_1_SP);
        out.writeByte('0' + status / 100);
        out.writeByte('0' + status / 10 % 10);
        out.writeByte('0' + status % 10);
        out.writeByte(' ');
        out.writeBytes(bytes, reasonStart, reasonEnd - reasonStart);
        out.writeBytes(CRLF);
        writeFields(out);
    }

    private static final byte[] HTTP_1_0_SP = "HTTP/1.0 ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] HTTP_1_1_SP = "HTTP/1.1 ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Writes the live field lines and the blank line (a trailer section is written this way too). */
    public void writeFields(ByteBuf out) {
        int runStart = -1;
        int runEnd = -1;
        for (int i = 0; i < count; i++) {
            int o = i * FIELD_INTS;
            int end = fields[o + LINE_END];
            if (end < 0) {
                continue;
            }
            int start = fields[o + LINE_START];
            if (start == runEnd) {
                runEnd = end; // contiguous with the run: one copy for both
            } else {
                if (runStart >= 0) {
                    out.writeBytes(bytes, runStart, runEnd - runStart);
                }
                runStart = start;
                runEnd = end;
            }
        }
        if (runStart >= 0) {
            out.writeBytes(bytes, runStart, runEnd - runStart);
        }
        out.writeBytes(CRLF);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private boolean rangeEquals(int start, int end, AsciiString other, boolean ignoreCase) {
        for (int k = 0, p = start; p < end; k++, p++) {
            byte a = bytes[p];
            byte b = other.byteAt(k);
            if (a != b && (!ignoreCase || lower(a) != b)) {
                return false;
            }
        }
        return true;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    private static int putAscii(byte[] b, int at, CharSequence s) {
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c < 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("invalid character in a start line");
            }
            b[at++] = (byte) c;
        }
        return at;
    }

    /** For logs and tests: the head as HTTP/1.1 text. */
    @Override
    public String toString() {
        ByteBuf out = io.netty.buffer.Unpooled.buffer(encodedLengthBound());
        switch (kind) {
            case REQUEST -> writeRequest(out);
            case RESPONSE -> writeResponse(out, minorVersion);
            case TRAILERS -> writeFields(out);
        }
        String s = out.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        out.release();
        return s;
    }
}
