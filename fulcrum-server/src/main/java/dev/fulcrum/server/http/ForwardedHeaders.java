package dev.fulcrum.server.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;

import dev.fulcrum.server.http.message.MessageHead;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Rewrites message heads as they cross the proxy (RFC 9110 7.6.1) — the one place that decides
 * what is hop-by-hop: Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
 * Upgrade, HTTP2-Settings and the headers the Connection header names are removed, framing is
 * re-declared for the next hop, and requests get {@code X-Forwarded-For}/{@code -Proto}/{@code -Host}
 * and a {@code Via} entry naming this instance (loop detection). Host is kept as the client sent it.
 *
 * <p>A peer may name any header in Connection, but not every header may go: the ones that frame
 * the message (Content-Length), route it (Host) or that Fulcrum itself sets ({@link #PROTECTED})
 * are never removed that way — framing was decided from them before the rewrite, and a head sent
 * on without them would frame the body differently at the next hop (request smuggling, response
 * splitting). HAProxy and nginx keep them too.
 *
 * <p>Trailers lose the fields that must not be trailers (RFC 9110 6.5.1): {@link #filterTrailers}.
 *
 * <p>Works on {@link MessageHead}: reads the index and edits by splicing, without a String, list
 * or split per field (no allocation for a typical request when the head's arrays have room for the
 * appended fields). Framing is read from the
 * head's fields (as {@code HttpUtil} does) or from what the decoder recorded
 * ({@link MessageHead#isChunked()}, {@link MessageHead#contentLength()}). Stateless.
 */
final class ForwardedHeaders {

    private static final List<CharSequence> HOP_BY_HOP = List.of(HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
            "HTTP2-Settings");

    /** Never removed because Connection names them (lower case). */
    private static final Set<String> PROTECTED = Set.of("content-length", "host", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "via", "forwarded", "x-request-id", "set-cookie");

    /**
     * Fields dropped from trailers (lower case), RFC 9110 6.5.1: framing, routing, authentication,
     * request modifiers, response control and content format are decided from the head; a trailer
     * carrying one would be read by a lenient peer as if it had been in the head.
     */
    private static final Set<String> NOT_TRAILERS = Set.of("host", "content-length", "transfer-encoding",
            "trailer", "te", "connection", "keep-alive", "proxy-connection", "upgrade", "http2-settings",
            "content-type", "content-encoding", "content-range", "content-location", "content-language",
            "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie",
            "set-cookie", "expect", "max-forwards", "range", "if-match", "if-none-match", "if-modified-since",
            "if-unmodified-since", "if-range", "cache-control", "pragma", "age", "expires", "date", "location",
            "retry-after", "vary", "via", "forwarded", "x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-host", "x-request-id");

    // the same sets as lower-case names for MessageHead's index
    private static final AsciiString[] HOP_BY_HOP_NAMES = HOP_BY_HOP.stream()
            .map(n -> AsciiString.cached(n.toString().toLowerCase(Locale.ROOT))).toArray(AsciiString[]::new);
    private static final AsciiString[] PROTECTED_NAMES = PROTECTED.stream().map(AsciiString::cached)
            .toArray(AsciiString[]::new);
    private static final AsciiString[] NOT_TRAILER_NAMES = NOT_TRAILERS.stream().map(AsciiString::cached)
            .toArray(AsciiString[]::new);
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

    private ForwardedHeaders() {
    }

    /**
     * The {@code received-by} pseudonym of an instance name: a token (RFC 9110 5.6.2), so a name
     * with other characters cannot break the Via syntax.
     */
    static String viaName(String instanceName) {
        StringBuilder b = new StringBuilder(instanceName.length());
        for (int i = 0; i < instanceName.length(); i++) {
            char c = instanceName.charAt(i);
            b.append(c < 128 && (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0) ? c : '-');
        }
        return b.isEmpty() ? "fulcrum" : b.toString();
    }

    // ---- the same rules on heads as bytes ----------------------------------------------------

    /**
     * {@code HttpUtil.isKeepAlive} on a head as bytes, request or response: no {@code close} in
     * Connection, and for HTTP/1.0 a {@code keep-alive} there. Read it before the rewrite removes
     * Connection.
     */
    static boolean isKeepAlive(MessageHead head) {
        int options = head.connectionOptions(); // read once, by the decoder
        return (options & MessageHead.CONNECTION_CLOSE) == 0
                && (head.minorVersion() >= 1 || (options & MessageHead.CONNECTION_KEEP_ALIVE) != 0);
    }

    /**
     * True when the client asks to switch to WebSocket: a GET with {@code Connection: upgrade} and
     * {@code Upgrade: websocket}. No other protocol is passed on: an {@code Upgrade: h2c} that a
     * server accepted would turn the connection into a tunnel of raw bytes that bypass every check
     * of Fulcrum's (h2c smuggling); such a request goes on as a plain request without its Upgrade.
     */
    static boolean isUpgrade(MessageHead request) {
        return request.method() == HttpMethod.GET && request.minorVersion() == 1
                && (request.connectionOptions() & MessageHead.CONNECTION_UPGRADE) != 0
                && request.hasToken(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    }

    /**
     * True when the request already passed through the instance called {@code name}: a {@code Via}
     * entry received by that name (RFC 9110 7.6.3). A pool that lists one of the instance's own
     * listeners would otherwise send the request round until a limit stops it, one connection per
     * turn. Each Via list element is read in place ({@code protocol received-by [comment]}, words split by spaces and tabs), the
     * {@code received-by} compared with {@code name} ignoring ASCII case.
     */
    static boolean hasLooped(MessageHead request, String name) {
        for (int v = request.indexOf(HttpHeaderNames.VIA); v >= 0; v = request.indexOf(HttpHeaderNames.VIA, v + 1)) {
            for (long t = request.nextToken(v, request.valueStart(v)); t >= 0;
                 t = request.nextToken(v, MessageHead.tokenEnd(t))) {
                int end = MessageHead.tokenEnd(t);
                int p = MessageHead.tokenStart(t);
                while (p < end && !isSpace(request.byteAt(p))) {
                    p++; // the protocol
                }
                while (p < end && isSpace(request.byteAt(p))) {
                    p++;
                }
                int by = p;
                while (p < end && !isSpace(request.byteAt(p))) {
                    p++;
                }
                if (p > by && equalsIgnoreAsciiCase(request, by, p, name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The request as sent to a server, edited in place:
     * hop-by-hop fields removed, chunked re-declared, a WebSocket upgrade kept, X-Forwarded-For
     * (the values received joined with {@code clientIp}), X-Forwarded-Proto, X-Forwarded-Host
     * (when there is a Host) and Via set; the new fields are appended after the kept ones. The
     * head is then written as HTTP/1.1 ({@link MessageHead#writeRequest}), which keeps the server
     * connection alive whatever the client asked. Read what you need from the head (keep-alive,
     * hash keys, {@link #isUpgrade(MessageHead)}, {@link #hasLooped(MessageHead, String)}, whether
     * it has a Host) before calling this.
     *
     * @param upgrade {@link #isUpgrade(MessageHead)} of the request, which the caller has read
     *     already: passed in so the Upgrade and Connection fields are not scanned again
     * @param http2 the request came on an HTTP/2 stream (its head is an HTTP/1.1 rendering): Via says {@code 2}
     */
    static void toServer(MessageHead request, boolean upgrade, String clientIp, boolean tls, String viaName,
                         boolean http2) {
        boolean chunked = declaresChunked(request);
        int upgradeTo = upgrade ? request.indexOf(HttpHeaderNames.UPGRADE) : -1;
        removeHopByHop(request);
        if (chunked) {
            request.removeAll(HttpHeaderNames.CONTENT_LENGTH);
            request.add("Transfer-Encoding", "chunked");
        }
        if (upgrade) {
            request.add("Connection", "upgrade");
            request.beginField("Upgrade");
            request.appendValueOf(upgradeTo); // removed above, its bytes are still there
            request.endField();
        }
        request.beginField("X-Forwarded-For");
        appendListAndRemove(request, X_FORWARDED_FOR);
        request.appendText(clientIp);
        request.endField();
        request.set(X_FORWARDED_PROTO, "X-Forwarded-Proto", tls ? "https" : "http");
        int host = request.hostIndex(); // (kept by the edits above: they neither remove nor add a Host)
        if (host >= 0) {
            request.removeAll(X_FORWARDED_HOST);
            request.beginField("X-Forwarded-Host");
            request.appendValueOf(host);
            request.endField();
        }
        request.beginField("Via");
        appendListAndRemove(request, HttpHeaderNames.VIA);
        // the protocol version of the request as received (RFC 9110 7.6.3), not of the one sent on
        request.appendText(http2 ? "2 " : request.minorVersion() == 0 ? "1.0 " : "1.1 ");
        request.appendText(viaName);
        request.endField();
        request.setFraming(chunked ? -1 : declaredLength(request), chunked);
    }

    /**
     * The body length a head declares: the decoder's framing, or (a head built by Fulcrum) its
     * first Content-Length field; -1 without one.
     *
     * @throws IllegalStateException when the Content-Length field is not a number (a decoded head never has one)
     */
    static long declaredLength(MessageHead head) {
        if (head.isFramingDecided()) {
            return head.contentLength();
        }
        int i = head.indexOf(HttpHeaderNames.CONTENT_LENGTH);
        if (i < 0) {
            return -1;
        }
        long length = head.longValue(i);
        if (length < 0) {
            throw new IllegalStateException("Content-Length is not a number: " + head.valueString(i));
        }
        return length;
    }

    /**
     * Sets the Host of a request that came without one (HTTP/1.0) to the address of the server it
     * goes to, once per try: a retry on another server replaces the previous try's. Whether the
     * client sent a Host must be read before the first call.
     */
    static void setServerHost(MessageHead request, CharSequence serverAddress) {
        request.set(HttpHeaderNames.HOST, "Host", serverAddress);
    }

    /**
     * Marks a request as the last of its server connection ({@code Connection: close}), or unmarks
     * it, once per try. Not for an upgrade, whose Connection field names the upgrade.
     */
    static void lastOnConnection(MessageHead request, boolean last) {
        if (last) {
            request.set(HttpHeaderNames.CONNECTION, "Connection", HttpHeaderValues.CLOSE);
        } else {
            request.removeAll(HttpHeaderNames.CONNECTION);
        }
    }

    /**
     * The response as sent to the client, edited in
     * place; write it with {@code MessageHead.writeResponse(out, clientMinorVersion)} (or
     * {@link MessageWriter}, which frames the body as the head now declares).
     *
     * @param clientMinorVersion 0 for an HTTP/1.0 client, 1 for HTTP/1.1
     * @param bodyFollows        the response carries a body on the wire to the client (not HEAD, 1xx, 204, 304)
     * @param keepAlive          the client connection stays open after it
     */
    static void toClient(MessageHead response, int clientMinorVersion, boolean bodyFollows, boolean keepAlive) {
        boolean chunked = declaresChunked(response);
        boolean hasLength = declaresLength(response);
        long length = hasLength ? declaredLength(response) : -1;
        removeHopByHop(response);
        boolean chunkedOut = !hasLength && (chunked || bodyFollows) && clientMinorVersion >= 1;
        if (chunkedOut) {
            response.add("Transfer-Encoding", "chunked");
        }
        // from here the head's framing is the client's, not the server's: the writer frames by it
        response.setFraming(length, chunkedOut);
        if (!keepAlive) {
            response.add("Connection", "close");
        } else if (clientMinorVersion == 0) {
            response.add("Connection", "keep-alive");
        }
    }

    /** An HTTP/1.0 client cannot take chunked: a response of unknown length is ended by closing. */
    static boolean needsCloseDelimiting(MessageHead response, int clientMinorVersion, boolean bodyFollows) {
        return bodyFollows && !declaresLength(response) && clientMinorVersion == 0;
    }

    /** An interim (1xx) response for the client, in place: its hop-by-hop fields go. Written as HTTP/1.1. */
    static void interim(MessageHead response) {
        removeHopByHop(response);
    }

    /** A {@code 101 Switching Protocols} for the client, in place: hop-by-hop fields go, the upgrade stays. */
    static void switchingProtocols(MessageHead response) {
        int upgradeTo = response.indexOf(HttpHeaderNames.UPGRADE);
        removeHopByHop(response);
        response.add("Connection", "upgrade");
        if (upgradeTo >= 0) {
            response.beginField("Upgrade");
            response.appendValueOf(upgradeTo);
            response.endField();
        }
    }

    /** Removes, in place, the trailer fields that must not be trailers (RFC 9110 6.5.1); the rest pass on. */
    static void filterTrailers(MessageHead trailers) {
        for (int i = 0; i < trailers.size(); i++) {
            for (AsciiString name : NOT_TRAILER_NAMES) {
                if (trailers.nameIs(i, name)) {
                    trailers.remove(i);
                    break;
                }
            }
        }
    }

    /** Transfer-Encoding with the element chunked, as {@code HttpUtil.isTransferEncodingChunked}, or the decoder's framing. */
    static boolean declaresChunked(MessageHead head) {
        if (head.isFramingDecided()) {
            return head.isChunked(); // decided once, by the decoder or the last rewrite: no field scan per request
        }
        return head.hasToken(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }

    /** A Content-Length field, as {@code HttpUtil.isContentLengthSet}, or the decoder's framing. */
    static boolean declaresLength(MessageHead head) {
        if (head.isFramingDecided()) {
            return head.contentLength() >= 0;
        }
        return head.contains(HttpHeaderNames.CONTENT_LENGTH);
    }

    private static void removeHopByHop(MessageHead h) {
        // keep-alive and upgrade are among the names removed below; close, or any other option,
        // names fields to look for (most heads list keep-alive at most: no scan of the options)
        if ((h.connectionOptions() & (MessageHead.CONNECTION_CLOSE | MessageHead.CONNECTION_OTHER)) != 0) {
            removeNamedByConnection(h);
        }
        for (int i = 0; i < h.size(); i++) {
            for (AsciiString name : HOP_BY_HOP_NAMES) {
                if (h.nameIs(i, name)) {
                    h.remove(i);
                    break;
                }
            }
        }
    }

    /** Removes the fields the Connection options name (RFC 9110 7.6.1), except the protected ones. */
    private static void removeNamedByConnection(MessageHead h) {
        for (int c = h.indexOf(HttpHeaderNames.CONNECTION); c >= 0; c = h.indexOf(HttpHeaderNames.CONNECTION, c + 1)) {
            for (long t = h.nextToken(c, h.valueStart(c)); t >= 0; t = h.nextToken(c, MessageHead.tokenEnd(t))) {
                // hop-by-hop names go below anyway (and removing Connection here would hide the
                // next Connection field's names from this loop); protected ones stay
                if (!tokenIsOneOf(h, t, HOP_BY_HOP_NAMES) && !tokenIsOneOf(h, t, PROTECTED_NAMES)) {
                    for (int i = 0; i < h.size(); i++) {
                        if (h.nameEqualsToken(i, t)) {
                            h.remove(i);
                        }
                    }
                }
            }
        }
    }

    private static boolean tokenIsOneOf(MessageHead h, long token, AsciiString[] names) {
        for (AsciiString name : names) {
            if (h.tokenIs(token, name)) {
                return true;
            }
        }
        return false;
    }

    /** Appends each live {@code lowerName} field's value and ", " to the field being built, and removes the field. */
    private static void appendListAndRemove(MessageHead h, AsciiString lowerName) {
        for (int i = h.indexOf(lowerName); i >= 0; i = h.indexOf(lowerName, i + 1)) {
            h.appendValueOf(i);
            h.appendText(", ");
            h.remove(i);
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }

    private static boolean equalsIgnoreAsciiCase(MessageHead h, int start, int end, String s) {
        if (end - start != s.length()) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            int a = h.byteAt(start + k) & 0xff;
            int b = s.charAt(k);
            if (a != b && lowerAscii(a) != lowerAscii(b)) {
                return false;
            }
        }
        return true;
    }

    private static int lowerAscii(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }
}
