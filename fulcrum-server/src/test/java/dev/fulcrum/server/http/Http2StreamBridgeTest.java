package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.channel.ChannelFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Http2StreamBridge} on an {@code EmbeddedChannel}: the HTTP/1.1 bytes a request's frames
 * become, and the frames the frontend's HTTP/1.1 response bytes become, byte for byte.
 */
class Http2StreamBridgeTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new Http2StreamBridge());

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private static Http2Headers request(String method, String path) {
        return new DefaultHttp2Headers().method(method).scheme("https").path(path).authority("api.example.com");
    }

    private String inbound() {
        StringBuilder b = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readInbound()) != null) {
            b.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return b.toString();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    /** The frames written so far, one line each: {@code HEADERS :status=200 content-length=5}, {@code DATA hello end}. */
    private List<String> outbound() {
        List<String> out = new ArrayList<>();
        Object o;
        while ((o = channel.readOutbound()) != null) {
            if (o instanceof Http2HeadersFrame h) {
                StringBuilder b = new StringBuilder("HEADERS");
                h.headers().forEach(e -> b.append(' ').append(e.getKey()).append('=').append(e.getValue()));
                out.add(b.append(h.isEndStream() ? " end" : "").toString());
            } else if (o instanceof Http2DataFrame d) {
                out.add("DATA " + d.content().toString(StandardCharsets.ISO_8859_1) + (d.isEndStream() ? " end" : ""));
                d.release();
            } else if (o instanceof Http2ResetFrame r) {
                out.add("RST " + Http2Error.valueOf(r.errorCode()));
            } else {
                out.add(String.valueOf(o));
            }
        }
        return out;
    }

    @Test
    void aStreamResetInTheReadOfItsHeadersNeverReachesTheFrontend() {
        // rapid reset: HEADERS and RST_STREAM in one read; the request would cost a server connection
        channel.pipeline().fireChannelRead(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        channel.pipeline().fireUserEventTriggered(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
        channel.runPendingTasks(); // the event loop is done with the read
        assertThat(inbound()).isEmpty();

        // a stream that outlives the read is passed on once the read is over, in order
        EmbeddedChannel other = new EmbeddedChannel(new Http2StreamBridge());
        other.pipeline().fireChannelRead(new DefaultHttp2HeadersFrame(request("POST", "/up")
                .add("content-length", "2"), false));
        other.pipeline().fireChannelRead(new DefaultHttp2DataFrame(bytes("ok"), true));
        assertThat((Object) other.readInbound()).as("held during the read").isNull();
        other.runPendingTasks();
        StringBuilder passed = new StringBuilder();
        for (ByteBuf b; (b = other.readInbound()) != null; b.release()) {
            passed.append(b.toString(StandardCharsets.ISO_8859_1));
        }
        assertThat(passed.toString()).startsWith("POST /up HTTP/1.1\r\n").endsWith("\r\n\r\nok");
        other.finishAndReleaseAll();
    }

    @Test
    void getBecomesAnHttp11HeadWithAuthorityAsHost() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/v1?q=1").add("accept", "*/*")
                .add("host", "ignored.example").add("cookie", "a=1").add("cookie", "b=2"), true));
        assertThat(inbound()).isEqualTo("GET /v1?q=1 HTTP/1.1\r\nhost: api.example.com\r\naccept: */*\r\n"
                + "cookie: a=1; b=2\r\n\r\n");
    }

    @Test
    void bodyWithContentLengthGoesAsItIs() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up").add("content-length", "5"), false));
        channel.writeInbound(new DefaultHttp2DataFrame(bytes("hel"), false));
        channel.writeInbound(new DefaultHttp2DataFrame(bytes("lo"), true));
        assertThat(inbound()).isEqualTo("POST /up HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 5\r\n\r\nhello");
    }

    @Test
    void bodyWithoutLengthIsChunkedAndTrailersEndIt() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up").add("te", "trailers"), false));
        channel.writeInbound(new DefaultHttp2DataFrame(bytes("hello world, hi"), false));
        channel.writeInbound(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, false));
        channel.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-sum", "7"), true));
        assertThat(inbound()).isEqualTo("POST /up HTTP/1.1\r\nhost: api.example.com\r\nte: trailers\r\n"
                + "transfer-encoding: chunked\r\n\r\nf\r\nhello world, hi\r\n0\r\nx-sum: 7\r\n\r\n");
    }

    @Test
    void chunkedBodyEndsWithTheLastDataFrame() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("PUT", "/up"), false));
        channel.writeInbound(new DefaultHttp2DataFrame(bytes("ab"), true));
        assertThat(inbound()).endsWith("transfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
    }

    @Test
    void valueWithLineFeedResetsTheStreamAndReachesNobody() {
        // headers as a decoder that does not check values would hand them over
        Http2Headers unchecked = new DefaultHttp2Headers(false).method("GET").scheme("http").path("/")
                .authority("a").add("x-a", "1\nx-b: 2");
        channel.writeInbound(new DefaultHttp2HeadersFrame(unchecked, true));
        assertThat(inbound()).isEmpty();
        assertThat(outbound()).containsExactly("RST PROTOCOL_ERROR");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void responseWithLengthBecomesHeadersAndData() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
                + "Keep-Alive: timeout=5\r\nX-Request-Id: r1\r\n\r\nhel"));
        channel.writeOutbound(bytes("lo"));
        assertThat(outbound()).containsExactly("HEADERS :status=200 content-length=5 x-request-id=r1",
                "DATA hel", "DATA lo end");
    }

    @Test
    void chunkedResponseWithTrailersEndsWithTrailingHeaders() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/rpc"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/grpc\r\n\r\n"));
        channel.writeOutbound(bytes("5\r\n"), bytes("hello"), bytes("\r\n"));
        channel.writeOutbound(bytes("0\r\ngrpc-status: 0\r\nGrpc-Message: ok\r\n\r\n"));
        assertThat(outbound()).containsExactly("HEADERS :status=200 content-type=application/grpc", "DATA hello",
                "HEADERS grpc-status=0 grpc-message=ok end");
    }

    @Test
    void chunkedResponseWithoutTrailersEndsWithAnEmptyDataFrame() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
        assertThat(outbound()).containsExactly("HEADERS :status=200", "DATA abc", "DATA  end");
    }

    @Test
    void interimResponseComesBeforeTheFinalOne() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up").add("expect", "100-continue"), false));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 100 Continue\r\n\r\n"));
        channel.writeOutbound(bytes("HTTP/1.1 204 No Content\r\n\r\n"));
        assertThat(outbound()).containsExactly("HEADERS :status=100", "HEADERS :status=204 end");
    }

    @Test
    void responseToHeadHasNoBodyWhateverItDeclares() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("HEAD", "/"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"));
        assertThat(outbound()).containsExactly("HEADERS :status=200 content-length=100 end");
    }

    @Test
    void bodyUntilCloseEndsWithEndStreamOnClose() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\n\r\nabc"));
        channel.close();
        assertThat(outbound()).containsExactly("HEADERS :status=200", "DATA abc", "DATA  end");
    }

    @Test
    void writeThatMakesNoFrameCompletesAfterTheOnesBefore() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        inbound();
        channel.writeOneOutbound(bytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"));
        ChannelFuture empty = channel.writeOneOutbound(Unpooled.EMPTY_BUFFER);
        channel.flushOutbound();
        assertThat(empty.isSuccess()).isTrue();
        assertThat(outbound()).isEmpty();
        channel.writeOutbound(bytes("\r\nabc"));
        assertThat(outbound()).containsExactly("HEADERS :status=200 content-length=3", "DATA abc end");
    }

    @Test
    void closeAfterACompleteResponseToAnUnfinishedRequestResetsWithNoError() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up"), false));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n"));
        channel.close();
        assertThat(outbound()).containsExactly("HEADERS :status=413 content-length=0 end", "RST NO_ERROR");
    }

    @Test
    void closeAfterACompleteExchangeWritesNothingMore() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 204 No Content\r\n\r\n"));
        channel.close();
        assertThat(outbound()).containsExactly("HEADERS :status=204 end");
    }

    @Test
    void aServersCancelPassesOnAndItsHopErrorsBecomeInternalError() {
        for (Http2Error server : new Http2Error[] {Http2Error.CANCEL, Http2Error.ENHANCE_YOUR_CALM, Http2Error.PROTOCOL_ERROR}) {
            EmbeddedChannel ch = new EmbeddedChannel(new Http2StreamBridge());
            ch.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
            for (Object o; (o = ch.readInbound()) != null; ) {
                io.netty.util.ReferenceCountUtil.release(o);
            }
            ch.writeOutbound(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
            ch.pipeline().get(Http2StreamBridge.class).serverReset(server);
            ch.close();
            Object last = null;
            for (Object o; (o = ch.readOutbound()) != null; ) {
                last = o;
            }
            Http2Error expected = server == Http2Error.PROTOCOL_ERROR ? Http2Error.INTERNAL_ERROR : server;
            assertThat(last).as("%s", server).isInstanceOfSatisfying(Http2ResetFrame.class,
                    r -> assertThat(r.errorCode()).isEqualTo(expected.code()));
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void closeInTheMiddleOfAResponseResetsWithInternalError() {
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/test.Echo/Chat"), false));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n"));
        channel.close();
        assertThat(outbound()).containsExactly("HEADERS :status=200 content-type=application/grpc", "DATA abc",
                "RST INTERNAL_ERROR");
    }

    /**
     * Netty's flow controller under a shut window, in front of the bridge: DATA writes wait
     * (their promises pending) until {@link #open}; other frames pass.
     */
    private static final class ShutWindow extends io.netty.channel.ChannelOutboundHandlerAdapter {
        private final List<Object> held = new ArrayList<>();
        private final List<io.netty.channel.ChannelPromise> promises = new ArrayList<>();
        private io.netty.channel.ChannelHandlerContext ctx;

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            this.ctx = ctx;
            if (msg instanceof Http2DataFrame) {
                held.add(msg);
                promises.add(promise);
            } else {
                ctx.write(msg, promise);
            }
        }

        /** The window opens: the DATA goes out, then (as Netty's flow controller does) its writes complete. */
        void open() {
            held.forEach(ctx::write);
            ctx.flush();
            promises.forEach(io.netty.channel.ChannelPromise::setSuccess);
            held.clear();
            promises.clear();
        }
    }

    @Test
    void aBrokenOffBodyIsResetOnlyOnceTheBytesWrittenBeforeTheBreakLeft() {
        ShutWindow window = new ShutWindow();
        channel.pipeline().addFirst(window);
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/test.Echo/Chat"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n"));
        ChannelFuture closed = channel.close();
        // the DATA waits for the client's window: a reset now would drop it
        assertThat(outbound()).containsExactly("HEADERS :status=200 content-type=application/grpc");
        assertThat(closed.isDone()).isFalse();
        window.open();
        assertThat(outbound()).containsExactly("DATA abc", "RST INTERNAL_ERROR");
        assertThat(closed.isSuccess()).isTrue();
    }

    @Test
    void aBrokenOffBodyWhoseBytesNeverLeaveIsResetAfterTheLingerTime() {
        channel.freezeTime();
        channel.pipeline().addFirst(new ShutWindow());
        channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/"), true));
        inbound();
        channel.writeOutbound(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"));
        ChannelFuture closed = channel.pipeline().close(); // (EmbeddedChannel.close() would cancel the timer)
        channel.advanceTimeBy(FrontendHandler.LINGER_MILLIS - 1, java.util.concurrent.TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(closed.isDone()).isFalse();
        channel.advanceTimeBy(10, java.util.concurrent.TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(outbound()).containsExactly("HEADERS :status=200", "RST INTERNAL_ERROR");
        assertThat(closed.isSuccess()).isTrue();
    }
}
