package dev.fulcrum.server.http;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.tls.HandshakeFailure;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;

/**
 * The gate of an h2 pool's connection, right after its {@link SslHandler}: it holds back
 * {@code channelActive} from the handlers after it, so the HTTP/2 codec sends no preface and the
 * connection takes no stream, until the TLS handshake completed and the server chose {@code h2}
 * by ALPN; then it lets the connection start and leaves the pipeline. A failed handshake, or a
 * server that did not choose {@code h2} (there is no HTTP/1.1 fallback on an h2 pool), fails the
 * connection with a {@link HandshakeFailure}, logged by {@link TlsFailureLog}: a connect failure
 * for the requests waiting on it (retried on another server, counted by outlier detection), with
 * no byte of HTTP/2 sent.
 *
 * <p>Confined to the connection's event loop.
 */
final class H2AlpnCheck extends ChannelInboundHandlerAdapter {

    private final PoolTls tls;
    private final Server server;
    private final ServerH2Connection connection;

    H2AlpnCheck(PoolTls tls, Server server, ServerH2Connection connection) {
        this.tls = tls;
        this.server = server;
        this.connection = connection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // not passed on: the handlers after this one start when the handshake says h2
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        ssl.handshakeFuture().addListener(f -> handshaken(ctx, ssl, f));
    }

    private void handshaken(ChannelHandlerContext ctx, SslHandler ssl, Future<?> handshake) {
        if (!handshake.isSuccess()) {
            failed("TLS handshake failed", HandshakeFailure.of(handshake.cause(), tls.nameFor(server.address()),
                    tls.caName()));
        } else if (!PoolTls.agreedH2(ssl)) {
            failed("TLS handshake failed", HandshakeFailure.noH2());
        } else {
            ctx.fireChannelActive();
            ctx.pipeline().remove(this);
        }
    }

    private void failed(String what, HandshakeFailure failure) {
        TlsFailureLog.failed(tls.pool(), server, what, failure.getMessage());
        connection.fail(failure);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // before the gate opens, a TLS error is the handshake's, which handshaken() reports with its reason
        if (HandshakeFailure.tlsError(cause) == null) {
            ctx.fireExceptionCaught(cause);
        }
    }
}
