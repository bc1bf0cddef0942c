package dev.fulcrum.server.demo;

import dev.fulcrum.server.demo.DemoMetrics.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Answers the demo server's routes (see {@link DemoServer}) on one connection.
 *
 * <p>One request at a time per connection: the channel has {@code AUTO_READ} off and a
 * {@link io.netty.handler.flow.FlowControlHandler} in front, and this handler asks for the next
 * message only after it has consumed the current one or, at the end of a request, after its whole
 * response has been written. That keeps pipelined requests in order even when {@code /work}
 * answers later from a worker thread, and gives uploads backpressure for free.
 *
 * <p>Not shareable: one instance per channel, confined to its event loop.
 */
final class DemoHandler extends SimpleChannelInboundHandler<HttpObject> {

    static final long MAX_WORK_MS = 10_000;

    private final DemoServer server;

    /** The request being read, and its decoded URI; null between requests. */
    private HttpRequest request;
    private QueryStringDecoder query;
    /** Body digest for an upload (a POST other than /admin/*); null when the body is ignored. */
    private MessageDigest digest;
    private long bodyBytes;
    /** True from a read request until a message arrives. */
    private boolean awaitingInput;

    DemoHandler(DemoServer server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        requestInput(ctx);
    }

    /**
     * A read cycle can end without delivering the message asked for (the request was made while
     * the previous cycle was still running, or the bytes held no whole message yet); with
     * {@code AUTO_READ} off, Netty then expects the reader to ask again.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (awaitingInput) {
            ctx.read();
        }
    }

    private void requestInput(ChannelHandlerContext ctx) {
        awaitingInput = true;
        ctx.read();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
        awaitingInput = false;
        if (msg.decoderResult().isFailure()) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "bad request: " + msg.decoderResult().cause().getMessage(),
                    false);
            return;
        }
        if (msg instanceof HttpRequest req) {
            request = req;
            query = new QueryStringDecoder(req.uri());
            bodyBytes = 0;
            digest = req.method().equals(HttpMethod.POST) && !query.path().startsWith("/admin/") ? sha256() : null;
        }
        if (msg instanceof HttpContent content && request != null) {
            ByteBuf buf = content.content();
            bodyBytes += buf.readableBytes();
            if (digest != null) {
                digest.update(buf.nioBuffer());
            }
        }
        if (msg instanceof LastHttpContent && request != null) {
            HttpRequest req = request;
            request = null;
            route(ctx, req, query);
        } else {
            requestInput(ctx);
        }
    }

    /** Answers a whole request; a POST other than /admin/* is an upload ({@code digest} set). */
    private void route(ChannelHandlerContext ctx, HttpRequest req, QueryStringDecoder query) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        String path = query.path();
        HttpMethod method = req.method();
        DemoMetrics metrics = server.metrics();
        if (method.equals(HttpMethod.GET) && path.equals("/health")) {
            metrics.request(Kind.HEALTH);
            boolean healthy = server.healthy();
            respond(ctx, healthy ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                    healthy ? "ok" : "failing", keepAlive);
        } else if (method.equals(HttpMethod.POST) && (path.equals("/admin/fail") || path.equals("/admin/recover"))) {
            metrics.request(Kind.ADMIN);
            boolean healthy = path.equals("/admin/recover");
            server.setHealthy(healthy);
            respond(ctx, HttpResponseStatus.OK, "server " + server.name() + (healthy ? " recovered" : " failing"),
                    keepAlive);
        } else if (method.equals(HttpMethod.GET) && path.equals("/metrics")) {
            metrics.request(Kind.METRICS);
            FullHttpResponse response = text(HttpResponseStatus.OK, server.renderMetrics());
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            send(ctx, response, keepAlive);
        } else if (method.equals(HttpMethod.GET) && path.equals("/work")) {
            work(ctx, query, keepAlive);
        } else if (method.equals(HttpMethod.GET) && path.equals("/bytes")) {
            bytes(ctx, query, keepAlive);
        } else if (digest != null) {
            metrics.request(Kind.UPLOAD);
            respond(ctx, HttpResponseStatus.OK, "received " + bodyBytes + " bytes sha256 "
                    + HexFormat.of().formatHex(digest.digest()), keepAlive);
        } else {
            metrics.request(Kind.HELLO);
            respond(ctx, HttpResponseStatus.OK, "server " + server.name(), keepAlive);
        }
    }

    private void work(ChannelHandlerContext ctx, QueryStringDecoder query, boolean keepAlive) {
        long ms = longParam(query, "ms", 0);
        if (ms < 0 || ms > MAX_WORK_MS) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "ms must be a number in 0.." + MAX_WORK_MS, keepAlive);
            return;
        }
        boolean queued = server.workers().submit(ms, () -> ctx.executor().execute(() -> {
            server.metrics().request(Kind.WORK);
            respond(ctx, HttpResponseStatus.OK, "server " + server.name() + " worked " + ms + " ms", keepAlive);
        }));
        if (!queued) {
            server.metrics().rejected();
            respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "server " + server.name() + " is overloaded: work queue full",
                    keepAlive);
        }
    }

    private void bytes(ChannelHandlerContext ctx, QueryStringDecoder query, boolean keepAlive) {
        long n = longParam(query, "n", -1);
        if (n < 0) {
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "n must be a number of bytes >= 0", keepAlive);
            return;
        }
        server.metrics().request(Kind.BYTES);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                .set(HttpHeaderNames.CONTENT_LENGTH, n);
        HttpUtil.setKeepAlive(head, keepAlive);
        ctx.write(head);
        finish(ctx, ctx.writeAndFlush(new HttpChunkedInput(new RepeatedBytes(n))), keepAlive);
    }

    /** A query parameter as a long; {@code missing} when absent, -1 when not a number. */
    private static long longParam(QueryStringDecoder query, String name, long missing) {
        List<String> values = query.parameters().get(name);
        if (values == null || values.isEmpty()) {
            return missing;
        }
        try {
            return Long.parseLong(values.getFirst());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body, boolean keepAlive) {
        send(ctx, text(status, body), keepAlive);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body.endsWith("\n") ? body : body + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        return response;
    }

    private void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        HttpUtil.setKeepAlive(response, keepAlive);
        finish(ctx, ctx.writeAndFlush(response), keepAlive);
    }

    /** After the last byte of a response: read the next request, or close. */
    private void finish(ChannelHandlerContext ctx, ChannelFuture written, boolean keepAlive) {
        if (keepAlive) {
            written.addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    requestInput(ctx);
                } else {
                    ctx.close();
                }
            });
        } else {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A client that goes away mid-response is normal for a test backend; just drop the connection.
        ctx.close();
    }
}
