package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Turns the header block of an HTTP/2 request (or its trailers) into HTTP/1.1 bytes for the
 * listener's {@code RequestDecoder}, after the RFC 9113 checks Netty does not make. Netty's
 * decoder already refuses (tested in {@code Http2ConformanceIT}): uppercase or non-token names,
 * unknown, duplicate or misplaced pseudo-headers (after a regular field, in trailers), missing
 * {@code :method}, {@code :scheme} or {@code :path}, connection-specific fields, {@code te} other
 * than {@code trailers}, and a {@code content-length} that the DATA frames do not add up to. Here:
 * values with CR, LF or NUL or with leading or trailing whitespace (§8.2.1), a {@code :scheme}
 * other than http or https, a {@code :path} that is not origin-form (or {@code *} for OPTIONS), a
 * {@code :path} or {@code :authority} that would not survive the request line (whitespace,
 * controls; userinfo in the authority, §8.3.1).
 *
 * <p>The request line is {@code :method :path HTTP/1.1} ({@code CONNECT :authority HTTP/1.1},
 * which the decoder answers 405); {@code Host} is {@code :authority} when present (it wins over
 * a {@code host} field, §8.3.1), so routes match it. A body that may follow is framed by the
 * client's {@code content-length} when it sent one, else chunked, so trailers can follow.
 * {@code cookie} fields are joined with "; " (§8.2.3). Stateless.
 */
final class Http2Requests {

    private static final byte[] HTTP_1_1_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COLON_SP = {':', ' '};
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n'};

    private Http2Requests() {
    }

    /** A request RFC 9113 forbids: its stream is reset with PROTOCOL_ERROR; the message says why (for the log). */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** How the HTTP/1.1 rendering frames the body: none (the HEADERS ended the stream), by length, or chunked. */
    enum Body { NONE, LENGTH, CHUNKED }

    /** How {@code headers} frame the body when {@code endStream} is as given. */
    static Body body(Http2Headers headers, boolean endStream) {
        if (endStream) {
            return Body.NONE;
        }
        return headers.contains(HttpHeaderNames.CONTENT_LENGTH) ? Body.LENGTH : Body.CHUNKED;
    }

    /**
     * Writes {@code headers} as an HTTP/1.1 request head into {@code out}.
     *
     * @throws Refused when the request breaks a rule of RFC 9113 Netty leaves to us
     */
    static void writeHead(Http2Headers headers, Body body, ByteBuf out) throws Refused {
        CharSequence method = headers.method();
        CharSequence authority = headers.authority();
        if (method == null) {
            throw new Refused("no :method");
        }
        boolean connect = HttpMethod.CONNECT.asciiName().contentEquals(method);
        CharSequence target;
        if (connect) {
            // RFC 9113 §8.5: only :method and :authority; the decoder answers a CONNECT 405
            if (authority == null || headers.path() != null || headers.scheme() != null) {
                throw new Refused("CONNECT takes :authority and no :scheme or :path");
            }
            target = authority;
        } else {
            CharSequence scheme = headers.scheme();
            if (scheme == null || !(AsciiString.contentEqualsIgnoreCase(scheme, "https")
                    || AsciiString.contentEqualsIgnoreCase(scheme, "http"))) {
                throw new Refused(":scheme is not http or https");
            }
            target = headers.path();
            if (target == null || target.isEmpty()) {
                throw new Refused("no :path");
            }
            // origin form, or "*" for OPTIONS (§8.3.1): an absolute form would carry a second
            // authority that HTTP/1.1 rules prefer to Host, and routing must see :authority only
            boolean asterisk = target.length() == 1 && target.charAt(0) == '*'
                    && HttpMethod.OPTIONS.asciiName().contentEquals(method);
            if (target.charAt(0) != '/' && !asterisk) {
                throw new Refused(":path is not an origin-form target");
            }
        }
        CharSequence length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        if (body == Body.NONE && length != null && !AsciiString.contentEquals(length, "0")) {
            // no DATA can follow END_STREAM, so the DATA adds up to 0 (§8.1.1): the decoder would
            // otherwise wait for a body that cannot come
            throw new Refused("content-length " + length + " on a request without DATA");
        }
        requestLinePart(method, ":method");
        requestLinePart(target, ":path");
        if (authority != null) {
            requestLinePart(authority, ":authority");
            if (authority.isEmpty() || AsciiString.indexOf(authority, '@', 0) >= 0) {
                throw new Refused(":authority is empty or has userinfo");
            }
        }
        Http2Fields.write(out, method);
        out.writeByte(' ');
        Http2Fields.write(out, target);
        out.writeBytes(HTTP_1_1_CRLF);
        if (authority != null) {
            Http2Fields.write(out, HttpHeaderNames.HOST);
            out.writeBytes(COLON_SP);
            Http2Fields.write(out, authority);
            out.writeBytes(CRLF);
        }
        StringBuilder cookies = null;
        for (Map.Entry<CharSequence, CharSequence> field : headers) {
            CharSequence name = field.getKey();
            if (Http2Headers.PseudoHeaderName.hasPseudoHeaderFormat(name)) {
                continue;
            }
            CharSequence value = field.getValue();
            checkValue(name, value);
            if (authority != null && HttpHeaderNames.HOST.contentEquals(name)) {
                continue; // :authority wins (§8.3.1)
            }
            if (HttpHeaderNames.COOKIE.contentEquals(name)) {
                cookies = cookies == null ? new StringBuilder(value) : cookies.append("; ").append(value);
                continue;
            }
            Http2Fields.writeLine(out, name, value);
        }
        if (cookies != null) {
            Http2Fields.writeLine(out, HttpHeaderNames.COOKIE, cookies);
        }
        if (body == Body.CHUNKED) {
            out.writeBytes(CHUNKED);
        }
        out.writeBytes(CRLF);
    }

    /** Writes the end of a chunked body: the last chunk, {@code trailers} (null: none) and the blank line. */
    static void writeChunkedEnd(Http2Headers trailers, ByteBuf out) throws Refused {
        out.writeBytes(LAST_CHUNK);
        if (trailers != null) {
            checkTrailers(trailers);
            for (Map.Entry<CharSequence, CharSequence> field : trailers) {
                Http2Fields.writeLine(out, field.getKey(), field.getValue());
            }
        }
        out.writeBytes(CRLF);
    }

    /** Trailers of a body framed by content-length go nowhere in HTTP/1.1; they are still checked. */
    static void checkTrailers(Http2Headers trailers) throws Refused {
        for (Map.Entry<CharSequence, CharSequence> field : trailers) {
            checkValue(field.getKey(), field.getValue());
        }
    }

    /** RFC 9113 §8.2.1: no NUL, CR or LF; no whitespace at either end. */
    static void checkValue(CharSequence name, CharSequence value) throws Refused {
        if (Http2Fields.hasBlankAtAnEnd(value)) {
            throw new Refused("field " + name + " has whitespace at an end of its value");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == 0 || c == '\r' || c == '\n') {
                throw new Refused("field " + name + " has NUL, CR or LF in its value");
            }
        }
    }

    /** A request-line part: no whitespace, no control, nothing beyond ASCII (it must not split the line). */
    private static void requestLinePart(CharSequence part, String name) throws Refused {
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new Refused(name + " has a space, a control or a byte beyond ASCII");
            }
        }
    }

}
