package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small h2c server (HTTP/2 by prior knowledge, Netty's frame codec) for the tests of pools with
 * {@code protocol: h2c}, with a settable {@code SETTINGS_MAX_CONCURRENT_STREAMS}, counting its
 * connections, and able to hold responses, send GOAWAY, refuse streams and misbehave. Given an
 * {@code SslContext} it speaks TLS first (an h2 server when the context's ALPN offers h2), and
 * keeps the SNI names clients sent. Paths:
 * <ul>
 * <li>{@code /hello}: 200 with a Content-Length; {@code /echo}: the request body back;</li>
 * <li>{@code /large/N}: N bytes of {@link TestBackend#pattern} without a length, each DATA frame
 *     written once the previous one went out (the client's flow control paces it);</li>
 * <li>{@code /grpc}: a gRPC-style response (HEADERS, DATA, trailing HEADERS with grpc-status);
 *     {@code /trailers-only}: one HEADERS with END_STREAM and grpc-status; {@code /test.Reset/AfterMessage}:
 *     HEADERS and one gRPC message, then RST_STREAM INTERNAL_ERROR, all in one socket write
 *     ({@code /test.Reset/CancelAfterMessage}: CANCEL); {@code /test.Reset/Immediately}: only the reset;</li>
 * <li>{@code /hold}: answered only by {@link #release} (while {@link #hold} is on; else at once);</li>
 * <li>{@code /bad-status}, {@code /short-body}, {@code /long-body}, {@code /crlf-value}: hostile.</li>
 * </ul>
 */
public final class H2cTestServer implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final AtomicInteger connectionsOpened = new AtomicInteger();
    final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    public final AtomicInteger streamsSeen = new AtomicInteger();
    /** The SNI names clients sent, when the server speaks TLS. */
    final Set<String> sniNames = ConcurrentHashMap.newKeySet();
    final AtomicInteger pingsReceived = new AtomicInteger();
    /** Body bytes of {@code /large} responses whose writes completed (past the server's flow control). */
    final AtomicLong largeBytesSent = new AtomicLong();
    /** How many of the next streams get RST_STREAM(REFUSED_STREAM) instead of an answer. */
    final AtomicInteger refuseNext = new AtomicInteger();
    final ConcurrentLinkedQueue<Http2StreamChannel> held = new ConcurrentLinkedQueue<>();
    volatile boolean hold;
    volatile boolean answerPings = true;

    public H2cTestServer(long maxConcurrentStreams) throws InterruptedException {
        this(maxConcurrentStreams, null);
    }

    /** @param tls when not null, the server's TLS (its ALPN decides whether clients may speak h2) */
    public H2cTestServer(long maxConcurrentStreams, SslContext tls) throws InterruptedException {
        Http2Settings settings = Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams);
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connectionsOpened.incrementAndGet();
                        connections.add(ch);
                        ch.closeFuture().addListener(f -> connections.remove(ch));
                        if (tls == null) {
                            h2(ch.pipeline(), settings);
                            return;
                        }
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        // HTTP/2 only once ALPN chose it, as Netty's h2 server example does; else nothing is served
                        ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                            @Override
                            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                                if (ssl.engine().getSession() instanceof javax.net.ssl.ExtendedSSLSession session) {
                                    session.getRequestedServerNames().forEach(n -> sniNames.add(
                                            new String(n.getEncoded(), StandardCharsets.US_ASCII)));
                                }
                                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                    h2(ctx.pipeline(), settings);
                                } else {
                                    ctx.close();
                                }
                            }
                        });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    /**
     * A server context for {@link #H2cTestServer(long, SslContext)}: {@code certificate}, ALPN
     * offering {@code protocols} (h2 for an h2 server, only http/1.1 for one that refuses h2), and
     * when {@code clientCa} is not null, client certificates it signed required.
     */
    public static SslContext serverTls(dev.fulcrum.server.testing.TestCertificates.Files certificate,
                                java.nio.file.Path clientCa, String... protocols) throws javax.net.ssl.SSLException {
        SslContextBuilder b = SslContextBuilder.forServer(certificate.cert().toFile(), certificate.key().toFile())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols));
        if (clientCa != null) {
            b.clientAuth(ClientAuth.REQUIRE).trustManager(clientCa.toFile());
        }
        return b.build();
    }

    private void h2(ChannelPipeline pipeline, Http2Settings settings) {
        pipeline.addLast(new OneBurst());
        pipeline.addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).autoAckPingFrame(false).build());
        pipeline.addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                s.pipeline().addLast(new StreamHandler());
            }
        }));
        pipeline.addLast(new PingHandler());
    }

    public HostPort address() {
        return new HostPort("127.0.0.1", ((java.net.InetSocketAddress) server.localAddress()).getPort());
    }

    /** Answers the held streams with ids up to {@code maxStreamId} ("held"). */
    void release(int maxStreamId) {
        for (Http2StreamChannel s : held) {
            if (s.stream().id() <= maxStreamId) {
                held.remove(s);
                s.eventLoop().execute(() -> answer(s, 200, "held"));
            }
        }
    }

    /** The held streams' ids, in order. */
    List<Integer> heldIds() {
        List<Integer> ids = new ArrayList<>();
        held.forEach(s -> ids.add(s.stream().id()));
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    /** Sends GOAWAY(NO_ERROR, lastStreamId) on the connection of the held streams. */
    void goAway(int lastStreamId) throws Exception {
        Channel conn = held.peek().parent();
        conn.eventLoop().submit(() -> {
            Http2FrameCodec codec = conn.pipeline().get(Http2FrameCodec.class);
            ChannelHandlerContext ctx = conn.pipeline().context(codec);
            codec.goAway(ctx, lastStreamId, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, ctx.newPromise());
            ctx.flush();
        }).sync();
    }

    private static void answer(Channel s, int status, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Http2Headers h = new DefaultHttp2Headers().status(Integer.toString(status))
                .add("content-type", "text/plain").add("content-length", Integer.toString(bytes.length));
        s.write(new DefaultHttp2HeadersFrame(h, false));
        s.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true));
    }

    /** Below the codec: while {@code holding}, flushes stop here, so that frames leave in one socket write. */
    private static final class OneBurst extends io.netty.channel.ChannelOutboundHandlerAdapter {
        boolean holding;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (!holding) {
                ctx.flush();
            }
        }
    }

    private final class PingHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2PingFrame p && !p.ack()) {
                pingsReceived.incrementAndGet();
                if (answerPings) {
                    ctx.writeAndFlush(new DefaultHttp2PingFrame(p.content(), true));
                }
            }
            ReferenceCountUtil.release(msg);
        }
    }

    private final class StreamHandler extends ChannelInboundHandlerAdapter {
        private Http2Headers request;
        private CompositeByteBuf body;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h && request == null) {
                    request = h.headers();
                    streamsSeen.incrementAndGet();
                    body = ctx.alloc().compositeBuffer(1024);
                    if (refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
                        return;
                    }
                    if (h.isEndStream()) {
                        respond(ctx);
                    }
                } else if (msg instanceof Http2DataFrame d && body != null) {
                    body.addComponent(true, d.content().retain());
                    if (d.isEndStream()) {
                        respond(ctx);
                    }
                } else if (msg instanceof Http2HeadersFrame h && h.isEndStream() && body != null) {
                    respond(ctx); // request trailers
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (body != null) {
                body.release();
                body = null;
            }
        }

        private void respond(ChannelHandlerContext ctx) {
            Channel s = ctx.channel();
            String path = request.path().toString();
            switch (path) {
                case "/hello" -> answer(s, 200, "hello from h2c");
                case "/echo" -> {
                    Http2Headers h = new DefaultHttp2Headers().status("200")
                            .add("content-length", Integer.toString(body.readableBytes()))
                            .add("x-request-method", request.method())
                            .add("x-request-authority", String.valueOf(request.authority()))
                            .add("x-request-scheme", String.valueOf(request.scheme()))
                            .add("x-saw-connection-fields", String.valueOf(request.contains("connection")
                                    || request.contains("transfer-encoding") || request.contains("host")));
                    s.write(new DefaultHttp2HeadersFrame(h, false));
                    s.writeAndFlush(new DefaultHttp2DataFrame(body.retain(), true));
                }
                case "/hold" -> {
                    if (hold) {
                        held.add((Http2StreamChannel) s);
                    } else {
                        answer(s, 200, "held");
                    }
                }
                case "/grpc" -> {
                    s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                            .add("content-type", "application/grpc"), false));
                    s.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 3, 'a', 'b', 'c'}), false));
                    s.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                            .add("grpc-status", "0").add("grpc-message", "all good"), true));
                }
                case "/test.Reset/AfterMessage", "/test.Reset/CancelAfterMessage" -> {
                    // HEADERS, DATA and RST_STREAM in one socket write. Netty's codec holds DATA in
                    // its flow controller until a flush, and a reset written before that drops it
                    // (the stream closes): the codec is flushed first, the socket only after the reset
                    Channel conn = s.parent();
                    OneBurst burst = conn.pipeline().get(OneBurst.class);
                    burst.holding = true;
                    s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                            .add("content-type", "application/grpc"), false));
                    s.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 3, 'a', 'b', 'c'}), false));
                    conn.flush(); // the codec writes the DATA; the socket flush is held
                    s.write(new DefaultHttp2ResetFrame(path.startsWith("/test.Reset/Cancel")
                            ? Http2Error.CANCEL : Http2Error.INTERNAL_ERROR));
                    burst.holding = false;
                    conn.flush();
                }
                case "/test.Reset/Immediately" -> s.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
                case "/trailers-only" -> s.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                        .status("200").add("content-type", "application/grpc")
                        .add("grpc-status", "5").add("grpc-message", "no such thing"), true));
                case "/bad-status" -> s.writeAndFlush(new DefaultHttp2HeadersFrame(
                        new DefaultHttp2Headers(false).status("2000"), true));
                case "/crlf-value" -> s.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false)
                        .status("200").add("x-smuggle", "a\r\ncontent-length: 0"), true));
                case "/short-body" -> {
                    s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                            .add("content-length", "100"), false));
                    s.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[10]), true));
                }
                case "/long-body" -> {
                    s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                            .add("content-length", "5"), false));
                    s.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[50]), true));
                }
                default -> {
                    if (path.startsWith("/large/")) {
                        s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
                        sendLarge(s, 0, Long.parseLong(path.substring("/large/".length())));
                    } else {
                        answer(s, 404, "no such path");
                    }
                }
            }
        }

        /** Writes the pattern from {@code from} to {@code n}, a frame at a time, each once the previous went out. */
        private void sendLarge(Channel s, long from, long n) {
            int size = (int) Math.min(16 * 1024, n - from);
            ByteBuf piece = s.alloc().buffer(size);
            for (int i = 0; i < size; i++) {
                piece.writeByte(TestBackend.pattern(from + i));
            }
            boolean last = from + size == n;
            s.writeAndFlush(new DefaultHttp2DataFrame(piece, last)).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    largeBytesSent.addAndGet(size);
                    if (!last) {
                        sendLarge(s, from + size, n);
                    }
                }
            });
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
