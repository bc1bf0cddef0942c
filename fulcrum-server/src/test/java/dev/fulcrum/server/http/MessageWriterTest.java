package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageWriterTest {

    private final EmbeddedChannel ch = new EmbeddedChannel();
    private final MessageWriter writer = new MessageWriter(ch);
    private final List<ByteBuf> parts = new ArrayList<>();

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
        for (ByteBuf p : parts) {
            assertThat(p.refCnt()).as("every body part is written (and released by the channel) or released").isZero();
        }
    }

    private ByteBuf part(String text) {
        ByteBuf b = Unpooled.directBuffer().writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
        parts.add(b);
        return b;
    }

    /** Everything written so far, flushed, as text. */
    private String wire() {
        ch.flush();
        StringBuilder b = new StringBuilder();
        for (ByteBuf buf; (buf = ch.readOutbound()) != null; ) {
            b.append(TestHeads.text(buf));
        }
        return b.toString();
    }

    private ChannelPromise v() {
        return writer.voidPromise();
    }

    @Test
    void contentLengthBodyIsWrittenAsIsAndCutAtTheDeclaredLength() {
        MessageHead r = TestHeads.response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n");
        writer.writeResponse(r, 1, false, v());
        assertThat(writer.framing()).isEqualTo(MessageWriter.Framing.LENGTH);
        writer.writeBody(part("hel"), v());
        ByteBuf second = part("loEXTRA");
        ChannelFuture f = writer.writeBody(second, ch.newPromise());
        writer.writeBody(part("more"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(f.isSuccess()).isTrue();
        assertThat(writer.framing()).isNull();
    }

    @Test
    void bytesWrittenElsewhereCountAgainstTheContentLength() {
        MessageHead r = TestHeads.response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n");
        writer.writeResponse(r, 1, false, v());
        assertThat(writer.awaitsLengthBody(10)).isTrue();
        assertThat(writer.awaitsLengthBody(11)).isFalse();
        writer.bodyWrittenElsewhere(7); // a splice
        assertThat(writer.awaitsLengthBody(4)).isFalse();
        writer.writeBody(part("89XY"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n89X");
        assertThatThrownBy(() -> writer.bodyWrittenElsewhere(1)).as("between messages")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void chunkedBodyIsReframedWithoutCopyingTheDataAndEndsWithFilteredTrailers() {
        MessageHead r = TestHeads.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n");
        writer.writeResponse(r, 1, false, v());
        ByteBuf data = part("0123456789abcdefX");
        writer.writeBody(data, v());
        ch.flush();
        List<Object> out = new ArrayList<>(ch.outboundMessages());
        assertThat(out).as("head, size line, the part itself, CRLF").hasSize(4);
        assertThat(out.get(2)).isSameAs(data);
        writer.writeBody(part(""), v()); // would be the last chunk if it were framed
        writer.writeBody(part("z"), v());
        MessageHead trailers = TestHeads.trailers("Content-Length: 9\r\ngrpc-status: 0\r\n");
        ChannelFuture end = writer.writeEnd(MessageEnd.withTrailers(trailers), ch.newPromise());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v()); // a second end writes nothing
        writer.writeBody(part("late"), v());
        assertThat(wire()).isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "11\r\n0123456789abcdefX\r\n1\r\nz\r\n0\r\ngrpc-status: 0\r\n\r\n");
        assertThat(end.isSuccess()).isTrue();
    }

    @Test
    void chunkedEndWithoutTrailers() {
        MessageHead req = TestHeads.request("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n");
        writer.writeRequest(req, v());
        writer.writeBody(part("abc"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n");
    }

    @Test
    void requestsAreHttp11AndWithoutBodyWhenTheyDeclareNone() {
        MessageHead get = TestHeads.request("GET / HTTP/1.0\r\nHost: h\r\n");
        ChannelFuture f = writer.writeRequest(get, ch.newPromise());
        assertThat(writer.framing()).isNull();
        writer.writeBody(part("stray"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        MessageHead post = TestHeads.request("POST / HTTP/1.1\r\nContent-Length: 2\r\n");
        writer.writeRequest(post, v());
        writer.writeBody(part("ok"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
        assertThat(f.isSuccess()).isTrue();
    }

    @Test
    void closeDelimitedBodyForAnHttp10Client() {
        MessageHead r = TestHeads.response("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
        ForwardedHeaders.toClient(r, 0, true, false);
        writer.writeResponse(r, 0, false, v());
        assertThat(writer.framing()).isEqualTo(MessageWriter.Framing.CLOSE);
        writer.writeBody(part("all of it"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nall of it");
    }

    @Test
    void headAnswerAnd204And304CarryNoBodyWhateverTheServerSent() {
        MessageHead head = TestHeads.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n");
        writer.writeResponse(head, 1, true, v());
        writer.writeBody(part("stray"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        MessageHead noContent = TestHeads.response("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n");
        writer.writeResponse(noContent, 1, false, v());
        writer.writeBody(part("abc"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        MessageHead notModified = TestHeads.response("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n");
        writer.writeResponse(notModified, 1, false, v());
        writer.writeBody(part("x"), v());
        ChannelFuture end = writer.writeEnd(MessageEnd.NO_TRAILERS, ch.newPromise());
        assertThat(wire()).isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n"
                + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(end.isSuccess()).as("completed in order by an empty write").isTrue();
    }

    @Test
    void interimResponseIsAHeadOnlyThenTheFinalOneFollows() {
        MessageHead cont = TestHeads.response("HTTP/1.1 100 Continue\r\n");
        writer.writeResponse(cont, 1, false, v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        MessageHead ok = TestHeads.response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
        writer.writeResponse(ok, 1, false, v());
        writer.writeBody(part("hi"), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    }

    @Test
    void aHeadBeforeThePreviousBodyEndedIsRefused() {
        writer.writeResponse(TestHeads.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"), 1, false, v());
        assertThatThrownBy(() -> writer.writeResponse(TestHeads.response("HTTP/1.1 200 OK\r\n"), 1, false, v()))
                .isInstanceOf(IllegalStateException.class);
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).endsWith("\r\n\r\n0\r\n\r\n");
    }

    @Test
    void onlyTheLastBufferOfACallCarriesThePromise() {
        List<Boolean> voids = new ArrayList<>();
        EmbeddedChannel counting = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                voids.add(promise.isVoid());
                ctx.write(msg, promise);
            }
        });
        MessageWriter w = new MessageWriter(counting);
        w.writeResponse(TestHeads.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"), 1, false,
                counting.newPromise());
        w.writeBody(part("abc"), counting.newPromise());
        w.writeEnd(MessageEnd.NO_TRAILERS, w.voidPromise());
        assertThat(voids).containsExactly(false, true, true, false, true);
        counting.flush(); // unflushed void writes would fail on close, into exceptionCaught
        counting.finishAndReleaseAll();
    }

    @Test
    void sizeLinesAreLowerCaseHexOfThePart() {
        writer.writeRequest(TestHeads.request("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"), v());
        writer.writeBody(part("x".repeat(300)), v());
        writer.writeBody(part("y".repeat(4096)), v());
        writer.writeEnd(MessageEnd.NO_TRAILERS, v());
        assertThat(wire()).isEqualTo("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n12c\r\n" + "x".repeat(300)
                + "\r\n1000\r\n" + "y".repeat(4096) + "\r\n0\r\n\r\n");
    }

    @Test
    void aContentLengthThatIsNotANumberIsRefusedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> writer.writeRequest(TestHeads.request("POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n"),
                v())).isInstanceOf(IllegalStateException.class);
        assertThat(ch.outboundMessages()).isEmpty();
        assertThat(writer.framing()).isNull();
    }

    @Test
    void aWriterOfAHandlerWritesFromItsPlaceInThePipeline() {
        List<String> seen = new ArrayList<>();
        ChannelOutboundHandlerAdapter outer = new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                seen.add("outer");
                ctx.write(msg, promise);
            }
        };
        ChannelOutboundHandlerAdapter inner = new ChannelOutboundHandlerAdapter();
        EmbeddedChannel pipeline = new EmbeddedChannel(outer, inner);
        MessageWriter w = new MessageWriter(pipeline.pipeline().context(inner));
        w.writeResponse(TestHeads.response("HTTP/1.1 204 No Content\r\n"), 1, false, w.voidPromise());
        pipeline.flush();
        assertThat(TestHeads.text(pipeline.readOutbound())).isEqualTo("HTTP/1.1 204 No Content\r\n\r\n");
        assertThat(seen).containsExactly("outer");
        pipeline.finishAndReleaseAll();
    }
}
