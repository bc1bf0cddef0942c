package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageFailure;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** What a stream's response frames become for the HTTP/1.1 response decoder, and what fails it. */
class ServerH2ResponseBridgeTest {

    private final ServerH2ResponseBridge bridge = new ServerH2ResponseBridge();
    private final EmbeddedChannel ch = new EmbeddedChannel(bridge);
    private MessageFailure failure;

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private static Http2Headers status(String status) {
        return new DefaultHttp2Headers(false).status(status);
    }

    private void headers(Http2Headers h, boolean end) {
        ch.writeInbound(new DefaultHttp2HeadersFrame(h, end));
    }

    private void data(String text, boolean end) {
        ch.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1), end));
    }

    /** The bytes passed on so far, as text; a failure passed on is kept in {@link #failure}. */
    private String bytes() {
        StringBuilder b = new StringBuilder();
        for (Object m; (m = ch.readInbound()) != null; ) {
            if (m instanceof ByteBuf buf) {
                b.append(buf.toString(StandardCharsets.ISO_8859_1));
                buf.release();
            } else if (m instanceof MessageFailure f) {
                failure = f;
            }
        }
        return b.toString();
    }

    @Test
    void aResponseWithALengthKeepsIt() {
        headers(status("200").add("content-type", "text/plain").add("content-length", "5"), false);
        data("hel", false);
        data("lo", true);
        assertThat(bytes()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello");
        assertThat(failure).isNull();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void aResponseWithoutALengthIsChunked() {
        headers(status("200"), false);
        data("hello", false);
        data("", false);
        data("!", true);
        assertThat(bytes()).isEqualTo("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
    }

    @Test
    void grpcTrailersBecomeTheChunkedTrailerSectionEvenWithALength() {
        headers(status("200").add("content-type", "application/grpc").add("content-length", "8"), false);
        data("\0\0\0\0\3abc", false);
        headers(new DefaultHttp2Headers(false).add("grpc-status", "0").add("grpc-message", "ok"), true);
        assertThat(bytes()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
                + "8\r\n\0\0\0\0\3abc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n");
    }

    @Test
    void aTrailersOnlyResponseKeepsItsFieldsWithAnEmptyBody() {
        headers(status("200").add("content-type", "application/grpc").add("grpc-status", "14"), true);
        assertThat(bytes()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: 14\r\n"
                + "content-length: 0\r\n\r\n");
    }

    @Test
    void interimHeadsPassBeforeTheFinalOne() {
        headers(status("103").add("link", "</a.css>; rel=preload"), false);
        headers(status("204"), true);
        assertThat(bytes()).isEqualTo("HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    }

    @Test
    void theResponseToHeadHasNoBodyAndKeepsItsLength() {
        bridge.expect(true);
        headers(status("200").add("content-length", "1234"), false);
        data("ignored", true);
        assertThat(bytes()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n");
        assertThat(failure).isNull();
    }

    @Test
    void aBadStatusFailsTheResponse() {
        for (String bad : new String[] {"2000", "20", "abc", "099"}) {
            EmbeddedChannel c = new EmbeddedChannel(new ServerH2ResponseBridge());
            c.writeInbound(new DefaultHttp2HeadersFrame(status(bad), true));
            Object first = c.readInbound();
            assertThat(first).as(bad).isInstanceOf(MessageFailure.class);
            assertThat(((MessageFailure) first).status()).isEqualTo(502);
            assertThat(((MessageFailure) first).reason()).contains(":status");
            assertThat(c.isOpen()).as("the stream is reset").isFalse();
            c.finishAndReleaseAll();
        }
    }

    @Test
    void aMissingStatusOrARequestPseudoHeaderFailsTheResponse() {
        headers(new DefaultHttp2Headers(false).add("x", "y"), true);
        assertThat(bytes()).isEmpty();
        assertThat(failure.reason()).isEqualTo("sent an invalid response (:status missing)");

        EmbeddedChannel c = new EmbeddedChannel(new ServerH2ResponseBridge());
        c.writeInbound(new DefaultHttp2HeadersFrame(status("200").path("/x"), true));
        assertThat(((MessageFailure) c.readInbound()).reason()).contains("pseudo-header \":path\"");
        c.finishAndReleaseAll();
    }

    @Test
    void controlCharactersAndBadNamesFailTheResponse() {
        headers(status("200").add("x-a", "one\r\ncontent-length: 0"), true);
        assertThat(bytes()).isEmpty();
        assertThat(failure.reason()).contains("control character");

        EmbeddedChannel c = new EmbeddedChannel(new ServerH2ResponseBridge());
        c.writeInbound(new DefaultHttp2HeadersFrame(status("200").add("bad name", "v"), true));
        assertThat(((MessageFailure) c.readInbound()).reason()).contains("field name");
        c.finishAndReleaseAll();
    }

    @Test
    void aBodyLongerOrShorterThanItsLengthFailsTheResponse() {
        headers(status("200").add("content-length", "3"), false);
        data("toolong", true);
        assertThat(bytes()).startsWith("HTTP/1.1 200 OK\r\n").doesNotContain("toolong");
        assertThat(failure.reason()).contains("more body than its content-length");

        EmbeddedChannel c = new EmbeddedChannel(new ServerH2ResponseBridge());
        c.writeInbound(new DefaultHttp2HeadersFrame(status("200").add("content-length", "10"), false));
        c.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII), true));
        ((ByteBuf) c.readInbound()).release();
        ((ByteBuf) c.readInbound()).release();
        assertThat(((MessageFailure) c.readInbound()).reason()).contains("7 bytes before its content-length");
        c.finishAndReleaseAll();
    }

    @Test
    void conflictingLengthsAndDataBeforeTheHeadFailTheResponse() {
        headers(status("200").add("content-length", "3").add("content-length", "4"), false);
        assertThat(bytes()).isEmpty();
        assertThat(failure.reason()).contains("content-length");

        EmbeddedChannel c = new EmbeddedChannel(new ServerH2ResponseBridge());
        c.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII), true));
        assertThat(((MessageFailure) c.readInbound()).reason()).contains("DATA before the response head");
        c.finishAndReleaseAll();
    }

    @Test
    void switchingProtocolsIsRefused() {
        headers(status("101").add("upgrade", "websocket"), false);
        assertThat(bytes()).isEmpty();
        assertThat(failure.reason()).contains("101");
    }

    @Test
    void headersInTheMiddleOfTheBodyFailTheResponse() {
        headers(status("200"), false);
        headers(new DefaultHttp2Headers(false).add("x", "y"), false);
        bytes();
        assertThat(failure.reason()).contains("HEADERS in the middle of the body");
    }
}
