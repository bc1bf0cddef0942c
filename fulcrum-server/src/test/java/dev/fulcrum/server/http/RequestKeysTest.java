package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Hashing;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
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
}
