package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A request head, body and end as the frames of one stream. */
class ServerH2RequestWriterTest {

    private final ServerH2ResponseBridge bridge = new ServerH2ResponseBridge();
    private ServerH2RequestWriter writer;
    private final EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            writer = new ServerH2RequestWriter(ctx, AsciiString.of("http"), bridge);
        }
    });

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private static ByteBuf part(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    }

    @Test
    void aRequestWithoutBodyIsOneHeadersFrameWithEndStream() {
        MessageHead r = TestHeads.request("GET /a?b=1 HTTP/1.1\r\nHost: api.test\r\nConnection: keep-alive\r\n"
                + "Keep-Alive: timeout=5\r\nTE: gzip\r\nUpgrade: h2c\r\nX-Custom: One\r\n");
        writer.writeRequest(r, ch.newPromise());
        writer.writeBody(part("dropped"), ch.newPromise());
        writer.writeEnd(MessageEnd.NO_TRAILERS, ch.newPromise());
        ch.flush();
        Http2HeadersFrame f = ch.readOutbound();
        assertThat(f.isEndStream()).isTrue();
        Http2Headers h = f.headers();
        assertThat(h.method()).hasToString("GET");
        assertThat(h.scheme()).hasToString("http");
        assertThat(h.path()).hasToString("/a?b=1");
        assertThat(h.authority()).hasToString("api.test");
        assertThat(h.get("x-custom")).hasToString("One");
        for (String gone : new String[] {"host", "connection", "keep-alive", "te", "upgrade"}) {
            assertThat(h.contains(gone)).as(gone).isFalse();
        }
        assertThat((Object) ch.readOutbound()).isNull();
    }

    @Test
    void aChunkedBodyGoesAsDataFramesAndItsTrailersAsTrailingHeaders() {
        MessageHead r = TestHeads.request("POST /pkg.Svc/Call HTTP/1.1\r\nHost: g.test\r\n"
                + "Content-Type: application/grpc\r\nTransfer-Encoding: chunked\r\n");
        writer.writeRequest(r, ch.newPromise());
        writer.writeBody(part("abc"), ch.newPromise());
        writer.writeEnd(MessageEnd.withTrailers(TestHeads.trailers("X-Checksum: 1\r\nContent-Length: 3\r\n")),
                ch.newPromise());
        ch.flush();
        Http2HeadersFrame head = ch.readOutbound();
        assertThat(head.isEndStream()).isFalse();
        assertThat(head.headers().get("te")).as("gRPC servers expect TE: trailers").hasToString("trailers");
        assertThat(head.headers().contains("transfer-encoding")).isFalse();
        Http2DataFrame data = ch.readOutbound();
        assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        assertThat(data.isEndStream()).isFalse();
        data.release();
        Http2HeadersFrame trailers = ch.readOutbound();
        assertThat(trailers.isEndStream()).isTrue();
        assertThat(trailers.headers().get("x-checksum")).hasToString("1");
        assertThat(trailers.headers().contains("content-length")).as("not allowed as a trailer").isFalse();
    }

    @Test
    void aContentLengthBodyIsCutAtItsLengthAndEndsWithAnEmptyDataFrame() {
        MessageHead r = TestHeads.request("POST /upload HTTP/1.1\r\nHost: u.test\r\nContent-Length: 4\r\n");
        writer.writeRequest(r, ch.newPromise());
        writer.writeBody(part("abcdef"), ch.newPromise());
        writer.writeBody(part("more"), ch.newPromise());
        writer.writeEnd(MessageEnd.NO_TRAILERS, ch.newPromise());
        ch.flush();
        Http2HeadersFrame head = ch.readOutbound();
        assertThat(head.headers().get("content-length")).hasToString("4");
        Http2DataFrame data = ch.readOutbound();
        assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abcd");
        data.release();
        Http2DataFrame end = ch.readOutbound();
        assertThat(end.isEndStream()).isTrue();
        assertThat(end.content().readableBytes()).isZero();
        end.release();
    }

    @Test
    void namesAndValuesAreCopiedSoThatEditingTheHeadLaterChangesNothingSent() {
        MessageHead r = TestHeads.request("GET / HTTP/1.1\r\nHost: a.test\r\nX-Name: before\r\n");
        writer.writeRequest(r, ch.newPromise());
        ch.flush();
        Http2HeadersFrame f = ch.readOutbound();
        r.set(AsciiString.of("x-name"), "X-Name", "after!");
        ForwardedHeaders.setServerHost(r, "b.test");
        assertThat(f.headers().get("x-name")).hasToString("before");
        assertThat(f.headers().authority()).hasToString("a.test");
    }

    @Test
    void isGrpcReadsTheMediaType() {
        assertThat(ServerH2RequestWriter.isGrpc("application/grpc")).isTrue();
        assertThat(ServerH2RequestWriter.isGrpc("application/grpc+proto")).isTrue();
        assertThat(ServerH2RequestWriter.isGrpc("Application/GRPC;charset=x")).isTrue();
        assertThat(ServerH2RequestWriter.isGrpc("application/grpc-web")).isFalse();
        assertThat(ServerH2RequestWriter.isGrpc("text/plain")).isFalse();
        assertThat(ServerH2RequestWriter.isGrpc(null)).isFalse();
    }
}
