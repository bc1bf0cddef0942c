package dev.fulcrum.server.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorResponsesTest {

    private static String encoded(HttpResponseStatus status, String reason, boolean head) {
        return TestHeads.text(ErrorResponses.encode(ByteBufAllocator.DEFAULT, status, reason, head, "req-1"));
    }

    @Test
    void errorCarriesServerTypeLengthCloseRequestIdAndOneLineBody() {
        assertThat(encoded(HttpResponseStatus.BAD_GATEWAY, "server 127.0.0.1:9102 closed the connection", false))
                .isEqualTo("HTTP/1.1 502 Bad Gateway\r\nserver: fulcrum\r\ncontent-type: text/plain; charset=utf-8\r\n"
                        + "content-length: 61\r\nconnection: close\r\nx-request-id: req-1\r\n\r\n"
                        + "502 bad gateway: server 127.0.0.1:9102 closed the connection\n");
    }

    @Test
    void serviceUnavailableSaysWhenToRetryAndHeadHasNoBody() {
        assertThat(encoded(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server", true))
                .isEqualTo("HTTP/1.1 503 Service Unavailable\r\nserver: fulcrum\r\n"
                        + "content-type: text/plain; charset=utf-8\r\ncontent-length: 35\r\nconnection: close\r\n"
                        + "x-request-id: req-1\r\nretry-after: 1\r\n\r\n");
    }

    @Test
    void methodNotAllowedSaysWhatIsAllowed() {
        assertThat(encoded(HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported", false))
                .contains("\r\nallow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE\r\n")
                .endsWith("\r\n\r\n405 method not allowed: CONNECT is not supported\n");
    }

    @Test
    void reasonsAreOneLineWithControlCharactersEscaped() {
        assertThat(ErrorResponses.oneLine("two\r\nlines")).isEqualTo("two lines");
        assertThat(ErrorResponses.oneLine("bell\u0007")).doesNotContain("\u0007");
    }

}
