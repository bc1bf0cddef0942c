package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
 * A tiny server made of the strict decoder and a handler that answers 200 per request, or the
 * {@link BadRequestException} status and closes: what a client sees over a real socket.
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
                        HttpCodecs.addRequestDecoding(ch.pipeline(), "decoder", 8192);
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

    /** 200 "ok URI" per request; on a framing error the error's status and message, then close. */
    private static final class Answerer extends SimpleChannelInboundHandler<HttpObject> {
        private String uri;
        private boolean close;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg.decoderResult().cause() instanceof BadRequestException bad) {
                respond(ctx, HttpResponseStatus.valueOf(bad.status()), bad.getMessage(), true);
                return;
            }
            if (msg instanceof HttpRequest request) {
                uri = request.uri();
                close = "close".equals(request.headers().get(HttpHeaderNames.CONNECTION));
            }
            if (msg instanceof LastHttpContent) {
                respond(ctx, HttpResponseStatus.OK, "ok " + uri, close);
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
