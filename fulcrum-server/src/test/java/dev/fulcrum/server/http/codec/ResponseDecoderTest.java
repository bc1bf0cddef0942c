package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.fulcrum.server.http.codec.RequestDecoderTest.assertFailedWith;
import static dev.fulcrum.server.http.codec.RequestDecoderTest.assertWellFormed;
import static dev.fulcrum.server.http.codec.RequestDecoderTest.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResponseDecoderTest {

    private final ResponseDecoder decoder = HttpCodecs.responseDecoder();
    /** decoder.reusable() as it was when each MessageEnd reached the next handler. */
    private final List<Boolean> reusableAtEnd = new ArrayList<>();
    private final DecoderProbe probe = new DecoderProbe(decoder, new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof MessageEnd) {
                reusableAtEnd.add(decoder.reusable());
            }
            ctx.fireChannelRead(msg);
        }
    });
    private final EmbeddedChannel channel = probe.channel();

    @AfterEach
    void finish() {
        probe.close();
    }

    @Test
    void contentLengthResponseEndsAndLeavesTheConnectionReusable() {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello");
        assertWellFormed(events);
        MessageHead head = (MessageHead) events.getFirst();
        assertThat(head.kind()).isEqualTo(MessageHead.Kind.RESPONSE);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.reason()).isEqualTo("OK");
        assertThat(head.contentLength()).isEqualTo(5);
        assertThat(head.toString()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n");
        assertThat(body(events)).isEqualTo("hello");
        assertThat(reusableAtEnd).containsExactly(true);
        assertThat(decoder.closeDelimited()).isFalse();
    }

    @Test
    void bodyBytesSplicedPastTheDecoderCountAndItsTailEndsTheResponse() {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        assertThat(body(events)).isEqualTo("0123456789");
        assertThat(decoder.bodyRemaining()).isEqualTo(90);
        assertThatThrownBy(() -> decoder.bodySpliced(90)).as("the tail comes through the decoder")
                .isInstanceOf(IllegalStateException.class);
        decoder.bodySpliced(80);
        assertThat(decoder.bodyRemaining()).isEqualTo(10);
        List<Object> all = probe.write("abcdefghij");
        assertThat(body(all)).as("what passed the decoder: the head's read, then the tail").isEqualTo("0123456789abcdefghij");
        assertThat(all.getLast()).isInstanceOf(MessageEnd.class);
        assertThat(reusableAtEnd).containsExactly(true);
        assertThat(decoder.bodyRemaining()).as("between responses").isEqualTo(-1);
    }

    @Test
    void onlyAContentLengthBodyCanBeSplicedPast() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        assertThat(decoder.bodyRemaining()).isEqualTo(-1);
        assertThatThrownBy(() -> decoder.bodySpliced(1)).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HTTP/1.1 200 \\r\\n|200|''|1",
            "HTTP/1.1 200\\r\\n|200|''|1",
            "HTTP/1.0 404 Not Found\\r\\n|404|Not Found|0",
            "HTTP/1.1 599 \u00e9 tab\\there\\r\\n|599|\u00e9 tab\\there|1"})
    void statusLinesWithAndWithoutAReason(String line, int status, String reason, int minor) {
        decoder.expect(false);
        List<Object> events = probe.write(unescape(line) + "Content-Length: 0\r\n\r\n");
        assertWellFormed(events);
        MessageHead head = (MessageHead) events.getFirst();
        assertThat(head.status()).isEqualTo(status);
        assertThat(head.reason()).isEqualTo(unescape(reason));
        assertThat(head.minorVersion()).isEqualTo(minor);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "HTTP/1.1 20 OK|status line is not HTTP/1.x SP 3DIGIT SP reason",
            "HTTP/1.1 2000 OK|status line is not HTTP/1.x SP 3DIGIT SP reason",
            "HTTP/1.1  200 OK|status line is not HTTP/1.x SP 3DIGIT SP reason",
            "HTTP/2 200 OK|HTTP version is not HTTP/1.0 or HTTP/1.1",
            "http/1.1 200 OK|HTTP version is not HTTP/1.0 or HTTP/1.1",
            "HTTP/1.1 200 O\u0001K|control character in reason phrase",
            "HTTP/1.1 099 Low|status 99 is below 100",
            "' HTTP/1.1 200 OK'|status line is not HTTP/1.x SP 3DIGIT SP reason"})
    void badStatusLinesAreInvalidResponses(String line, String detail) {
        decoder.expect(false);
        assertFailedWith(probe.write(line + "\r\nContent-Length: 0\r\n\r\n"), 502,
                "sent an invalid response (" + detail + ")");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Content-Length: 5\\r\\nTransfer-Encoding: chunked|both Content-Length and Transfer-Encoding",
            "Transfer-Encoding: chunked\\r\\nContent-Length: 5|both Content-Length and Transfer-Encoding",
            "Content-Length: 5\\r\\nContent-Length: 5|more than one Content-Length",
            "Content-Length: 5, 5|more than one Content-Length",
            "Content-Length: -5|invalid Content-Length value",
            "Content-Length: 5x|invalid Content-Length value",
            "Transfer-Encoding: gzip|Transfer-Encoding other than chunked",
            "Transfer-Encoding: gzip, chunked|Transfer-Encoding other than chunked",
            "Transfer-Encoding: chunked, chunked|chunked applied more than once",
            "X-A: a\\r\\n b|obsolete line folding",
            "X-A : b|whitespace between header name and colon",
            "X-A: a\\nX-B: b|line ended by LF without CR",
            "X-A: a\\rb|CR not followed by LF",
            "X-A: a\u0000b|control character in header value"})
    void badFramingOrFieldsAreInvalidResponses(String fields, String detail) {
        decoder.expect(false);
        String raw = "HTTP/1.1 200 OK\r\n" + unescape(fields)
                + "\r\n\r\nhello";
        assertFailedWith(probe.write(raw), 502, "sent an invalid response (" + detail);
        assertThat(decoder.reusable()).isFalse();
    }

    @Test
    void tooManyFieldsOrConnectionOptionsAreInvalidResponses() {
        decoder.expect(false);
        assertFailedWith(probe.write("HTTP/1.1 200 OK\r\n" + "a: 1\r\n".repeat(101) + "\r\n"), 502,
                "sent an invalid response (more than 100 header fields)");
    }

    @Test
    void aConnectionOfMoreThan32OptionsIsAnInvalidResponse() {
        decoder.expect(false);
        assertFailedWith(probe.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: " + "a,".repeat(33) + "\r\n\r\n"),
                502, "sent an invalid response (Connection lists more than 32 options)");
    }

    @Test
    void answerToHeadHasNoBodyWhateverItsFramingSays() {
        decoder.expect(true);
        List<Object> events = probe.write("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        assertWellFormed(events);
        assertThat(events).hasSize(2);
        assertThat(((MessageHead) events.getFirst()).contentLength()).isEqualTo(1234);
        assertThat(reusableAtEnd).containsExactly(true);
    }

    @Test
    void answerToHeadWithABodyAfterItIsNotReusable() {
        decoder.expect(true);
        List<Object> events = probe.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertThat(events).hasSize(2);
        assertThat(reusableAtEnd).containsExactly(false);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void informationalHeadsComeBeforeTheFinalOne() {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertWellFormed(events);
        assertThat(RequestDecoderTest.heads(events)).extracting(MessageHead::status).containsExactly(100, 103, 200);
        assertThat(events).hasSize(7);
        assertThat(body(events)).isEqualTo("ok");
        assertThat(reusableAtEnd).containsExactly(false, false, true); // the next heads were still in the buffer
    }

    @Test
    void switchingProtocolsStopsDecodingAndKeepsTheBytes() {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0081\u0000");
        assertThat(events).hasSize(2);
        assertThat(decoder.reusable()).isFalse();
        channel.pipeline().remove(decoder); // as the upgrade handler does: the bytes after the head go on
        ByteBuf rest = channel.readInbound();
        assertThat(rest.toString(StandardCharsets.ISO_8859_1)).isEqualTo("\u0081\u0000");
        rest.release();
    }

    @ParameterizedTest
    @CsvSource({"204", "304"})
    void noContentAndNotModifiedHaveNoBodyAndStrayBytesSpoilReuse(int status) {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.1 " + status + " X\r\nContent-Length: 5\r\n\r\n");
        assertThat(events).hasSize(2);
        assertThat(reusableAtEnd).containsExactly(true);
        decoder.expect(false);
        events = probe.write("HTTP/1.1 " + status + " X\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(events).hasSize(4);
        assertThat(reusableAtEnd).containsExactly(true, false);
        assertThat(channel.isOpen()).as("the stray bytes came while idle").isFalse();
    }

    @Test
    void theDecoderIdlesAfterAFinalResponseUntilTheNextRequest() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(reusableAtEnd).containsExactly(true, true);
        assertThat(channel.isOpen()).isTrue();
        List<Object> events = probe.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); // not asked for
        assertThat(events).hasSize(4);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void bytesWhileIdleCloseTheConnection() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        decoder.idle();
        assertThat(channel.isOpen()).isTrue();
        List<Object> events = probe.write("H");
        assertThat(events).hasSize(2); // only the first response
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void bytesBeforeAnyRequestCloseTheConnection() {
        channel.writeInbound(probe.bytes("HTTP/1.1 200 OK\r\n\r\n"));
        assertThat(probe.drain()).isEmpty();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void closeDelimitedBodyEndsWithTheConnection() {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nabc");
        events = probe.write("def");
        assertThat(decoder.closeDelimited()).isTrue();
        assertThat(events).hasSize(3);
        channel.finish();
        events = probe.write("");
        assertWellFormed(events);
        assertThat(body(events)).isEqualTo("abcdef");
        assertThat(((MessageHead) events.getFirst()).contentLength()).isEqualTo(-1);
        assertThat(reusableAtEnd).containsExactly(false);
    }

    @Test
    void closeBeforeAContentLengthBodyEndedBreaksTheResponseOff() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        channel.finish();
        List<Object> events = probe.write("");
        assertFailedWith(events, 502, "broke off the response (connection closed before the body ended)");
        assertThat(body(events)).isEqualTo("abc");
    }

    @Test
    void closeBeforeAChunkedBodyEndedBreaksTheResponseOff() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        channel.finish();
        assertFailedWith(probe.write(""), 502, "broke off the response (connection closed before the body ended)");
    }

    @Test
    void closeInTheMiddleOfAHeadIsAnInvalidResponse() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nContent-");
        channel.finish();
        assertFailedWith(probe.write(""), 502, "sent an invalid response (connection closed after 25 bytes of a head)");
    }

    @Test
    void closeWithoutAnyByteGivesNothing() {
        decoder.expect(false);
        channel.finish();
        assertThat(probe.drain()).isEmpty();
    }

    @Test
    void chunkedResponseWithTrailers() {
        decoder.expect(false);
        List<Object> events = probe.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4;a=b\r\nwiki\r\n5\r\npedia\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n");
        assertWellFormed(events);
        assertThat(body(events)).isEqualTo("wikipedia");
        MessageEnd end = (MessageEnd) events.getLast();
        assertThat(end.trailers().get(AsciiString.cached("server-timing"))).isEqualTo("db;dur=53");
        assertThat(reusableAtEnd).containsExactly(true);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "zz\\r\\nhello\\r\\n0\\r\\n\\r\\n|invalid chunk size",
            "5 \\r\\nhello\\r\\n0\\r\\n\\r\\n|invalid chunk size",
            "5;a@=b\\r\\nhello\\r\\n0\\r\\n\\r\\n|invalid chunk extension",
            "5\\nhello\\r\\n0\\r\\n\\r\\n|chunk line ended by LF without CR",
            "5\\r\\nhelloXX0\\r\\n\\r\\n|chunk data not followed by CRLF",
            "0\\r\\nX-T : 1\\r\\n\\r\\n|invalid character in trailer name",
            "0\\r\\nX-T: 1\\n\\r\\n|trailer line ended by LF without CR"})
    void badChunksBreakTheResponseOff(String body, String detail) {
        decoder.expect(false);
        String raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + unescape(body);
        assertFailedWith(probe.write(raw), 502, "broke off the response (" + detail + ")");
    }

    @Test
    void headOverTheLimitIsAnInvalidResponse() {
        decoder.expect(false);
        assertFailedWith(probe.write("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(ResponseDecoder.MAX_HEAD_BYTES) + "\r\n\r\n"),
                502, "sent an invalid response (head larger than 65536 bytes)");
    }

    @Test
    void tricklingBytesGiveTheSameEvents() {
        decoder.expect(false);
        String raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4;a=\"b c\"\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
        List<Object> events = probe.trickle(raw);
        assertWellFormed(events);
        assertThat(RequestDecoderTest.heads(events)).extracting(MessageHead::status).containsExactly(100, 200);
        assertThat(body(events)).isEqualTo("wikipedia");
        assertThat(((MessageEnd) events.getLast()).trailers().get(AsciiString.cached("x-t"))).isEqualTo("1");
        assertThat(reusableAtEnd).containsExactly(true, true);
    }

    @Test
    void leftoverAfterAContentLengthBodyIsNotReusable() {
        decoder.expect(false);
        probe.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokX");
        assertThat(reusableAtEnd).containsExactly(false);
    }

    /** CSV sources spell CR, LF and HTAB as \\r, \\n and \\t. */
    private static String unescape(String csv) {
        return csv.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t");
    }
}
