package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

import java.util.List;

/**
 * Writes a request as HTTP/2 frames on one stream (RFC 9113 8.3.1): the head as one HEADERS frame
 * ({@code :method}, {@code :scheme}, {@code :path} from the target, {@code :authority} from Host),
 * each body part as a DATA frame, the end as trailing HEADERS or an empty DATA frame, both with
 * END_STREAM; a request without a body ends with its HEADERS.
 *
 * <p>Fields specific to an HTTP/1.1 connection are not sent (RFC 9113 8.2.2): Connection,
 * Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, and Host (it became
 * {@code :authority}); {@code TE} only as {@code trailers}, which a gRPC request always gets
 * (the HTTP/1.1 side dropped TE as hop-by-hop, and gRPC servers expect it). Field names go lower
 * case. Names and values are copied: HPACK's dynamic table keeps what it indexed, and the head may
 * be edited for a retry.
 *
 * <p>Framing as {@link MessageWriter}'s: chunked in, plain DATA out; a Content-Length is kept and
 * the body cut at it; a body the head does not declare is dropped. Tells its stream's
 * {@link ServerH2ResponseBridge} whether the request is a HEAD (its response has no body).
 * One per stream, confined to its event loop.
 */
final class ServerH2RequestWriter implements RequestWriter {

    /** {@link Http2Fields#CONNECTION_SPECIFIC}, Host (it becomes {@code :authority}) and TE (written apart). */
    private static final List<AsciiString> NOT_IN_H2 = java.util.stream.Stream.concat(
            Http2Fields.CONNECTION_SPECIFIC.stream(), java.util.stream.Stream.of(HttpHeaderNames.HOST, HttpHeaderNames.TE))
            .toList();

    private final ChannelHandlerContext ctx;
    private final AsciiString scheme;
    private final ServerH2ResponseBridge bridge;
    /** The request's stream is open for body parts: its end is still to be written. */
    private boolean bodyOpen;
    /** Body bytes still allowed by the Content-Length; -1 for a body of unknown length (chunked in). */
    private long remaining;

    ServerH2RequestWriter(ChannelHandlerContext ctx, AsciiString scheme, ServerH2ResponseBridge bridge) {
        this.ctx = ctx;
        this.scheme = scheme;
        this.bridge = bridge;
    }

    @Override
    public ChannelFuture writeRequest(MessageHead request, ChannelPromise promise) {
        if (bodyOpen) {
            throw new IllegalStateException("a head while the previous request's body is not ended");
        }
        Http2Headers h = new DefaultHttp2Headers(false); // names and values were checked when decoded
        h.method(request.method().asciiName()).scheme(scheme).path(copy(request.target()));
        int host = request.indexOf(HttpHeaderNames.HOST);
        if (host >= 0) {
            h.authority(copy(request.value(host)));
        }
        boolean grpc = false;
        for (int i = 0; i < request.size(); i++) {
            if (request.isRemoved(i) || notInH2(request, i)) {
                continue;
            }
            if (request.nameIs(i, HttpHeaderNames.CONTENT_TYPE)) {
                grpc = isGrpc(request.value(i));
            }
            h.add(copy(request.name(i)).toLowerCase(), copy(request.value(i)));
        }
        if (grpc) {
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        boolean chunked = ForwardedHeaders.declaresChunked(request);
        remaining = chunked ? -1 : Math.max(0, ForwardedHeaders.declaredLength(request));
        bodyOpen = remaining != 0;
        bridge.expect(request.method() == HttpMethod.HEAD);
        return ctx.write(new DefaultHttp2HeadersFrame(h, !bodyOpen), promise);
    }

    @Override
    public ChannelFuture writeBody(ByteBuf part, ChannelPromise promise) {
        int n = part.readableBytes();
        if (!bodyOpen || n == 0 || remaining == 0) {
            part.release();
            return done(promise);
        }
        if (remaining > 0) {
            if (n > remaining) {
                part.writerIndex(part.readerIndex() + (int) remaining); // the rest is not this request's
            }
            remaining -= part.readableBytes();
        }
        return ctx.write(new DefaultHttp2DataFrame(part, false), promise);
    }

    @Override
    public ChannelFuture writeEnd(MessageEnd end, ChannelPromise promise) {
        if (!bodyOpen) {
            return done(promise);
        }
        bodyOpen = false;
        MessageHead trailers = end == null ? null : end.trailers();
        if (trailers != null && remaining < 0) {
            ForwardedHeaders.filterTrailers(trailers);
            Http2Headers t = new DefaultHttp2Headers(false);
            for (int i = 0; i < trailers.size(); i++) {
                if (!trailers.isRemoved(i) && !notInH2(trailers, i)) {
                    t.add(copy(trailers.name(i)).toLowerCase(), copy(trailers.value(i)));
                }
            }
            if (!t.isEmpty()) {
                return ctx.write(new DefaultHttp2HeadersFrame(t, true), promise);
            }
        }
        return ctx.write(new DefaultHttp2DataFrame(true), promise);
    }

    private static boolean notInH2(MessageHead head, int i) {
        for (AsciiString name : NOT_IN_H2) {
            if (head.nameIs(i, name)) {
                return true;
            }
        }
        return false;
    }

    /** {@code application/grpc}, alone or with a {@code +format} or parameters (not gRPC-Web). */
    static boolean isGrpc(CharSequence contentType) {
        return GrpcErrors.isGrpcMediaType(contentType, false);
    }

    private static AsciiString copy(CharSequence s) {
        if (s instanceof AsciiString a) {
            return new AsciiString(a.array(), a.arrayOffset(), a.length(), true);
        }
        return new AsciiString(s);
    }

    private ChannelFuture done(ChannelPromise promise) {
        return promise.isVoid() ? promise : promise.setSuccess();
    }
}
