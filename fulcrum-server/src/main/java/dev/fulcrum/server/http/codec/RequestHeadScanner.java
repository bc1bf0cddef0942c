package dev.fulcrum.server.http.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

/**
 * Checks the raw bytes of one request head against the RFC 9112 grammar before Netty parses it,
 * for the leniencies Netty's decoder keeps even in strict mode: it splits the request line on any
 * run of whitespace (so {@code GET  /}, {@code GET\t/} and a CR inside the line pass), accepts any
 * {@code HTTP/x.y} version in any case, and silently joins obsolete line folding into the previous
 * value. Those differences between what Fulcrum and a backend believe the head says are what
 * request smuggling exploits, so they are refused here; the remaining checks (header names,
 * values, line endings) are repeated because one pass over the bytes gives each case its own
 * message for free.
 *
 * <p>Grammar enforced (all lines end with CRLF; a bare CR or a bare LF is an error):
 * <pre>
 *   *( CRLF )                                   empty lines before a request are ignored (§2.2)
 *   method SP request-target SP HTTP/1.(0|1) CRLF    method = token, target = 1*( %x21-7E )
 *   *( token ":" *( SP / HTAB / VCHAR / obs-text ) CRLF )   no folding, no space before ":"
 *   CRLF
 * </pre>
 *
 * <p>Incremental: {@link #scan(ByteBuf)} resumes where it stopped, so a head trickling in byte by
 * byte costs one pass in total. Not thread-safe: one per connection, on its event loop.
 */
final class RequestHeadScanner implements ByteProcessor {

    private static final boolean[] TCHAR = HeadParser.TCHAR;

    private static final byte[] VERSION_PREFIX = {'H', 'T', 'T', 'P', '/', '1', '.'};
    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final String REQUEST_LINE = "request line is not METHOD SP request-target SP HTTP/1.x";

    private enum State {
        LEADING, LEADING_LF, METHOD, TARGET_START, TARGET, VERSION, REQUEST_LINE_CR, LINE_LF, LINE_START,
        NAME, VALUE, END_LF, DONE
    }

    private final int maxHeaderBytes;
    private State state = State.LEADING;
    private int versionIndex;
    private int scanned;
    private BadRequestException failure;

    RequestHeadScanner(int maxHeaderBytes) {
        this.maxHeaderBytes = maxHeaderBytes;
    }

    /** Forgets the last head: the next byte is the start of a new request. */
    void reset() {
        state = State.LEADING;
        scanned = 0;
        failure = null;
    }

    /**
     * Scans the bytes of {@code in} not seen yet (from {@code readerIndex + scanned}); does not move
     * the reader index.
     *
     * @return true when the whole head (through its blank line) is in {@code in} and valid; false
     *         when more bytes are needed
     * @throws BadRequestException on the first violation, or 431 when the head exceeds the limit
     */
    boolean scan(ByteBuf in) {
        int available = in.readableBytes() - scanned;
        int budget = maxHeaderBytes - scanned;
        int length = Math.min(available, budget);
        if (length > 0) {
            int stop = in.forEachByte(in.readerIndex() + scanned, length, this);
            if (failure != null) {
                throw failure;
            }
            scanned = stop < 0 ? scanned + length : stop - in.readerIndex() + 1;
        }
        if (state == State.DONE) {
            return true;
        }
        if (scanned >= maxHeaderBytes) {
            throw new BadRequestException(431, "request head larger than " + maxHeaderBytes + " bytes");
        }
        return false;
    }

    @Override
    public boolean process(byte value) {
        int b = value & 0xff;
        switch (state) {
            case LEADING -> {
                if (value == CR) {
                    state = State.LEADING_LF;
                } else if (TCHAR[b]) {
                    state = State.METHOD;
                } else {
                    return fail(value == LF ? bareLf() : REQUEST_LINE);
                }
            }
            case LEADING_LF -> {
                if (value != LF) {
                    return fail(bareCr());
                }
                state = State.LEADING;
            }
            case METHOD -> {
                if (value == ' ') {
                    state = State.TARGET_START;
                } else if (!TCHAR[b]) {
                    return fail(lineEnd(value, REQUEST_LINE));
                }
            }
            case TARGET_START, TARGET -> {
                if (value == ' ' && state == State.TARGET) {
                    state = State.VERSION;
                    versionIndex = 0;
                } else if (b >= 0x21 && b <= 0x7e) {
                    state = State.TARGET;
                } else if (b >= 0x80) {
                    return fail("invalid character in request-target");
                } else {
                    return fail(lineEnd(value, REQUEST_LINE));
                }
            }
            case VERSION -> {
                boolean ok = versionIndex < VERSION_PREFIX.length
                        ? value == VERSION_PREFIX[versionIndex]
                        : value == '0' || value == '1';
                if (!ok) {
                    return fail(value == ' ' || value == CR || value == LF
                            ? lineEnd(value, REQUEST_LINE) : "HTTP version is not HTTP/1.0 or HTTP/1.1");
                }
                if (++versionIndex == VERSION_PREFIX.length + 1) {
                    state = State.REQUEST_LINE_CR;
                }
            }
            case REQUEST_LINE_CR -> {
                if (value != CR) {
                    return fail(value == LF ? bareLf() : REQUEST_LINE);
                }
                state = State.LINE_LF;
            }
            case LINE_LF -> {
                if (value != LF) {
                    return fail(bareCr());
                }
                state = State.LINE_START;
            }
            case LINE_START -> {
                if (value == CR) {
                    state = State.END_LF;
                } else if (TCHAR[b]) {
                    state = State.NAME;
                } else if (value == ' ' || value == '\t') {
                    return fail("obsolete line folding (header line starts with whitespace)");
                } else if (value == ':') {
                    return fail("empty header name");
                } else {
                    return fail(value == LF ? bareLf() : "invalid character in header name");
                }
            }
            case NAME -> {
                if (value == ':') {
                    state = State.VALUE;
                } else if (value == ' ' || value == '\t') {
                    return fail("whitespace between header name and colon");
                } else if (value == CR || value == LF) {
                    return fail("header line without a colon");
                } else if (!TCHAR[b]) {
                    return fail("invalid character in header name");
                }
            }
            case VALUE -> {
                if (value == CR) {
                    state = State.LINE_LF;
                } else if (value == LF) {
                    return fail(bareLf());
                } else if ((b < 0x20 && value != '\t') || b == 0x7f) {
                    return fail("control character in header value");
                }
            }
            case END_LF -> {
                if (value != LF) {
                    return fail(bareCr());
                }
                state = State.DONE;
                return false;
            }
            case DONE -> {
                return false;
            }
        }
        return true;
    }

    private static String lineEnd(byte value, String otherwise) {
        if (value == CR) {
            return otherwise;
        }
        return value == LF ? bareLf() : otherwise;
    }

    private static String bareLf() {
        return "line ended by LF without CR";
    }

    private static String bareCr() {
        return "CR not followed by LF";
    }

    private boolean fail(String message) {
        failure = BadRequestException.badRequest(message);
        return false;
    }
}
