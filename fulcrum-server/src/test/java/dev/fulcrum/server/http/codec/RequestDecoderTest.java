package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class RequestDecoderTest {

    private static final int MAX_HEAD = FramingCase.MAX_HEAD;
    private static final String POST_CHUNKED = FramingCase.POST_CHUNKED;
    private static final String GET_OK = "GET /next HTTP/1.1\r\n" + FramingCase.HOST + "\r\n";
    private static final AsciiString HOST = AsciiString.cached("host");

    private DecoderProbe probe = new DecoderProbe(HttpCodecs.requestDecoder(MAX_HEAD));

    @AfterEach
    void finish() {
        probe.close();
    }

    static Stream<Arguments> rejected() {
        return FramingCase.rejected().stream().map(c -> arguments(c.name(), c.raw(), c.status(), c.message()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void rejectsAndEmitsNothingAfterTheFailure(String name, String raw, int status, String message) {
        // a valid request follows in the same packet and in a later one: neither may come out
        probe.channel().writeInbound(probe.bytes(raw + GET_OK));
        probe.channel().writeInbound(probe.bytes(GET_OK));
        List<Object> events = probe.readAll();

        assertFailedWith(events, status, message);
    }

    @ParameterizedTest(name = "{0}, byte by byte")
    @MethodSource("rejected")
    void rejectsTheSameWhenBytesTrickleIn(String name, String raw, int status, String message) {
        probe.trickle(raw + GET_OK);

        assertFailedWith(probe.readAll(), status, message);
    }

    @Test
    void getWithKeepAlivePassesUnchanged() {
        probe.channel().writeInbound(probe.bytes("GET /a?b=c HTTP/1.1\r\nHost: example\r\nConnection: keep-alive\r\nX-Tab: a\tb\r\n"
                + "X-Latin: caf\u00e9\r\nX-Empty:\r\nX-Spaces:  v  \r\n\r\n"));
        List<Object> events = probe.readAll();
        assertThat(events).hasSize(2);
        MessageHead head = (MessageHead) events.get(0);
        assertThat(head.kind()).isEqualTo(MessageHead.Kind.REQUEST);
        assertThat(head.method()).isSameAs(HttpMethod.GET);
        assertThat(head.target()).isEqualTo("/a?b=c");
        assertThat(head.minorVersion()).isEqualTo(1);
        assertThat(head.get(AsciiString.cached("connection"))).isEqualTo("keep-alive");
        assertThat(head.get(AsciiString.cached("x-tab"))).isEqualTo("a\tb");
        assertThat(head.get(AsciiString.cached("x-latin"))).isEqualTo("caf\u00e9");
        assertThat(head.get(AsciiString.cached("x-empty"))).isEmpty();
        assertThat(head.get(AsciiString.cached("x-spaces"))).isEqualTo("v");
        assertThat(head.contentLength()).isEqualTo(-1);
        assertThat(head.isChunked()).isFalse();
        assertThat(events.get(1)).isSameAs(MessageEnd.NO_TRAILERS);
        // the head writes back byte for byte
        assertThat(head.toString()).isEqualTo("GET /a?b=c HTTP/1.1\r\nHost: example\r\nConnection: keep-alive\r\n"
                + "X-Tab: a\tb\r\nX-Latin: caf\u00e9\r\nX-Empty:\r\nX-Spaces:  v  \r\n\r\n");
    }

    @Test
    void theHeadHasRoomForAppendedFields() {
        probe.channel().writeInbound(probe.bytes("GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
        MessageHead head = (MessageHead) probe.readAll().getFirst();
        head.add("X-Forwarded-For", "203.0.113.7");
        head.add("Via", "1.1 fulcrum");
        assertThat(head.toString()).isEqualTo("GET / HTTP/1.1\r\nHost: example\r\nX-Forwarded-For: 203.0.113.7\r\n"
                + "Via: 1.1 fulcrum\r\n\r\n");
    }

    @Test
    void headsWithManyFieldsOrNoneAreIndexedAndTakeAppendedFields() {
        StringBuilder many = new StringBuilder("GET /many HTTP/1.1\r\nHost: example\r\n");
        for (int i = 0; i < 60; i++) {
            many.append("X-").append(i).append(": v").append(i).append("\r\n");
        }
        List<Object> events = probe.write(many + "\r\nGET /none HTTP/1.0\r\n\r\nGET /other HTTP/1.0\r\n\r\n");
        assertWellFormed(events);
        MessageHead big = (MessageHead) events.get(0);
        assertThat(big.size()).isEqualTo(61);
        assertThat(big.get(AsciiString.cached("x-59"))).isEqualTo("v59");
        MessageHead none = (MessageHead) events.get(2);
        MessageHead other = (MessageHead) events.get(4);
        assertThat(none.size()).isZero();
        none.add("Via", "1.0 fulcrum");
        assertThat(none.toString()).isEqualTo("GET /none HTTP/1.1\r\nVia: 1.0 fulcrum\r\n\r\n");
        assertThat(other.size()).as("heads share no index").isZero();
    }

    @Test
    void absoluteFormBecomesOriginFormWithItsAuthorityAsHost() {
        probe.channel().writeInbound(probe.bytes("GET HTTP://Other.Example:8080?q=1 HTTP/1.1\r\nHost: example\r\n\r\n"
                + "OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(events).hasSize(4);
        MessageHead absolute = (MessageHead) events.get(0);
        assertThat(absolute.target()).isEqualTo("/?q=1");
        assertThat(absolute.count(HOST)).isEqualTo(1);
        assertThat(absolute.get(HOST)).isEqualTo("Other.Example:8080");
        assertThat(absolute.toString()).startsWith("GET /?q=1 HTTP/1.1\r\n").contains("Host: Other.Example:8080\r\n")
                .doesNotContain("Host: example");
        MessageHead asterisk = (MessageHead) events.get(2);
        assertThat(asterisk.target()).isEqualTo("*");
    }

    @Test
    void http10WithoutHostAndLeadingEmptyLinesPass() {
        probe.channel().writeInbound(probe.bytes("\r\n\r\nGET / HTTP/1.0\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(events).hasSize(2);
        assertThat(((MessageHead) events.getFirst()).minorVersion()).isZero();
    }

    @Test
    void postWithContentLengthStreamsTheBodyAsSlicesOfTheInput() {
        ByteBuf input = probe.bytes("POST /up HTTP/1.1\r\nHost: example\r\nContent-Length: 11\r\n\r\nhello world");
        probe.channel().writeInbound(input);
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(((MessageHead) events.getFirst()).contentLength()).isEqualTo(11);
        assertThat(body(events)).isEqualTo("hello world");
        assertThat(events.get(1)).isInstanceOf(ByteBuf.class);
        assertThat(((ByteBuf) events.get(1)).unwrap()).as("a slice, not a copy").isNotNull();
        assertThat(events.getLast()).isSameAs(MessageEnd.NO_TRAILERS);
    }

    @Test
    void contentLengthBodyInPiecesAndZeroLength() {
        probe.channel().writeInbound(probe.bytes("POST /up HTTP/1.1\r\nHost: example\r\nContent-Length: 6\r\n\r\nabc"));
        probe.channel().writeInbound(probe.bytes("de"));
        probe.channel().writeInbound(probe.bytes("f" + "POST /z HTTP/1.1\r\nHost: example\r\nContent-Length: 0\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(body(events)).isEqualTo("abcdef");
        assertThat(heads(events)).extracting(MessageHead::target).containsExactly("/up", "/z");
        assertThat(events).hasSize(7); // head, 3 parts, end, head, end
    }

    @Test
    void chunkedPostWithExtensionsAndTrailers() {
        probe.channel().writeInbound(probe.bytes("POST /up HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: Chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n6 ; a ; b = \"q\\\"x\" ;c=d\r\n world\r\n0;last\r\nX-Checksum: abc\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(((MessageHead) events.getFirst()).isChunked()).isTrue();
        assertThat(body(events)).isEqualTo("hello world");
        MessageEnd end = (MessageEnd) events.getLast();
        assertThat(end.trailers().kind()).isEqualTo(MessageHead.Kind.TRAILERS);
        assertThat(end.trailers().get(AsciiString.cached("x-checksum"))).isEqualTo("abc");
        assertThat(end.trailers().toString()).isEqualTo("X-Checksum: abc\r\n\r\n");
    }

    @Test
    void framingFieldsInTrailersAreDropped() {
        probe.channel().writeInbound(probe.bytes(POST_CHUNKED + "0\r\nContent-Length: 5\r\nX-T: 1\r\nTrailer: X\r\n\r\n"
                + POST_CHUNKED + "0\r\nTransfer-Encoding: chunked\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        MessageEnd first = (MessageEnd) events.get(1);
        assertThat(first.trailers().toString()).isEqualTo("X-T: 1\r\n\r\n");
        assertThat(events.get(3)).isSameAs(MessageEnd.NO_TRAILERS);
    }

    @Test
    void foldedTrailersAreRefused() {
        // the Netty-based decoder joined them; the trailer grammar is now the head's
        probe.channel().writeInbound(probe.bytes(POST_CHUNKED + "0\r\nX-T: 1\r\n 2\r\n\r\n"));
        assertFailedWith(probe.readAll(), 400, "obsolete line folding in trailers");
    }

    @Test
    void chunkSizesUpToLongMaxPassAndLongChunkLinesFail() {
        probe.channel().writeInbound(probe.bytes(POST_CHUNKED + "7fffffffffffffff\r\nabc"));
        List<Object> events = probe.readAll();
        assertWellFormed(events, true);
        assertThat(body(events)).isEqualTo("abc");

        probe.close();
        probe = new DecoderProbe(HttpCodecs.requestDecoder(1024));
        assertFailedWith(probe.write(POST_CHUNKED + "5;x=" + "a".repeat(2000) + "\r\nhello\r\n0\r\n\r\n"), 400,
                "chunk line longer than 1024 bytes");
    }

    @Test
    void chunkExtensionsWithWhitespaceAndQuotedPairsPass() {
        List<Object> events = probe.write(POST_CHUNKED + "1 ;a=\"x\\\"y\" ; b\t= c\r\nA\r\n0\r\n\r\n");
        assertWellFormed(events);
        assertThat(body(events)).isEqualTo("A");
    }

    @Test
    void pipelinedRequestsBothPass() {
        probe.channel().writeInbound(probe.bytes("POST /a HTTP/1.1\r\nHost: example\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /b HTTP/1.1\r\nHost: example\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(heads(events)).extracting(MessageHead::target).containsExactly("/a", "/b");
    }

    @Test
    void secondPipelinedRequestIsCheckedToo() {
        probe.channel().writeInbound(probe.bytes("GET /a HTTP/1.1\r\nHost: example\r\n\r\n"
                + "GET /b HTTP/1.1\r\nHost: example\r\nX-A: a\r\n b\r\n\r\n"));
        List<Object> events = probe.readAll();
        assertThat(((MessageHead) events.get(0)).target()).isEqualTo("/a");
        assertFailedWith(events, 400, "obsolete line folding");
    }

    @Test
    void headJustUnderTheLimitPasses() {
        String start = "GET / HTTP/1.1\r\nHost: example\r\nX-Big: ";
        String end = "\r\n\r\n";
        String head = start + "a".repeat(MAX_HEAD - start.length() - end.length()) + end;
        assertThat(head).hasSize(MAX_HEAD);
        probe.channel().writeInbound(probe.bytes(head));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(events).hasSize(2);
        assertThat(((MessageHead) events.getFirst()).get(AsciiString.cached("x-big"))).hasSize(MAX_HEAD - start.length() - 4);
    }

    @Test
    void trailersJustUnderTheLimitPass() {
        String start = "X-T: ";
        String end = "\r\n\r\n";
        probe.channel().writeInbound(probe.bytes(POST_CHUNKED + "0\r\n" + start + "b".repeat(MAX_HEAD - start.length() - end.length())
                + end + GET_OK));
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(heads(events)).hasSize(2);
    }

    @Test
    void validRequestsTricklingInPass() {
        List<Object> events = probe.trickle("\r\nPOST /t HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;x=\"y\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n"
                + "PUT /u HTTP/1.1\r\nHost: example\r\nContent-Length: 4\r\n\r\nwxyz" + GET_OK);
        assertWellFormed(events);
        assertThat(body(events)).isEqualTo("abc0123456789abcdefwxyz");
        assertThat(heads(events)).extracting(MessageHead::target).containsExactly("/t", "/u", "/next");
        assertThat(events).filteredOn(MessageEnd.class::isInstance)
                .first().extracting(e -> ((MessageEnd) e).trailers().get(AsciiString.cached("x-t"))).isEqualTo("1");
    }

    @Test
    void closeInTheMiddleOfABodyFails() {
        probe.channel().writeInbound(probe.bytes("POST /up HTTP/1.1\r\nHost: example\r\nContent-Length: 10\r\n\r\nabc"));
        probe.channel().finish();
        List<Object> events = probe.readAll();
        assertFailedWith(events, 400, "connection closed before the request ended");
        assertThat(body(events)).isEqualTo("abc");
    }

    @Test
    void closeInTheMiddleOfAChunkedBodyFails() {
        probe.channel().writeInbound(probe.bytes(POST_CHUNKED + "5\r\nab"));
        probe.channel().finish();
        assertFailedWith(probe.readAll(), 400, "connection closed before the request ended");
    }

    @Test
    void closeInTheMiddleOfAHeadOrBetweenRequestsGivesNothing() {
        probe.channel().writeInbound(probe.bytes(GET_OK + "GET / HT"));
        probe.channel().finish();
        List<Object> events = probe.readAll();
        assertWellFormed(events);
        assertThat(events).hasSize(2);
    }

    @Test
    void bytesAfterAMessageGoOnWhenTheDecoderIsRemovedOnItsEnd() {
        // what an upgrade (WebSocket) does: the handler removes the decoder at the request's end
        probe.close();
        probe = new DecoderProbe(HttpCodecs.requestDecoder(MAX_HEAD), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.fireChannelRead(msg);
                if (msg instanceof MessageEnd) {
                    ctx.pipeline().remove(RequestDecoder.class);
                }
            }
        });
        probe.channel().writeInbound(probe.bytes("GET /ws HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\n\r\n"
                + "GET /not-http HTTP/1.1\r\n\r\n\u0081\u0000"));
        List<Object> events = probe.readAll();
        assertThat(events).hasSize(3);
        assertThat(((MessageHead) events.get(0)).target()).isEqualTo("/ws");
        assertThat(events.get(1)).isSameAs(MessageEnd.NO_TRAILERS);
        assertThat(((ByteBuf) events.get(2)).toString(StandardCharsets.ISO_8859_1))
                .isEqualTo("GET /not-http HTTP/1.1\r\n\r\n\u0081\u0000");
    }

    @Test
    void partialHeadBytesGoOnWhenTheDecoderIsRemoved() {
        probe.channel().writeInbound(probe.bytes("GET /a HTTP/1.1\r\nHo"));
        probe.channel().pipeline().removeFirst();
        List<Object> events = probe.readAll();
        assertThat(events).hasSize(1);
        assertThat(((ByteBuf) events.getFirst()).toString(StandardCharsets.ISO_8859_1)).isEqualTo("GET /a HTTP/1.1\r\nHo");
    }

    @Test
    void failureReleasesNothingTwiceAndDiscardsLaterInput() {
        ByteBuf later = probe.bytes(GET_OK);
        probe.channel().writeInbound(probe.bytes("GET / HTTP/1.1\r\n\r\n"));
        probe.channel().writeInbound(later);
        assertThat(later.refCnt()).isZero();
        assertFailedWith(probe.readAll(), 400, "missing Host header");
    }

    /** Last event a failure with this status and text; before it, whole messages and body parts only. */
    static void assertFailedWith(List<Object> events, int status, String message) {
        assertThat(events).isNotEmpty();
        assertThat(events.getLast()).isInstanceOf(MessageFailure.class);
        MessageFailure failure = (MessageFailure) events.getLast();
        assertThat(failure.status()).isEqualTo(status);
        assertThat(failure.reason()).contains(message).doesNotContain("\n").doesNotContain("\r");
        assertWellFormed(events.subList(0, events.size() - 1), true);
        assertThat(heads(events)).noneMatch(h -> h.target().equals("/next"));
    }

    static void assertWellFormed(List<Object> events) {
        assertWellFormed(events, false);
    }

    /** Head, parts, end, repeated (the last message may be open when {@code open}); no failure. */
    static void assertWellFormed(List<Object> events, boolean open) {
        boolean inMessage = false;
        for (Object e : events) {
            switch (e) {
                case MessageHead h -> {
                    assertThat(inMessage).as("head inside a message").isFalse();
                    assertThat(h.kind()).isNotEqualTo(MessageHead.Kind.TRAILERS);
                    inMessage = true;
                }
                case ByteBuf b -> {
                    assertThat(inMessage).as("body part outside a message").isTrue();
                    assertThat(b.isReadable()).as("empty body part").isTrue();
                }
                case MessageEnd end -> {
                    assertThat(inMessage).as("end outside a message").isTrue();
                    inMessage = false;
                }
                default -> throw new AssertionError("unexpected event " + e);
            }
        }
        if (!open) {
            assertThat(inMessage).as("last message ended").isFalse();
        }
    }

    static List<MessageHead> heads(List<Object> events) {
        return events.stream().filter(MessageHead.class::isInstance).map(MessageHead.class::cast).toList();
    }

    static String body(List<Object> events) {
        StringBuilder body = new StringBuilder();
        for (Object o : events) {
            if (o instanceof ByteBuf b) {
                body.append(b.toString(StandardCharsets.ISO_8859_1));
            }
        }
        return body.toString();
    }
}
