package dev.fulcrum.server.http.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
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

class StrictRequestDecoderTest {

    private static final int MAX_HEAD = FramingCase.MAX_HEAD;
    private static final String POST_CHUNKED = FramingCase.POST_CHUNKED;
    private static final String GET_OK = "GET /next HTTP/1.1\r\n" + FramingCase.HOST + "\r\n";

    private final EmbeddedChannel channel = new EmbeddedChannel(HttpCodecs.requestDecoder(MAX_HEAD));

    @AfterEach
    void finish() {
        channel.finishAndReleaseAll();
    }

    static Stream<Arguments> rejected() {
        return FramingCase.rejected().stream().map(c -> arguments(c.name(), c.raw(), c.status(), c.message()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void rejectsAndEmitsNothingAfterTheFailure(String name, String raw, int status, String message) {
        // a valid request follows in the same packet and in a later one: neither may come out
        channel.writeInbound(bytes(raw + GET_OK));
        channel.writeInbound(bytes(GET_OK));

        List<HttpObject> objects = readAll();
        assertThat(objects).isNotEmpty();
        HttpObject last = objects.getLast();
        assertThat(last.decoderResult().isFailure()).as("last message failed").isTrue();
        assertThat(last.decoderResult().cause()).isInstanceOf(BadRequestException.class);
        BadRequestException cause = (BadRequestException) last.decoderResult().cause();
        assertThat(cause.status()).isEqualTo(status);
        assertThat(cause.getMessage()).contains(message).doesNotContain("\n");
        assertThat(objects.subList(0, objects.size() - 1))
                .allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        assertThat(objects).noneMatch(o -> o instanceof HttpRequest r && r.uri().equals("/next"));
        release(objects);
    }

    @ParameterizedTest(name = "{0}, byte by byte")
    @MethodSource("rejected")
    void rejectsTheSameWhenBytesTrickleIn(String name, String raw, int status, String message) {
        byte[] data = (raw + GET_OK).getBytes(StandardCharsets.ISO_8859_1);
        List<HttpObject> objects = new ArrayList<>();
        for (byte b : data) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            objects.addAll(readAll());
        }
        HttpObject last = objects.getLast();
        BadRequestException cause = (BadRequestException) last.decoderResult().cause();
        assertThat(cause.status()).isEqualTo(status);
        assertThat(cause.getMessage()).contains(message);
        assertThat(objects).noneMatch(o -> o instanceof HttpRequest r && r.uri().equals("/next"));
        release(objects);
    }

    @Test
    void getWithKeepAlivePassesUnchanged() {
        channel.writeInbound(bytes("GET /a?b=c HTTP/1.1\r\nHost: example\r\nConnection: keep-alive\r\nX-Tab: a\tb\r\n"
                + "X-Latin: caf\u00e9\r\n\r\n"));
        List<HttpObject> objects = readAll();
        assertThat(objects).hasSize(2);
        HttpRequest request = (HttpRequest) objects.get(0);
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.method().name()).isEqualTo("GET");
        assertThat(request.uri()).isEqualTo("/a?b=c");
        assertThat(request.protocolVersion().text()).isEqualTo("HTTP/1.1");
        assertThat(request.headers().get("Connection")).isEqualTo("keep-alive");
        assertThat(request.headers().get("X-Tab")).isEqualTo("a\tb");
        assertThat(request.headers().get("X-Latin")).isEqualTo("caf\u00e9");
        assertThat(objects.get(1)).isInstanceOf(LastHttpContent.class);
        release(objects);
    }

    @Test
    void absoluteFormBecomesOriginFormWithItsAuthorityAsHost() {
        channel.writeInbound(bytes("GET HTTP://Other.Example:8080?q=1 HTTP/1.1\r\nHost: example\r\n\r\n"
                + "OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"));
        List<HttpObject> objects = readAll();
        assertThat(objects).hasSize(4).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        HttpRequest absolute = (HttpRequest) objects.get(0);
        assertThat(absolute.uri()).isEqualTo("/?q=1");
        assertThat(absolute.headers().getAll("Host")).containsExactly("Other.Example:8080");
        HttpRequest asterisk = (HttpRequest) objects.get(2);
        assertThat(asterisk.uri()).isEqualTo("*");
        release(objects);
    }

    @Test
    void http10WithoutHostPasses() {
        channel.writeInbound(bytes("\r\nGET / HTTP/1.0\r\n\r\n"));
        List<HttpObject> objects = readAll();
        assertThat(objects).hasSize(2).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        release(objects);
    }

    @Test
    void postWithContentLengthStreamsTheBody() {
        channel.writeInbound(bytes("POST /up HTTP/1.1\r\nHost: example\r\nContent-Length: 11\r\n\r\nhello world"));
        List<HttpObject> objects = readAll();
        assertThat(objects.getFirst()).isInstanceOf(HttpRequest.class);
        assertThat(body(objects)).isEqualTo("hello world");
        assertThat(objects.getLast()).isInstanceOf(LastHttpContent.class);
        assertThat(objects).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        release(objects);
    }

    @Test
    void chunkedPostWithExtensionAndTrailers() {
        channel.writeInbound(bytes("POST /up HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: Chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"));
        List<HttpObject> objects = readAll();
        assertThat(objects).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        assertThat(body(objects)).isEqualTo("hello world");
        LastHttpContent last = (LastHttpContent) objects.getLast();
        assertThat(last.trailingHeaders().get("X-Checksum")).isEqualTo("abc");
        release(objects);
    }

    @Test
    void framingHeadersInTrailersAreDroppedAndFoldingIsJoined() {
        // Netty keeps trailers out of framing: Content-Length / Transfer-Encoding there are dropped,
        // and a folded trailer becomes one value, so what the proxy re-encodes is unambiguous
        channel.writeInbound(bytes(POST_CHUNKED + "0\r\nContent-Length: 5\r\nX-T: 1\r\n 2\r\n\r\n"));
        List<HttpObject> objects = readAll();
        LastHttpContent last = (LastHttpContent) objects.getLast();
        assertThat(last.decoderResult().isSuccess()).isTrue();
        assertThat(last.trailingHeaders().names()).containsExactly("X-T");
        assertThat(last.trailingHeaders().get("X-T")).isEqualTo("1 2");
        release(objects);
    }

    @Test
    void pipelinedRequestsBothPass() {
        channel.writeInbound(bytes("POST /a HTTP/1.1\r\nHost: example\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /b HTTP/1.1\r\nHost: example\r\n\r\n"));
        List<HttpObject> objects = readAll();
        assertThat(objects).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        assertThat(objects).filteredOn(HttpRequest.class::isInstance).extracting(o -> ((HttpRequest) o).uri())
                .containsExactly("/a", "/b");
        release(objects);
    }

    @Test
    void secondPipelinedRequestIsCheckedToo() {
        channel.writeInbound(bytes("GET /a HTTP/1.1\r\nHost: example\r\n\r\n"
                + "GET /b HTTP/1.1\r\nHost: example\r\nX-A: a\r\n b\r\n\r\n"));
        List<HttpObject> objects = readAll();
        assertThat(((HttpRequest) objects.get(0)).uri()).isEqualTo("/a");
        assertThat(objects.get(0).decoderResult().isSuccess()).isTrue();
        assertThat(objects.getLast().decoderResult().cause()).hasMessageContaining("obsolete line folding");
        release(objects);
    }

    @Test
    void headJustUnderTheLimitPasses() {
        String start = "GET / HTTP/1.1\r\nHost: example\r\nX-Big: ";
        String end = "\r\n\r\n";
        String head = start + "a".repeat(MAX_HEAD - start.length() - end.length()) + end;
        assertThat(head).hasSize(MAX_HEAD);
        channel.writeInbound(bytes(head));
        List<HttpObject> objects = readAll();
        assertThat(objects).hasSize(2).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        assertThat(((HttpRequest) objects.getFirst()).headers().get("X-Big")).hasSize(MAX_HEAD - start.length() - 4);
        release(objects);
    }

    @Test
    void validRequestTricklingInPasses() {
        byte[] data = ("POST /t HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                + GET_OK).getBytes(StandardCharsets.ISO_8859_1);
        List<HttpObject> objects = new ArrayList<>();
        for (byte b : data) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            objects.addAll(readAll());
        }
        assertThat(objects).allSatisfy(o -> assertThat(o.decoderResult().isSuccess()).isTrue());
        assertThat(body(objects)).isEqualTo("abc");
        assertThat(objects).filteredOn(HttpRequest.class::isInstance).hasSize(2);
        release(objects);
    }

    @Test
    void exceptionHasNoStackTraceAndOnlyKnownStatuses() {
        assertThat(new BadRequestException(413, "body too large").getStackTrace()).isEmpty();
        assertThat(new BadRequestException(405, "CONNECT is not supported").status()).isEqualTo(405);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BadRequestException(500, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private List<HttpObject> readAll() {
        List<HttpObject> objects = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null; ) {
            objects.add((HttpObject) o);
        }
        return objects;
    }

    private static String body(List<HttpObject> objects) {
        StringBuilder body = new StringBuilder();
        for (HttpObject o : objects) {
            if (o instanceof HttpContent c) {
                body.append(c.content().toString(StandardCharsets.ISO_8859_1));
            }
        }
        return body.toString();
    }

    private static void release(List<HttpObject> objects) {
        objects.forEach(ReferenceCountUtil::release);
    }

    private static ByteBuf bytes(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    }
}
