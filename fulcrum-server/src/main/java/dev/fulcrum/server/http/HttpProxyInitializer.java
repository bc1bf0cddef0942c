package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ListenerTls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;


/**
 * Builds each client connection's pipeline:
 * {@code bytes -> [tls] -> decoder -> frontend}. Connections beyond
 * {@code max-connections} are closed before anything is added. The decoder turns bytes into heads
 * as bytes ({@link dev.fulcrum.server.http.message.MessageHead}), body parts and ends; responses
 * are written by the frontend's {@link MessageWriter}, so there is no encoder.
 * Shared by all connections of a listener; stateless apart from the listener it serves.
 */
final class HttpProxyInitializer extends ChannelInitializer<Channel> {

    static final String DECODER = "decoder";

    private final HttpListener listener;
    private final ListenerTls ssl;
    private final ByteCounter byteCounter;

    HttpProxyInitializer(HttpListener listener, ListenerTls ssl) {
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
            p.addLast("tls", ssl.newHandler());
        }
        p.addLast(DECODER, HttpCodecs.requestDecoder(config.maxHeaderBytes()));
        p.addLast("frontend", new FrontendHandler(listener));
    }
}
