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
 * Stateless.
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
}
