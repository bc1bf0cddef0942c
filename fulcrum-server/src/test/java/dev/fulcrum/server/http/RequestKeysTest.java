package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Hashing;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import dev.fulcrum.server.http.message.MessageHead;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestKeysTest {

    private static HttpRequest request() {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/cart/items?id=7");
        r.headers().add("X-User", "alice");
        r.headers().add("Cookie", "theme=dark; session=s-123");
        r.headers().add("Cookie", "late=1");
        return r;
    }

    @Test
    void eachHashKeySourceHashesItsValue() {
        assertThat(RequestKeys.hash(HashKey.SOURCE_IP, request(), "192.0.2.1")).isEqualTo(Hashing.hash64("192.0.2.1"));
        assertThat(RequestKeys.hash(HashKey.parse("header:x-user"), request(), "ip")).isEqualTo(Hashing.hash64("alice"));
        assertThat(RequestKeys.hash(HashKey.parse("cookie:session"), request(), "ip"))
                .isEqualTo(Hashing.hash64("s-123"));
        assertThat(RequestKeys.hash(HashKey.parse("path"), request(), "ip")).isEqualTo(Hashing.hash64("/cart/items"));
    }

    @Test
    void missingHeaderOrCookieHashesAsEmpty() {
        assertThat(RequestKeys.hash(HashKey.parse("header:X-None"), request(), "ip")).isEqualTo(Hashing.hash64(""));
        assertThat(RequestKeys.hash(HashKey.parse("cookie:none"), request(), "ip")).isEqualTo(Hashing.hash64(""));
    }

    @Test
    void cookieIsFoundInAnyCookieHeader() {
        assertThat(RequestKeys.cookie(request(), "late")).isEqualTo("1");
        assertThat(RequestKeys.cookie(request(), "theme")).isEqualTo("dark");
        assertThat(RequestKeys.cookie(request(), "absent")).isNull();
    }

    // ---- the same keys from a head as bytes ----------------------------------------------------

    private static MessageHead head() {
        return TestHeads.request("GET /cart/items?id=7 HTTP/1.1\r\nX-User: alice\r\n"
                + "Cookie: theme=dark; session=s-123\r\nCookie: late=1\r\n");
    }

    @Test
    void bytesEachHashKeySourceHashesItsValue() {
        assertThat(RequestKeys.hash(HashKey.SOURCE_IP, head(), "192.0.2.1")).isEqualTo(Hashing.hash64("192.0.2.1"));
        assertThat(RequestKeys.hash(null, head(), "192.0.2.1")).isEqualTo(Hashing.hash64("192.0.2.1"));
        assertThat(RequestKeys.hash(HashKey.parse("header:x-user"), head(), "ip")).isEqualTo(Hashing.hash64("alice"));
        assertThat(RequestKeys.hash(HashKey.parse("header:X-User"), head(), "ip")).isEqualTo(Hashing.hash64("alice"));
        assertThat(RequestKeys.hash(HashKey.parse("cookie:session"), head(), "ip")).isEqualTo(Hashing.hash64("s-123"));
        assertThat(RequestKeys.hash(HashKey.parse("path"), head(), "ip")).isEqualTo(Hashing.hash64("/cart/items"));
        MessageHead fragment = TestHeads.request("GET /a#b?c HTTP/1.1\r\n");
        assertThat(RequestKeys.hash(HashKey.parse("path"), fragment, "ip")).isEqualTo(Hashing.hash64("/a"));
    }

    @Test
    void bytesHashesEqualTheNettyVersions() {
        for (String key : new String[] {"header:x-user", "header:X-None", "cookie:session", "cookie:none", "path"}) {
            assertThat(RequestKeys.hash(HashKey.parse(key), head(), "ip")).as(key)
                    .isEqualTo(RequestKeys.hash(HashKey.parse(key), request(), "ip"));
        }
        MessageHead latin1 = TestHeads.request("GET / HTTP/1.1\r\nX-User: caf\u00e9\r\n");
        HttpRequest netty = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        netty.headers().add("X-User", "caf\u00e9");
        assertThat(RequestKeys.hash(HashKey.parse("header:x-user"), latin1, "ip"))
                .isEqualTo(RequestKeys.hash(HashKey.parse("header:x-user"), netty, "ip"));
    }

    @Test
    void bytesMissingHeaderOrCookieHashesAsEmpty() {
        assertThat(RequestKeys.hash(HashKey.parse("header:X-None"), head(), "ip")).isEqualTo(Hashing.hash64(""));
        assertThat(RequestKeys.hash(HashKey.parse("cookie:none"), head(), "ip")).isEqualTo(Hashing.hash64(""));
    }

    @Test
    void bytesCookieIsFoundInAnyCookieField() {
        assertThat(RequestKeys.cookie(head(), "late")).isEqualTo("1");
        assertThat(RequestKeys.cookie(head(), "theme")).isEqualTo("dark");
        assertThat(RequestKeys.cookie(head(), "absent")).isNull();
    }
}
