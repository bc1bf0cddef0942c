package dev.fulcrum.server.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
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
 * <p>Each rule exists twice while the data path moves to heads as bytes: on Netty's
 * {@code HttpRequest}/{@code HttpResponse}, and on {@link MessageHead}, where it reads the index
 * and edits by splicing, without a String, list or split per field (no allocation for a typical
 * request when the head's arrays have room for the appended fields). Framing is read from the
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
     * True when the client asks to switch to WebSocket: a GET with {@code Connection: upgrade} and
     * {@code Upgrade: websocket}. No other protocol is passed on: an {@code Upgrade: h2c} that a
     * server accepted would turn the connection into a tunnel of raw bytes that bypass every check
     * of Fulcrum's (h2c smuggling); such a request goes on as a plain request without its Upgrade.
     */
    static boolean isUpgrade(HttpRequest request) {
        return HttpMethod.GET.equals(request.method()) && request.protocolVersion().equals(HttpVersion.HTTP_1_1)
                && request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /**
     * True when the request already passed through the instance called {@code name}: a {@code Via}
     * entry received by that name (RFC 9110 7.6.3: {@code protocol received-by [comment]}). A pool
     * that lists one of the instance's own listeners would otherwise send the request round until a
     * limit stops it, one connection per turn.
     */
    static boolean hasLooped(HttpRequest request, String name) {
        for (String via : request.headers().getAll(HttpHeaderNames.VIA)) {
            for (String entry : via.split(",")) {
                String[] parts = entry.strip().split("[ \t]+", 3);
                if (parts.length >= 2 && parts[1].equalsIgnoreCase(name)) {
                    return true;
                }
            }
        }
        return false;
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

    /**
     * The request as sent to a server: always HTTP/1.1 and keep-alive (Fulcrum pools its server
     * connections whatever the client does), chunked when the client's body was chunked.
     * Rewrites {@code in}'s headers in place (no copy on the request path): read what you need from
     * them (keep-alive, hash keys) before calling this.
     */
    static HttpRequest toServer(HttpRequest in, String clientIp, boolean tls, String viaName) {
        HttpHeaders h = in.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(in);
        boolean upgrade = isUpgrade(in);
        String upgradeTo = h.get(HttpHeaderNames.UPGRADE);
        List<String> before = h.getAll("X-Forwarded-For");
        List<String> via = h.getAll(HttpHeaderNames.VIA);
        removeHopByHop(h);
        if (chunked) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (upgrade) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        h.set("X-Forwarded-For", before.isEmpty() ? clientIp : String.join(", ", before) + ", " + clientIp);
        h.set("X-Forwarded-Proto", tls ? "https" : "http");
        String host = h.get(HttpHeaderNames.HOST);
        if (host != null) {
            h.set("X-Forwarded-Host", host);
        }
        String viaEntry = "1.1 " + viaName;
        h.set("Via", via.isEmpty() ? viaEntry : String.join(", ", via) + ", " + viaEntry);
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, in.method(), in.uri(), h);
    }

    /**
     * The response as sent to the client.
     *
     * @param bodyFollows   the response carries a body on the wire to the client (not HEAD, 1xx, 204, 304)
     * @param keepAlive     the client connection stays open after it
     * @return the new head, sharing {@code in}'s headers, rewritten in place (no copy on the request
     *     path); when the body is close-delimited for an HTTP/1.0 client the caller must close after
     *     it (see {@link #needsCloseDelimiting})
     */
    static HttpResponse toClient(HttpResponse in, HttpVersion clientVersion, boolean bodyFollows, boolean keepAlive) {
        HttpHeaders h = in.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(in);
        boolean hasLength = HttpUtil.isContentLengthSet(in);
        removeHopByHop(h);
        if (!hasLength && (chunked || bodyFollows) && clientVersion.isKeepAliveDefault()) {
            // chunked from the server, or close-delimited: re-frame as chunked for an HTTP/1.1 client
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!clientVersion.isKeepAliveDefault()) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return new DefaultHttpResponse(clientVersion, in.status(), h);
    }

    /** An HTTP/1.0 client cannot take chunked: a response of unknown length is ended by closing. */
    static boolean needsCloseDelimiting(HttpResponse in, HttpVersion clientVersion, boolean bodyFollows) {
        return bodyFollows && !HttpUtil.isContentLengthSet(in) && !clientVersion.isKeepAliveDefault();
    }

    /** An interim (1xx) response for the client: its hop-by-hop headers go, like a final response's. */
    static HttpResponse interim(HttpResponse in) {
        HttpHeaders h = in.headers().copy();
        removeHopByHop(h);
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, in.status(), Unpooled.EMPTY_BUFFER, h,
                EmptyHttpHeaders.INSTANCE);
    }

    /** A {@code 101 Switching Protocols} for the client: hop-by-hop headers go, the upgrade stays. */
    static HttpResponse switchingProtocols(HttpResponse in) {
        HttpHeaders h = in.headers().copy();
        String upgradeTo = in.headers().get(HttpHeaderNames.UPGRADE);
        removeHopByHop(h);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        if (upgradeTo != null) {
            h.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, in.status(), h);
    }

    /** Removes, in place, the trailer fields that must not be trailers; the rest pass on. */
    static void filterTrailers(HttpHeaders trailers) {
        if (trailers.isEmpty()) {
            return;
        }
        trailers.names().stream().filter(n -> NOT_TRAILERS.contains(n.toLowerCase(Locale.ROOT))).toList()
                .forEach(trailers::remove);
    }

    private static void removeHopByHop(HttpHeaders h) {
        for (String connection : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String name : connection.split(",")) {
                String n = name.strip();
                if (!n.isEmpty() && !PROTECTED.contains(n.toLowerCase(Locale.ROOT))) {
                    h.remove(n);
                }
            }
        }
        for (CharSequence name : HOP_BY_HOP) {
            h.remove(name);
        }
    }

    // ---- the same rules on heads as bytes ----------------------------------------------------

    /**
     * {@code HttpUtil.isKeepAlive} on a head as bytes, request or response: no {@code close} in
     * Connection, and for HTTP/1.0 a {@code keep-alive} there. Read it before the rewrite removes
     * Connection.
     */
    static boolean isKeepAlive(MessageHead head) {
        return !head.hasToken(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                && (head.minorVersion() >= 1 || head.hasToken(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE));
    }

    /** {@link #isUpgrade(HttpRequest)} on a head as bytes. */
    static boolean isUpgrade(MessageHead request) {
        return request.method() == HttpMethod.GET && request.minorVersion() == 1
                && request.hasToken(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                && request.hasToken(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }

    /**
     * {@link #hasLooped(HttpRequest, String)} on a head as bytes: each Via list element is read in
     * place ({@code protocol received-by [comment]}, words split by spaces and tabs), the
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
     * {@link #toServer(HttpRequest, String, boolean, String)} on a head as bytes, edited in place:
     * hop-by-hop fields removed, chunked re-declared, a WebSocket upgrade kept, X-Forwarded-For
     * (the values received joined with {@code clientIp}), X-Forwarded-Proto, X-Forwarded-Host
     * (when there is a Host) and Via set; the new fields are appended after the kept ones. The
     * head is then written as HTTP/1.1 ({@link MessageHead#writeRequest}), which keeps the server
     * connection alive whatever the client asked. Read what you need from the head (keep-alive,
     * hash keys, {@link #isUpgrade(MessageHead)}, {@link #hasLooped(MessageHead, String)}, whether
     * it has a Host) before calling this.
     */
    static void toServer(MessageHead request, String clientIp, boolean tls, String viaName) {
        boolean chunked = declaresChunked(request);
        boolean upgrade = isUpgrade(request);
        int upgradeTo = request.indexOf(HttpHeaderNames.UPGRADE);
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
        int host = request.indexOf(HttpHeaderNames.HOST);
        if (host >= 0) {
            request.removeAll(X_FORWARDED_HOST);
            request.beginField("X-Forwarded-Host");
            request.appendValueOf(host);
            request.endField();
        }
        request.beginField("Via");
        appendListAndRemove(request, HttpHeaderNames.VIA);
        request.appendText("1.1 ");
        request.appendText(viaName);
        request.endField();
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
     * {@link #toClient(HttpResponse, HttpVersion, boolean, boolean)} on a head as bytes, edited in
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
        removeHopByHop(response);
        if (!hasLength && (chunked || bodyFollows) && clientMinorVersion >= 1) {
            response.add("Transfer-Encoding", "chunked");
        }
        if (!keepAlive) {
            response.add("Connection", "close");
        } else if (clientMinorVersion == 0) {
            response.add("Connection", "keep-alive");
        }
    }

    /** {@link #needsCloseDelimiting(HttpResponse, HttpVersion, boolean)} on a head as bytes. */
    static boolean needsCloseDelimiting(MessageHead response, int clientMinorVersion, boolean bodyFollows) {
        return bodyFollows && !declaresLength(response) && clientMinorVersion == 0;
    }

    /** {@link #interim(HttpResponse)} on a head as bytes, in place: its hop-by-hop fields go. Written as HTTP/1.1. */
    static void interim(MessageHead response) {
        removeHopByHop(response);
    }

    /** {@link #switchingProtocols(HttpResponse)} on a head as bytes, in place: hop-by-hop fields go, the upgrade stays. */
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

    /** {@link #filterTrailers(HttpHeaders)} on a trailer section as bytes: removes, in place, the fields that must not be trailers. */
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
        return head.isChunked() || head.hasToken(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }

    /** A Content-Length field, as {@code HttpUtil.isContentLengthSet}, or the decoder's framing. */
    static boolean declaresLength(MessageHead head) {
        return head.contentLength() >= 0 || head.contains(HttpHeaderNames.CONTENT_LENGTH);
    }

    private static void removeHopByHop(MessageHead h) {
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
        for (int i = 0; i < h.size(); i++) {
            for (AsciiString name : HOP_BY_HOP_NAMES) {
                if (h.nameIs(i, name)) {
                    h.remove(i);
                    break;
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
