package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Hashing;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.util.AsciiString;

import dev.fulcrum.server.http.message.MessageHead;

import java.util.Locale;

/**
 * Extracts what a request is balanced on: the pool's {@code hash-key} value (hashed with
 * {@link Hashing#hash64}) and the value of a named cookie. A missing header or cookie hashes as
 * the empty string, so such requests all land on one server, as with HAProxy's {@code balance hdr}.
 * Each exists for Netty's {@code HttpRequest} and for a {@link MessageHead}, with the same hashes;
 * on a head, hashing the source address allocates nothing, a header or the path a small view or
 * String, a cookie what the cookie decoder makes (it only runs when the pool balances or sticks
 * by cookie). Stateless.
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

    /** {@link #hash(HashKey, HttpRequest, String)} on a head as bytes (read before {@code toServer} edits it). */
    static long hash(HashKey key, MessageHead request, String clientIp) {
        HashKey k = key == null ? HashKey.SOURCE_IP : key;
        return switch (k.source()) {
            case SOURCE_IP -> Hashing.hash64(clientIp);
            case HEADER -> {
                int i = request.indexOf(new AsciiString(k.name().toLowerCase(Locale.ROOT)));
                // the view's chars are the value's octets, as Netty's String of the value
                yield Hashing.hash64(i < 0 ? "" : request.value(i));
            }
            case COOKIE -> {
                String v = cookie(request, k.name());
                yield Hashing.hash64(v == null ? "" : v);
            }
            case PATH -> Hashing.hash64(rawPath(request.target()));
        };
    }

    /** {@link #cookie(HttpRequest, String)} on a head as bytes. */
    static String cookie(MessageHead request, String name) {
        for (int i = request.indexOf(HttpHeaderNames.COOKIE); i >= 0;
             i = request.indexOf(HttpHeaderNames.COOKIE, i + 1)) {
            for (Cookie c : ServerCookieDecoder.LAX.decodeAll(request.valueString(i))) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    /** The target up to its query or fragment, as {@code QueryStringDecoder.rawPath()}. */
    private static String rawPath(String target) {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '?' || c == '#') {
                return target.substring(0, i);
            }
        }
        return target;
    }
}
