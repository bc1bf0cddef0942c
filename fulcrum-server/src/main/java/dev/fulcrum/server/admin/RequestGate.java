package dev.fulcrum.server.admin;

import dev.fulcrum.core.text.Escape;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Decides on a request's head, before any of its body is read or buffered, whether the admin API
 * takes it; it sits between the HTTP decoder and the body aggregator. In order:
 *
 * <ol>
 *   <li>a head the decoder could not read: 400;</li>
 *   <li>a {@code Host} that is not a name of this admin API ({@link AllowedHosts}): 403 — DNS
 *       rebinding;</li>
 *   <li>a change (any method but GET, HEAD, OPTIONS) whose {@code Origin} is not the {@code Host}:
 *       403 — a page of another site in the operator's browser;</li>
 *   <li>a change without the bearer token, when {@code admin.token} is set: 401;</li>
 *   <li>a body larger than {@link AdminLimits#maxBody()} (by {@code Content-Length} up front, or
 *       counted as a chunked body arrives), or any body on a GET, HEAD or OPTIONS: 413.</li>
 * </ol>
 *
 * <p>A refused request gets its one-sentence JSON error with {@code Connection: close}; then the
 * connection stops sending, drops whatever the client still sends (no byte of it is kept) and closes
 * when the client does or after {@link AdminLimits#linger()}. An accepted request passes on
 * unchanged.
 *
 * <p>One instance per connection, confined to its event loop.
 */
final class RequestGate extends ChannelInboundHandlerAdapter {

    private enum Phase {
        /** Waiting for a request head. */
        HEAD,
        /** The head was accepted; its body passes, counted against the limit. */
        BODY,
        /** A request was refused: everything from now on is dropped until the connection closes. */
        REFUSED
    }

    private final AllowedHosts hosts;
    private final BearerToken token;
    private final AdminLimits limits;
    private Phase phase = Phase.HEAD;
    private long bodyBytes;
    private long bodyLimit;

    RequestGate(AllowedHosts hosts, BearerToken token, AdminLimits limits) {
        this.hosts = hosts;
        this.token = token;
        this.limits = limits;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (phase) {
            case REFUSED -> ReferenceCountUtil.release(msg);
            case HEAD -> {
                if (msg instanceof HttpRequest head) {
                    onHead(ctx, head);
                } else {
                    ReferenceCountUtil.release(msg); // the rest of a request refused before: not ours
                }
            }
            case BODY -> {
                if (msg instanceof HttpContent content) {
                    bodyBytes += content.content().readableBytes();
                    if (bodyBytes > bodyLimit) {
                        ReferenceCountUtil.release(msg);
                        refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, tooLarge(bodyLimit));
                        return;
                    }
                    if (msg instanceof LastHttpContent) {
                        phase = Phase.HEAD;
                    }
                }
                ctx.fireChannelRead(msg);
            }
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest head) {
        String refusal = null;
        HttpResponseStatus status = null;
        boolean change = isChange(head.method());
        String host = head.headers().get(HttpHeaderNames.HOST);
        bodyLimit = change ? limits.maxBody() : 0;
        if (!head.decoderResult().isSuccess()) {
            status = HttpResponseStatus.BAD_REQUEST;
            refusal = "the request is not valid HTTP";
        } else if (!hosts.allows(host, (InetSocketAddress) ctx.channel().localAddress())) {
            status = HttpResponseStatus.FORBIDDEN;
            refusal = "Host " + Escape.quote(host) + " is not a name of this admin API; "
                    + "list it in admin.allowed-hosts to reach the API by that name";
        } else if (change && !sameOrigin(head, host)) {
            // a page of another site open in the operator's browser must not drain servers
            status = HttpResponseStatus.FORBIDDEN;
            refusal = "a page from another origin may not change the balancer";
        } else if (change && !token.allows(head.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            status = HttpResponseStatus.UNAUTHORIZED;
            refusal = "this call needs the header Authorization: Bearer <admin token>";
        } else if (declaredLength(head) > bodyLimit
                || (!change && HttpUtil.isTransferEncodingChunked(head))) {
            status = HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            refusal = tooLarge(bodyLimit);
        }
        if (refusal != null) {
            ReferenceCountUtil.release(head);
            refuse(ctx, status, refusal);
            return;
        }
        bodyBytes = 0;
        phase = Phase.BODY;
        ctx.fireChannelRead(head);
    }

    /** The {@code Content-Length}, or -1 without one (the decoder refused a malformed one already). */
    private static long declaredLength(HttpRequest head) {
        try {
            return HttpUtil.getContentLength(head, -1L);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Anything but a read: deny by default, so a method added later is guarded from the start. */
    private static boolean isChange(HttpMethod method) {
        return !(method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS));
    }

    /**
     * False when a browser says the request comes from a page of another origin ({@code Origin}'s
     * host and port differ from {@code Host}); tools like curl send no {@code Origin} and pass.
     * {@code Origin: null} (a sandboxed or file page) is another origin.
     */
    private static boolean sameOrigin(HttpRequest head, String host) {
        String origin = head.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return true;
        }
        try {
            String authority = java.net.URI.create(origin).getRawAuthority();
            return authority != null && host != null && authority.equalsIgnoreCase(host);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String tooLarge(long limit) {
        return limit == 0 ? "this request takes no body"
                : "the request body is larger than " + limit / 1024 + " KiB";
    }

    /**
     * Answers, stops sending and drops what follows; closes when the client does or after the
     * linger time, whichever comes first.
     */
    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        phase = Phase.REFUSED;
        ctx.writeAndFlush(ErrorResponse.of(status, message, true)).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() || !(f.channel() instanceof SocketChannel socket)) {
                f.channel().close();
                return;
            }
            // a half close: the client reads the answer and an end of stream, not a reset
            socket.shutdownOutput();
            socket.eventLoop().schedule(() -> socket.close(), limits.linger().toMillis(), TimeUnit.MILLISECONDS);
        });
    }
}
