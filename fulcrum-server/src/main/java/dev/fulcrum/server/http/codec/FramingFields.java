package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageHead;

import static io.netty.handler.codec.http.HttpHeaderNames.CONNECTION;
import static io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH;
import static io.netty.handler.codec.http.HttpHeaderNames.TRANSFER_ENCODING;
import static io.netty.handler.codec.http.HttpHeaderValues.CHUNKED;

/**
 * The framing fields of a head, {@code Content-Length} and {@code Transfer-Encoding}, read on the
 * index (RFC 9112 §6): the rules both decoders share. Refused, because two readers could frame the
 * body differently: both fields together, more than one {@code Content-Length} (a list counts as
 * more than one, even of equal values), a value that is not 1 to 18 digits, and any transfer
 * coding but {@code chunked} applied once (case-insensitive); and, because the rewrite reads it
 * against every field, a Connection list of more than {@value #MAX_CONNECTION_OPTIONS} options. Stateless.
 */
final class FramingFields {

    /**
     * Most options a head's Connection fields may list together ({@code close}, {@code keep-alive},
     * {@code upgrade} and names of fields to remove at this hop): the rewrite compares every option
     * with every field, so both counts are bounded ({@link HeadParser#MAX_FIELDS}).
     */
    static final int MAX_CONNECTION_OPTIONS = 32;

    private FramingFields() {
    }

    /**
     * Counts the Connection options and records what they say ({@link MessageHead#connectionOptions}):
     * the one read of Connection that keep-alive, upgrade and the hop-by-hop rewrite use.
     */
    private static String checkConnection(MessageHead head) {
        int options = 0;
        int bits = 0;
        for (int c = head.indexOf(CONNECTION); c >= 0; c = head.indexOf(CONNECTION, c + 1)) {
            for (long t = head.nextToken(c, head.valueStart(c)); t >= 0; t = head.nextToken(c, MessageHead.tokenEnd(t))) {
                if (++options > MAX_CONNECTION_OPTIONS) {
                    return "Connection lists more than " + MAX_CONNECTION_OPTIONS + " options";
                }
                bits |= head.connectionOption(t);
            }
        }
        head.recordConnectionOptions(bits);
        return null;
    }

    /**
     * Checks the framing fields of {@code head} and records the framing they declare with
     * {@link MessageHead#setFraming}.
     *
     * @return null when they are sound, else the one-line reason
     */
    static String check(MessageHead head) {
        String connection = checkConnection(head);
        if (connection != null) {
            return connection;
        }
        int contentLength = -1;
        int lengths = 0;
        boolean transferEncoding = false;
        for (int i = 0; i < head.size(); i++) {
            if (head.nameIs(i, CONTENT_LENGTH)) {
                contentLength = i;
                lengths++;
            } else if (head.nameIs(i, TRANSFER_ENCODING)) {
                transferEncoding = true;
            }
        }
        if (lengths > 1 || (lengths == 1 && hasComma(head, contentLength))) {
            return "more than one Content-Length";
        }
        if (lengths == 1 && transferEncoding) {
            return "both Content-Length and Transfer-Encoding";
        }
        long length = -1;
        if (lengths == 1) {
            length = head.longValue(contentLength);
            if (length < 0) {
                return "invalid Content-Length value";
            }
        }
        if (transferEncoding) {
            String coding = checkCodings(head);
            if (coding != null) {
                return coding;
            }
        }
        head.setFraming(length, transferEncoding);
        return null;
    }

    private static boolean hasComma(MessageHead head, int i) {
        for (int p = head.valueStart(i); p < head.valueEnd(i); p++) {
            if (head.byteAt(p) == ',') {
                return true;
            }
        }
        return false;
    }

    /** Every element of every Transfer-Encoding list, empty ones included, must be chunked, once in all. */
    private static String checkCodings(MessageHead head) {
        int chunked = 0;
        for (int i = head.indexOf(TRANSFER_ENCODING); i >= 0; i = head.indexOf(TRANSFER_ENCODING, i + 1)) {
            int end = head.valueEnd(i);
            int start = head.valueStart(i);
            while (start <= end) {
                int comma = start;
                while (comma < end && head.byteAt(comma) != ',') {
                    comma++;
                }
                int s = start;
                int e = comma;
                while (s < e && isSpace(head.byteAt(s))) {
                    s++;
                }
                while (e > s && isSpace(head.byteAt(e - 1))) {
                    e--;
                }
                if (!head.tokenIs((long) s << 32 | e, CHUNKED)) {
                    return "Transfer-Encoding other than chunked";
                }
                chunked++;
                start = comma + 1;
            }
        }
        return chunked > 1 ? "chunked applied more than once" : null;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }
}
