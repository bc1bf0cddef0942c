package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.net.ByteCounter;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;

/**
 * Builds each client connection's pipeline:
 * {@code bytes -> [tls] -> head-guard -> decoder -> encoder -> idle -> frontend}. Connections beyond
 * {@code max-connections} are closed before anything is added. The request decoder is made in one
 * place, {@link #requestDecoder(int)}, so that a stricter one can replace Netty's.
 * Shared by all connections of a listener; stateless apart from the listener it serves.
 */
final class HttpProxyInitializer extends ChannelInitializer<Channel> {

    static final String DECODER = "decoder";
    static final String IDLE = "idle";

    private final HttpListener listener;
    private final SslContext ssl;
    private final ByteCounter byteCounter;

    HttpProxyInitializer(HttpListener listener, SslContext ssl) {
        this.listener = listener;
        this.ssl = ssl;
        this.byteCounter = new ByteCounter(listener.stats()::read, listener.stats()::written);
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!listener.admit(ch)) {
            ch.close();
            return;
        }
        var config = listener.config();
        ChannelPipeline p = ch.pipeline();
        p.addLast("bytes", byteCounter);
        if (ssl != null) {
            p.addLast("tls", ssl.newHandler(ch.alloc()));
        }
        p.addLast("head-guard", new RequestHeadGuard(config.requestHeaderTimeout().toNanos()));
        p.addLast(DECODER, requestDecoder(config.maxHeaderBytes()));
        p.addLast("encoder", new ClientResponseEncoder());
        long idleNanos = config.idleTimeout().toNanos();
        if (idleNanos > 0) {
            p.addLast(IDLE, new IdleStateHandler(false, 0, 0, idleNanos, TimeUnit.NANOSECONDS));
        }
        p.addLast("frontend", new FrontendHandler(listener));
    }

    /**
     * The request decoder: emits {@code HttpRequest}, {@code HttpContent}s and a
     * {@code LastHttpContent}; a request it rejects comes out with a failed {@code DecoderResult}
     * (the frontend answers 400/413/431 from it). The head (request line + headers) may not exceed
     * {@code maxHeaderBytes}.
     */
    static ChannelHandler requestDecoder(int maxHeaderBytes) {
        return HttpCodecs.requestDecoder(maxHeaderBytes);
    }
}
