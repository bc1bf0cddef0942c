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

    private static final int MAX_HEAD = 65536;
    private static final String HOST = "Host: example\r\n";
    private static final String POST_CHUNKED = "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n";
    private static final String GET_OK = "GET /next HTTP/1.1\r\n" + HOST + "\r\n";

    private final EmbeddedChannel channel = new EmbeddedChannel(HttpCodecs.requestDecoder(MAX_HEAD));

    @AfterEach
    void finish() {
        channel.finishAndReleaseAll();
    }

    static Stream<Arguments> rejected() {
        return Stream.of(
                // Content-Length / Transfer-Encoding ambiguity (the classic smuggling vectors)
                bad("CL and TE", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "both Content-Length and Transfer-Encoding"),
                bad("TE and CL", "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                        "both Content-Length and Transfer-Encoding"),
                bad("duplicate CL, equal", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                        "more than one Content-Length"),
                bad("duplicate CL, different", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                        "more than one Content-Length"),
                bad("CL list", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5, 5\r\n\r\nhello", "more than one Content-Length"),
                bad("CL +5", cl("+5"), "invalid Content-Length value"),
                bad("CL -1", cl("-1"), "invalid Content-Length value"),
                bad("CL 5 5", cl("5 5"), "invalid Content-Length value"),
                bad("CL 0x10", cl("0x10"), "invalid Content-Length value"),
                bad("CL empty", cl(""), "invalid Content-Length value"),
                bad("CL too large", cl("99999999999999999999"), "invalid Content-Length value"),
                bad("TE gzip", te("gzip"), "Transfer-Encoding other than chunked"),
                bad("TE gzip, chunked", te("gzip, chunked") + "0\r\n\r\n", "Transfer-Encoding other than chunked"),
                bad("TE chunked, gzip", te("chunked, gzip"), "Transfer-Encoding other than chunked"),
                bad("TE chunked twice", te("chunked, chunked") + "0\r\n\r\n", "chunked applied more than once"),
                bad("TE two headers", "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "chunked applied more than once"),
                bad("TE chunked with trailing comma", te("chunked,") + "0\r\n\r\n", "Transfer-Encoding other than chunked"),
                bad("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "Transfer-Encoding in an HTTP/1.0 request"),
                // chunk framing
                bad("chunk size not hex", POST_CHUNKED + "zz\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size empty", POST_CHUNKED + "\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size overflow", POST_CHUNKED + "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size leading space", POST_CHUNKED + " 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size sign", POST_CHUNKED + "+5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size 0x", POST_CHUNKED + "0x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size trailing space", POST_CHUNKED + "5 \r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk extension bad token", POST_CHUNKED + "5;a@=b\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
                bad("chunk extension bare CR", POST_CHUNKED + "5;a\rb\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
                bad("chunk extension bare LF", POST_CHUNKED + "5;a\nb\r\nhello\r\n0\r\n\r\n", "chunk line ended by LF without CR"),
                bad("chunk size line LF only", POST_CHUNKED + "5\nhello\r\n0\r\n\r\n", "chunk line ended by LF without CR"),
                bad("chunk data without CRLF", POST_CHUNKED + "5\r\nhelloXX0\r\n\r\n", "chunk data not followed by CRLF"),
                bad("chunk data with LF only", POST_CHUNKED + "5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"),
                bad("trailer with LF only", POST_CHUNKED + "0\r\nX-T: 1\n\r\n", "trailer line ended by LF without CR"),
                bad("trailer name with space", POST_CHUNKED + "0\r\nX-T : 1\r\n\r\n", "invalid character in trailer name"),
                bad("trailer value with bare CR", POST_CHUNKED + "0\r\nX-T: 1\r2\r\n\r\n", "invalid character in trailer value"),
                bad("trailer value with NUL", POST_CHUNKED + "0\r\nX-T: 1\u00002\r\n\r\n", "invalid character in trailer value"),
                bad("trailer without colon", POST_CHUNKED + "0\r\nX-T\r\n\r\n", "trailer line without a colon"),
                // header lines
                bad("obs-fold SP", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\r\n b\r\n\r\n", "obsolete line folding"),
                bad("obs-fold HTAB", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\r\n\tb\r\n\r\n", "obsolete line folding"),
                bad("obs-fold hiding TE", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\nhello",
                        "obsolete line folding"),
                bad("space before colon", "GET / HTTP/1.1\r\n" + HOST + "Transfer-Encoding : chunked\r\n\r\n",
                        "whitespace between header name and colon"),
                bad("tab before colon", "GET / HTTP/1.1\r\n" + HOST + "X-A\t: a\r\n\r\n", "whitespace between header name and colon"),
                bad("header name bad token", "GET / HTTP/1.1\r\n" + HOST + "X(A): a\r\n\r\n", "invalid character in header name"),
                bad("header name NUL", "GET / HTTP/1.1\r\n" + HOST + "X\0A: a\r\n\r\n", "invalid character in header name"),
                bad("empty header name", "GET / HTTP/1.1\r\n" + HOST + ": a\r\n\r\n", "empty header name"),
                bad("line without colon", "GET / HTTP/1.1\r\n" + HOST + "XA\r\n\r\n", "header line without a colon"),
                bad("bare CR in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\rb\r\n\r\n", "CR not followed by LF"),
                bad("bare CR ending a line", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\rX-B: b\r\n\r\n", "CR not followed by LF"),
                bad("bare CR ending the head", "GET / HTTP/1.1\r\n" + HOST + "\rX", "CR not followed by LF"),
                bad("NUL in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\0b\r\n\r\n", "control character in header value"),
                bad("control char in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\u0001b\r\n\r\n", "control character in header value"),
                bad("DEL in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\u007fb\r\n\r\n", "control character in header value"),
                bad("LF-only request line", "GET / HTTP/1.1\n" + HOST + "\r\n", "line ended by LF without CR"),
                bad("LF-only header line", "GET / HTTP/1.1\r\nHost: a\n\r\n", "line ended by LF without CR"),
                bad("LF-only end of head", "GET / HTTP/1.1\r\nHost: a\r\n\n", "line ended by LF without CR"),
                // request line
                bad("two spaces after method", "GET  / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP request-target SP HTTP/1.x"),
                bad("two spaces before version", "GET /  HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("space after version", "GET / HTTP/1.1 \r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("tab as separator", "GET\t/ HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("bare CR in request line", "GET /\r HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("missing version", "GET /\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("leading space", " GET / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("leading control char", "\u0001GET / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("HTTP/2.0", "GET / HTTP/2.0\r\n" + HOST + "\r\n", "HTTP version is not HTTP/1.0 or HTTP/1.1"),
                bad("HTTP/1.2", "GET / HTTP/1.2\r\n" + HOST + "\r\n", "HTTP version is not HTTP/1.0 or HTTP/1.1"),
                bad("lower-case version", "GET / http/1.1\r\n" + HOST + "\r\n", "HTTP version is not HTTP/1.0 or HTTP/1.1"),
                bad("control char in target", "GET /a\u0001b HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("non-ASCII in target", "GET /caf\u00e9 HTTP/1.1\r\n" + HOST + "\r\n", "invalid character in request-target"),
                bad("bad method token", "G(T / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("missing Host", "GET / HTTP/1.1\r\n\r\n", "missing Host header"),
                bad("two Host", "GET / HTTP/1.1\r\n" + HOST + "Host: other\r\n\r\n", "more than one Host header"),
                bad("two Host in HTTP/1.0", "GET / HTTP/1.0\r\n" + HOST + HOST + "\r\n", "more than one Host header"),
                // sizes
                arguments("head over the limit", "GET / HTTP/1.1\r\n" + HOST + "X-Big: " + "a".repeat(MAX_HEAD) + "\r\n\r\n",
                        431, "request head larger than 65536 bytes"),
                arguments("endless request line", "GET /" + "a".repeat(MAX_HEAD + 10), 431, "request head larger than 65536 bytes"),
                arguments("trailers over the limit", POST_CHUNKED + "0\r\nX-T: " + "a".repeat(MAX_HEAD) + "\r\n\r\n",
                        431, "trailers larger than 65536 bytes"));
    }

    private static Arguments bad(String name, String raw, String message) {
        return arguments(name, raw, 400, message);
    }

    private static String cl(String value) {
        return "POST / HTTP/1.1\r\n" + HOST + "Content-Length: " + value + "\r\n\r\nhello";
    }

    private static String te(String value) {
        return "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: " + value + "\r\n\r\n";
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
