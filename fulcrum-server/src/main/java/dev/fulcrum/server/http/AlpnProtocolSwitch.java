package dev.fulcrum.server.http;

import dev.fulcrum.server.net.ListenerConnections;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * A TLS listener with http2 on: waits for the handshake, then makes the connection HTTP/2 when
 * ALPN chose {@code h2} and HTTP/1.1 otherwise (ALPN {@code http/1.1}, or a client without ALPN),
 * and removes itself. Until then it holds back {@code channelActive} (the chosen handlers get it
 * once they are there) and asks for reads, as the handshake needs them with {@code AUTO_READ} off.
 * Netty's {@code ApplicationProtocolNegotiationHandler} does the same but passes
 * {@code channelActive} on before the handlers that need it exist.
 *
 * <p>One per connection, confined to its event loop.
 */
final class AlpnProtocolSwitch extends ChannelInboundHandlerAdapter {

    private final HttpProxyInitializer pipelines;
    /** Application data decrypted before the handshake event (TLS 1.3 can do that): passed on after. */
    private ArrayDeque<Object> early;

    AlpnProtocolSwitch(HttpProxyInitializer pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (early == null) {
            early = new ArrayDeque<>(2);
        }
        early.add(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ListenerConnections.GRACEFUL_CLOSE) {
            ctx.close(); // no request yet: nothing to finish
            return;
        }
        if (!(evt instanceof SslHandshakeCompletionEvent done)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (!done.isSuccess()) {
            ctx.close(); // SslHandler logged and failed the handshake; nothing to serve
            return;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        String protocol = ssl == null ? null : ssl.applicationProtocol();
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            pipelines.addHttp2(ctx.pipeline());
        } else {
            pipelines.addHttp1(ctx.pipeline());
        }
        ctx.pipeline().remove(this);
        ctx.fireUserEventTriggered(evt);
        ctx.fireChannelActive();
        if (early != null) {
            Object msg;
            while ((msg = early.poll()) != null) {
                ctx.fireChannelRead(msg);
            }
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // removed by a close before the handshake: what was held back goes
        if (early != null && !ctx.channel().isActive()) {
            early.forEach(ReferenceCountUtil::release);
            early = null;
        }
    }
}
