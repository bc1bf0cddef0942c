package dev.fulcrum.server.http;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.util.List;

/**
 * Rewrites message heads as they cross the proxy (RFC 9110 7.6.1): hop-by-hop headers (Connection,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and every header the
 * Connection header names) are removed, framing is re-declared for the next hop, and requests get
 * {@code X-Forwarded-For}/{@code -Proto}/{@code -Host}. Host is kept as the client sent it.
 * Stateless.
 */
final class ForwardedHeaders {

    private static final List<CharSequence> HOP_BY_HOP = List.of(HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE);

    private ForwardedHeaders() {
    }

    /** True when the client asks to switch protocols (WebSocket): {@code Connection: upgrade} + {@code Upgrade}. */
    static boolean isUpgrade(HttpRequest request) {
        return request.headers().contains(HttpHeaderNames.UPGRADE)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /**
     * The request as sent to a server: always HTTP/1.1 and keep-alive (Fulcrum pools its server
     * connections whatever the client does), chunked when the client's body was chunked.
     * Rewrites {@code in}'s headers in place (no copy on the request path): read what you need from
     * them (keep-alive, hash keys) before calling this.
     */
    static HttpRequest toServer(HttpRequest in, String clientIp, boolean tls) {
        HttpHeaders h = in.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(in);
        boolean upgrade = isUpgrade(in);
        String upgradeTo = h.get(HttpHeaderNames.UPGRADE);
        List<String> before = h.getAll("X-Forwarded-For");
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

    private static void removeHopByHop(HttpHeaders h) {
        for (String connection : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String name : connection.split(",")) {
                String n = name.strip();
                if (!n.isEmpty()) {
                    h.remove(n);
                }
            }
        }
        for (CharSequence name : HOP_BY_HOP) {
            h.remove(name);
        }
    }
}
