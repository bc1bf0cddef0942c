package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Hashing;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;

/**
 * Extracts what a request is balanced on: the pool's {@code hash-key} value (hashed with
 * {@link Hashing#hash64}) and the value of a named cookie. A missing header or cookie hashes as
 * the empty string, so such requests all land on one server, as with HAProxy's {@code balance hdr}.
 * Stateless.
 */
final class RequestKeys {

    private RequestKeys() {
    }

    static long hash(HashKey key, HttpRequest request, String clientIp) {
        HashKey k = key == null ? HashKey.SOURCE_IP : key;
        String value = switch (k.source()) {
            case SOURCE_IP -> clientIp;
            case HEADER -> {
                String v = request.headers().get(k.name());
                yield v == null ? "" : v;
            }
            case COOKIE -> {
                String v = cookie(request, k.name());
                yield v == null ? "" : v;
            }
            case PATH -> new QueryStringDecoder(request.uri()).rawPath();
        };
        return Hashing.hash64(value);
    }

    /** The value of cookie {@code name} in the request's Cookie headers, or null. */
    static String cookie(HttpRequest request, String name) {
        for (String header : request.headers().getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decodeAll(header)) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }
}
