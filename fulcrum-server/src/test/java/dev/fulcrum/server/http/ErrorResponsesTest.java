package dev.fulcrum.server.http;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorResponsesTest {

    @Test
    void errorCarriesServerTypeLengthCloseAndOneLineBody() {
        FullHttpResponse r = ErrorResponses.create(HttpResponseStatus.BAD_GATEWAY,
                "server 127.0.0.1:9102 closed the connection", false);
        try {
            assertThat(r.content().toString(StandardCharsets.UTF_8))
                    .isEqualTo("502 bad gateway: server 127.0.0.1:9102 closed the connection\n");
            assertThat(r.headers().get("Server")).isEqualTo("fulcrum");
            assertThat(r.headers().get("Content-Type")).isEqualTo("text/plain; charset=utf-8");
            assertThat(r.headers().get("Connection")).isEqualTo("close");
            assertThat(r.headers().getInt("Content-Length")).isEqualTo(r.content().readableBytes());
            assertThat(r.headers().contains("Retry-After")).isFalse();
        } finally {
            r.release();
        }
    }

    @Test
    void serviceUnavailableSaysWhenToRetryAndHeadHasNoBody() {
        FullHttpResponse r = ErrorResponses.create(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server", true);
        assertThat(r.headers().get("Retry-After")).isEqualTo("1");
        assertThat(r.content().readableBytes()).isZero();
        assertThat(r.headers().getInt("Content-Length")).isEqualTo("503 service unavailable: no server\n".length());
        r.release();
    }

    @Test
    void decoderFailuresMapToStatuses() {
        assertThat(ErrorResponses.statusFor(DecoderResult.failure(new TooLongHttpHeaderException("x"))))
                .isEqualTo(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
        assertThat(ErrorResponses.statusFor(DecoderResult.failure(new TooLongHttpLineException("x"))))
                .isEqualTo(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
        assertThat(ErrorResponses.statusFor(DecoderResult.failure(new TooLongHttpContentException("x"))))
                .isEqualTo(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
        assertThat(ErrorResponses.statusFor(DecoderResult.failure(new IllegalArgumentException("bad"))))
                .isEqualTo(HttpResponseStatus.BAD_REQUEST);
        assertThat(ErrorResponses.reasonFor(DecoderResult.failure(new IllegalArgumentException("two\nlines")), 10))
                .isEqualTo("two lines");
    }

    @Test
    void durationsAreSpelledLikeTheConfig() {
        assertThat(ErrorResponses.format(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(ErrorResponses.format(Duration.ofMillis(250))).isEqualTo("250ms");
    }

    /** What today's pipeline puts on the wire for {@code create}'s response. */
    private static String nettyEncoded(HttpResponseStatus status, String reason, boolean head) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpResponseEncoder());
        ch.writeOutbound(ErrorResponses.create(status, reason, head));
        StringBuilder b = new StringBuilder();
        for (ByteBuf buf; (buf = ch.readOutbound()) != null; ) {
            b.append(TestHeads.text(buf));
        }
        ch.finishAndReleaseAll();
        return b.toString();
    }

    @Test
    void bytesAreTheSameAsNettysEncodingOfCreate() {
        for (HttpResponseStatus status : new HttpResponseStatus[] {HttpResponseStatus.BAD_GATEWAY,
                HttpResponseStatus.SERVICE_UNAVAILABLE, HttpResponseStatus.METHOD_NOT_ALLOWED,
                HttpResponseStatus.BAD_REQUEST, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                HttpResponseStatus.GATEWAY_TIMEOUT, new HttpResponseStatus(508, "Loop Detected")}) {
            for (boolean head : new boolean[] {false, true}) {
                String reason = "server 127.0.0.1:9102 closed the connection \u00e9";
                assertThat(TestHeads.text(ErrorResponses.encode(ByteBufAllocator.DEFAULT, status, reason, head)))
                        .as(status + (head ? " to HEAD" : ""))
                        .isEqualTo(nettyEncoded(status, reason, head));
            }
        }
        assertThat(TestHeads.text(ErrorResponses.encode(ByteBufAllocator.DEFAULT,
                HttpResponseStatus.SERVICE_UNAVAILABLE, "no server", false)))
                .isEqualTo("HTTP/1.1 503 Service Unavailable\r\nserver: fulcrum\r\n"
                        + "content-type: text/plain; charset=utf-8\r\ncontent-length: 35\r\nconnection: close\r\n"
                        + "retry-after: 1\r\n\r\n503 service unavailable: no server\n");
    }
}
