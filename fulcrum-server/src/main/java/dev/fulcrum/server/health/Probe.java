package dev.fulcrum.server.health;

import dev.fulcrum.core.text.Durations;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.tls.HandshakeFailure;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.bootstrap.Bootstrap;
import io.netty.resolver.AddressResolverGroup;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One active check of one server: a TCP connect ({@code tcp}) or a {@code GET path} with
 * {@code Connection: close} ({@code http}), bounded by the check's {@code timeout} as a whole
 * (connect + response head). Every probe uses a fresh connection, so a check never rides on a
 * connection the data plane might also hold. For an h2c or h2 pool ({@code h2c}) the {@code GET}
 * goes on the one stream of an HTTP/2 connection, by prior knowledge or over TLS whose handshake
 * chose {@code h2} by ALPN (Netty's frame codec, and its {@code Http2StreamFrameToHttpObjectCodec}
 * so that the same handler reads the status). For a pool
 * with {@code tls} the check goes over TLS, verified like the data path's connections: an
 * {@code http} check sends its request once the handshake completed, a {@code tcp} check passes then.
 *
 * <p>Runs entirely on the given event loop and calls {@code done} exactly once, on that loop.
 */
final class Probe {

    private final EventLoop loop;
    private final Class<? extends SocketChannel> channelClass;
    private final HostPort target;
    private final HealthCheck check;
    private final boolean h2c;
    /** The pool's TLS to its servers (null: plain text): the check speaks it too, verified the same way. */
    private final PoolTls tls;
    private final Consumer<Result> done;
    private final long startNanos = System.nanoTime();
    private boolean finished;
    private Channel channel;
    private ScheduledFuture<?> timer;

    /** What a probe found: pass or fail, and the detail for {@link CheckResult}. */
    record Result(boolean ok, String detail) {
    }

    private Probe(EventLoop loop, Class<? extends SocketChannel> channelClass, HostPort target, HealthCheck check,
                  boolean h2c, PoolTls tls, Consumer<Result> done) {
        this.loop = loop;
        this.channelClass = channelClass;
        this.target = target;
        this.check = check;
        this.h2c = h2c;
        this.tls = tls;
        this.done = done;
    }

    /** Starts a probe; must be called on {@code loop}. */
    /** Resolves server names without blocking the checker's (NIO) loop. */
    private static final AddressResolverGroup<InetSocketAddress> RESOLVER = Transport.dnsResolver(NioDatagramChannel.class);

    static void run(EventLoop loop, Class<? extends SocketChannel> channelClass, HostPort target, HealthCheck check,
                    Consumer<Result> done) {
        run(loop, channelClass, target, check, false, done);
    }

    /** Starts a probe, over HTTP/2 by prior knowledge when {@code h2c}; must be called on {@code loop}. */
    static void run(EventLoop loop, Class<? extends SocketChannel> channelClass, HostPort target, HealthCheck check,
                    boolean h2c, Consumer<Result> done) {
        run(loop, channelClass, target, check, h2c, null, done);
    }

    /**
     * Starts a probe, over HTTP/2 by prior knowledge when {@code h2c}, over TLS made with {@code tls}
     * when not null; must be called on {@code loop}.
     */
    static void run(EventLoop loop, Class<? extends SocketChannel> channelClass, HostPort target, HealthCheck check,
                    boolean h2c, PoolTls tls, Consumer<Result> done) {
        new Probe(loop, channelClass, target, check, h2c, tls, done).start();
    }

    private void start() {
        long timeoutMs = Math.max(1, check.timeout().toMillis());
        timer = loop.schedule(() -> finish(false, "timeout after " + Durations.format(check.timeout())), timeoutMs,
                TimeUnit.MILLISECONDS);
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .resolver(RESOLVER)
                // the whole-check timer above reports first; this only stops the socket trying
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMs + 100))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), target, timeoutMs));
                        }
                        if (check.type() == CheckType.HTTP && h2c) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        } else if (check.type() == CheckType.HTTP) {
                            ch.pipeline().addLast(new HttpClientCodec(), new ResponseHandler());
                        }
                    }
                });
        ChannelFuture connect = b.connect(InetSocketAddress.createUnresolved(target.host(), target.port()));
        channel = connect.channel();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                finish(false, describe(f.cause()));
            } else if (tls != null) {
                SslHandler ssl = channel.pipeline().get(SslHandler.class);
                ssl.handshakeFuture().addListener(h -> {
                    if (h.isSuccess() && h2c && tls.offersH2() && !PoolTls.agreedH2(ssl)) {
                        // an h2 pool's server must speak h2, as the data path requires (H2AlpnCheck)
                        finish(false, "TLS handshake failed: " + HandshakeFailure.NO_H2);
                    } else if (h.isSuccess()) {
                        connected("TLS handshake done");
                    } else {
                        finish(false, "TLS handshake failed: " + HandshakeFailure.of(h.cause(),
                                tls.nameFor(target), tls.caName()).getMessage());
                    }
                });
            } else {
                connected("connected");
            }
        });
    }

    /** The connection is ready (TCP, or TLS on it): a tcp check passes, an http check sends its request. */
    private void connected(String what) {
        if (check.type() == CheckType.TCP) {
            finish(true, what + " in " + elapsedMs() + "ms");
        } else if (h2c) {
            openStream();
        } else {
            sendRequest(channel);
        }
    }

    /** The check's one stream, read like an HTTP/1.1 connection; the request goes on it. */
    private void openStream() {
        new Http2StreamChannelBootstrap(channel)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new ResponseHandler());
                    }
                })
                .open()
                .addListener(f -> {
                    if (f.isSuccess()) {
                        sendRequest((Channel) f.getNow());
                    } else {
                        finish(false, describe(f.cause()));
                    }
                });
    }

    private void sendRequest(Channel channel) {
        var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, check.path());
        String host = check.host() == null || check.host().isEmpty() ? target.toString() : check.host();
        request.headers()
                .set(HttpHeaderNames.HOST, host)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.USER_AGENT, "fulcrum-health-check")
                .set(HttpHeaderNames.CONTENT_LENGTH, 0);
        channel.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                finish(false, describe(f.cause()));
            }
        });
    }

    private final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse response) {
                // The status line decides; the body is not read (the connection closes).
                int status = response.status().code();
                boolean ok = status >= check.expectStatusLow() && status <= check.expectStatusHigh();
                finish(ok, ok ? status + " in " + elapsedMs() + "ms" : "status " + status);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            finish(false, "connection closed before a response");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(false, describe(cause));
        }
    }

    private void finish(boolean ok, String detail) {
        // the detail may quote the server's bytes (a decoder's complaint); it goes to logs, events, alerts
        detail = Escape.text(detail);
        if (finished) {
            return;
        }
        finished = true;
        timer.cancel(false);
        if (channel != null) {
            channel.close();
        }
        done.accept(new Result(ok, detail));
    }

    private long elapsedMs() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** A one-line, lower-case reason for a failed connect or read. */
    static String describe(Throwable cause) {
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            return "connect timeout";
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        String lower = message.toLowerCase(Locale.ROOT);
        if (cause instanceof ConnectException && lower.contains("refused")) {
            return "connection refused";
        }
        if (lower.contains("connection reset")) {
            return "connection reset";
        }
        if (lower.contains("no route to host")) {
            return "no route to host";
        }
        if (cause instanceof java.nio.channels.UnresolvedAddressException || lower.contains("unresolved")) {
            return "host not found";
        }
        if (cause instanceof IOException) {
            // Netty annotates messages with the address ("...: /127.0.0.1:9102"); keep the reason only.
            int colon = lower.indexOf(": /");
            return colon > 0 ? lower.substring(0, colon) : lower;
        }
        return lower;
    }

}
