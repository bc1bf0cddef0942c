package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 for the proxy tests. Every path answers {@code server NAME};
 * {@code /bytes?n=N} streams N pattern bytes ({@link #pattern}) with a length, {@code /chunked?n=N}
 * chunked, {@code POST /sha256} answers the
 * body's sha256 and length, {@code /headers} echoes the request head, {@code /never} never answers,
 * {@code /slow?ms=N} answers late, {@code /reset-after-body} reads the body then resets the
 * connection, {@code /close} closes without answering, {@code /stall} stops reading the request body, {@code /bye}
 * answers with {@code Connection: close}. It counts accepted connections and requests
 * per path, and answers {@code Expect: 100-continue}. {@link #webSocket} makes a WebSocket echo
 * server on {@code /ws} instead; {@link #resetting} one that passes its health check
 * ({@code /health} answers 200) but resets every other request once it has read it.
 */
final class TestBackend implements AutoCloseable {

    private final String name;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final boolean resetting;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile HttpHeaders lastHeaders;

    private TestBackend(String name, boolean webSocket, boolean resetting) throws InterruptedException {
        this(name, webSocket, resetting, null);
    }

    private TestBackend(String name, boolean webSocket, boolean resetting, io.netty.handler.ssl.SslContext tls)
            throws InterruptedException {
        this.name = name;
        this.resetting = resetting;
        this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        this.serverChannel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        children.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec());
                        if (webSocket) {
                            ch.pipeline().addLast(new HttpObjectAggregator(65536));
                            ch.pipeline().addLast(new WebSocketServerProtocolHandler("/ws", null, false, 1 << 20));
                            ch.pipeline().addLast(new WebSocketFrameAggregator(1 << 20));
                            ch.pipeline().addLast(new Echo());
                        } else {
                            ch.pipeline().addLast(new HttpServerExpectContinueHandler());
                            ch.pipeline().addLast(new ChunkedWriteHandler());
                            ch.pipeline().addLast(new Handler());
                        }
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    static TestBackend start(String name) throws InterruptedException {
        return new TestBackend(name, false, false);
    }

    static TestBackend webSocket(String name) throws InterruptedException {
        return new TestBackend(name, true, false);
    }

    /** The WebSocket echo server over TLS with {@code tls} (a server context). */
    static TestBackend webSocketOverTls(String name, io.netty.handler.ssl.SslContext tls) throws InterruptedException {
        return new TestBackend(name, true, false, tls);
    }

    /** A server whose health check passes while it resets every other request (an outlier). */
    static TestBackend resetting(String name) throws InterruptedException {
        return new TestBackend(name, false, true);
    }

    String name() {
        return name;
    }

    HostPort address() {
        return new HostPort("127.0.0.1", port());
    }

    int port() {
        return ((java.net.InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Connections this server accepted since it started. */
    int connectionsAccepted() {
        return connections.get();
    }

    /** Connections open right now. */
    int openConnections() {
        return children.size();
    }

    /** Requests (heads) received for {@code path}. */
    int requests(String path) {
        AtomicInteger n = requests.get(path);
        return n == null ? 0 : n.get();
    }

    int totalRequests() {
        return requests.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** The paths of every request received so far. */
    java.util.Set<String> paths() {
        return java.util.Set.copyOf(requests.keySet());
    }

    HttpHeaders lastHeaders() {
        return lastHeaders;
    }

    /** The byte at position {@code i} of a {@code /bytes} stream. */
    static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 9));
    }

    /** Stops accepting and closes every connection (the "server killed" case). Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serverChannel.close().syncUninterruptibly();
        children.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
        private HttpRequest request;
        private String path;
        private MessageDigest digest;
        private long bodyBytes;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) throws Exception {
            if (msg instanceof HttpRequest r) {
                request = r;
                path = new QueryStringDecoder(r.uri()).path();
                lastHeaders = r.headers().copy();
                requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                digest = MessageDigest.getInstance("SHA-256");
                bodyBytes = 0;
                if (path.equals("/close")) {
                    ctx.close();
                    return;
                }
                if (path.equals("/stall")) {
                    ctx.channel().config().setAutoRead(false); // stops reading the upload, never answers
                    request = null;
                    return;
                }
            }
            if (msg instanceof HttpContent c && digest != null && request != null) {
                bodyBytes += c.content().readableBytes();
                digest.update(c.content().nioBuffer());
            }
            if (msg instanceof LastHttpContent && request != null) {
                respond(ctx);
                request = null;
            }
        }

        private void respond(ChannelHandlerContext ctx) throws NoSuchAlgorithmException {
            QueryStringDecoder q = new QueryStringDecoder(request.uri());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            String route = resetting && !path.equals("/health") ? "/reset-after-body" : path;
            switch (route) {
                case "/never" -> {
                }
                case "/reset-after-body" -> {
                    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                    ctx.close();
                }
                case "/bytes" -> {
                    long n = Long.parseLong(q.parameters().get("n").getFirst());
                    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    HttpUtil.setContentLength(head, n);
                    ctx.write(head);
                    ctx.writeAndFlush(new HttpChunkedInput(new PatternInput(n)));
                }
                case "/chunked" -> {
                    long n = Long.parseLong(q.parameters().get("n").getFirst());
                    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    HttpUtil.setTransferEncodingChunked(head, true);
                    ctx.write(head);
                    ctx.writeAndFlush(new HttpChunkedInput(new PatternInput(n)));
                }
                case "/sha256" -> send(ctx, "sha256 " + HexFormat.of().formatHex(digest.digest()) + " bytes "
                        + bodyBytes, keepAlive);
                case "/headers" -> {
                    StringBuilder sb = new StringBuilder();
                    sb.append(request.method()).append(' ').append(request.uri()).append(' ')
                            .append(request.protocolVersion()).append('\n');
                    request.headers().forEach(e -> sb.append(e.getKey().toLowerCase()).append(": ")
                            .append(e.getValue()).append('\n'));
                    send(ctx, sb.toString(), keepAlive);
                }
                case "/slow" -> {
                    long ms = Long.parseLong(q.parameters().get("ms").getFirst());
                    ctx.executor().schedule(() -> send(ctx, "server " + name, keepAlive), ms, TimeUnit.MILLISECONDS);
                }
                case "/bye" -> send(ctx, "server " + name, false);
                default -> send(ctx, "server " + name, keepAlive);
            }
        }

        private void send(ChannelHandlerContext ctx, String text, boolean keepAlive) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            HttpUtil.setContentLength(r, r.content().readableBytes());
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
            r.headers().set("X-Server", name);
            if (!keepAlive) {
                HttpUtil.setKeepAlive(r, false);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(r);
            }
        }
    }

    /** {@code n} pattern bytes in 64 KiB pieces, made as the socket drains (flat memory). */
    private static final class PatternInput implements ChunkedInput<ByteBuf> {
        private final long length;
        private long offset;

        PatternInput(long length) {
            this.length = length;
        }

        @Override
        public boolean isEndOfInput() {
            return offset >= length;
        }

        @Override
        public void close() {
        }

        @Override
        @Deprecated
        public ByteBuf readChunk(ChannelHandlerContext ctx) {
            return readChunk(ctx.alloc());
        }

        @Override
        public ByteBuf readChunk(ByteBufAllocator allocator) {
            int size = (int) Math.min(65536, length - offset);
            // outside Netty's default allocator: the attack tests measure what Fulcrum holds there
            ByteBuf buf = Unpooled.buffer(size);
            for (int i = 0; i < size; i++) {
                buf.writeByte(pattern(offset + i));
            }
            offset += size;
            return buf;
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public long progress() {
            return offset;
        }
    }

    private static final class Echo extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
            ctx.writeAndFlush(new TextWebSocketFrame("echo " + frame.text()));
        }
    }
}
