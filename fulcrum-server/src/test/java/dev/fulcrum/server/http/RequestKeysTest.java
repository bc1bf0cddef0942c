package dev.fulcrum.server.http;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.Hashing;
import dev.fulcrum.server.http.message.MessageHead;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestKeysTest {





    // ---- the same keys from a head as bytes ----------------------------------------------------

    private static MessageHead head() {
        return TestHeads.request("GET /cart/items?id=7 HTTP/1.1\r\nX-User: alice\r\n"
                + "Cookie: theme=dark; session=s-123\r\nCookie: late=1\r\n");
    }

    @Test
    void eachHashKeySourceHashesItsValue() {
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
    void missingHeaderOrCookieHashesAsEmpty() {
        assertThat(RequestKeys.hash(HashKey.parse("header:X-None"), head(), "ip")).isEqualTo(Hashing.hash64(""));
        assertThat(RequestKeys.hash(HashKey.parse("cookie:none"), head(), "ip")).isEqualTo(Hashing.hash64(""));
    }

    @Test
    void cookieIsFoundInAnyCookieField() {
        assertThat(RequestKeys.cookie(head(), "late")).isEqualTo("1");
        assertThat(RequestKeys.cookie(head(), "theme")).isEqualTo("dark");
        assertThat(RequestKeys.cookie(head(), "absent")).isNull();
    }
}
