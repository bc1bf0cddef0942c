package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageFailure;
import dev.fulcrum.server.http.message.MessageHead;
import dev.fulcrum.server.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny server made of the request decoder ({@link RequestDecoder}) and a handler that answers
 * 200 per request, or the {@code MessageFailure}'s status and reason and closes: what a client
 * sees over a real socket.
 */
class StrictFramingIT {

    private static Transport transport;
    private static Channel server;

    @BeforeAll
    static void startServer() {
        transport = Transport.create(1);
        server = new ServerBootstrap().group(transport.acceptors(), transport.workers())
                .channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpResponseEncoder());
                        ch.pipeline().addLast("decoder", HttpCodecs.requestDecoder(8192));
                        ch.pipeline().addLast(new Answerer());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    @AfterAll
    static void stopServer() {
        server.close().syncUninterruptibly();
        transport.close();
    }

    @Test
    void smugglingAttemptGetsOne400AndTheConnectionClosed() throws IOException {
        String hidden = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
        String body = "0\r\n\r\n" + hidden;
        String attack = "POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body;

        String answer = exchange(attack);

        assertThat(count(answer, "HTTP/1.1 ")).as("responses in: " + answer).isEqualTo(1);
        assertThat(answer).startsWith("HTTP/1.1 400 ").contains("both Content-Length and Transfer-Encoding")
                .doesNotContain("smuggled");
    }

    @Test
    void validPipelinedRequestsGetTwoAnswers() throws IOException {
        // the control case: the server does answer a second request when the first one is sound
        String answer = exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        assertThat(count(answer, "HTTP/1.1 200 ")).isEqualTo(2);
        assertThat(answer).contains("ok /a").contains("ok /b");
    }

    static java.util.stream.Stream<FramingCase> rejected() {
        return FramingCase.rejected().stream().filter(c -> c.status() != 431); // the server's limit is 8192
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void everyRejectedCaseGetsItsStatusAndReasonThenTheConnectionCloses(FramingCase c) throws IOException {
        String answer = exchange(c.raw() + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");

        assertThat(count(answer, "HTTP/1.1 ")).as("responses in: " + answer).isEqualTo(1);
        assertThat(answer).startsWith("HTTP/1.1 " + c.status() + " ").contains(c.message()).doesNotContain("/next");
    }

    @Test
    void headOverTheLimitGets431() throws IOException {
        String answer = exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 431 ").contains("request head larger than 8192 bytes");
    }

    /** Sends {@code request}, reads until the server closes (bounded by a 5 s read timeout). */
    private static String exchange(String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server.localAddress(), 2000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all); // returns at EOF; a SocketTimeoutException fails the test
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** 200 "ok TARGET" per request; on a framing failure its status and reason, then close. */
    private static final class Answerer extends ChannelInboundHandlerAdapter {
        private static final AsciiString CONNECTION = AsciiString.cached("connection");
        private String target;
        private boolean close;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            switch (msg) {
                case MessageFailure failure ->
                        respond(ctx, HttpResponseStatus.valueOf(failure.status()), failure.reason(), true);
                case MessageHead head -> {
                    target = head.target();
                    close = head.hasToken(CONNECTION, AsciiString.cached("close"));
                }
                case MessageEnd end -> respond(ctx, HttpResponseStatus.OK, "ok " + target, close);
                default -> ReferenceCountUtil.release(msg); // body parts
            }
        }

        private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String text, boolean close) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            if (close) {
                response.headers().set(HttpHeaderNames.CONNECTION, "close");
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(response);
            }
        }
    }
}
