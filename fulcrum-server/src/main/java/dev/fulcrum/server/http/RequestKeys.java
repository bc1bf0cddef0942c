package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Hashing;
import io.netty.handler.codec.http.HttpHeaderNames;
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
 * Read from the request's {@link MessageHead} before {@code toServer} edits it: hashing the source address allocates nothing, a header or the path a small view or
 * String, a cookie what the cookie decoder makes (it only runs when the pool balances or sticks
 * by cookie). Stateless.
 */
final class RequestKeys {

    private RequestKeys() {
    }

    /** The hash of the request's {@code hash-key} value (the source address when the pool names none). */
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

    /** The value of cookie {@code name} in the request's Cookie fields, or null. */
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
