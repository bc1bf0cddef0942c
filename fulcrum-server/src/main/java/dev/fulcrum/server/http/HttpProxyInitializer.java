package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ListenerTls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;

import java.util.function.LongConsumer;


/**
 * Builds each client connection's pipeline: {@code decoder -> frontend} in plain text,
 * {@code bytes -> tls -> decoder -> frontend} with TLS. The bytes on the wire
 * ({@code fulcrum_bytes_total}) are counted by the decoder (read) and the frontend (written) in
 * plain text, where they are the bytes those handlers see; with TLS by a {@link ByteCounter} before
 * the {@code SslHandler}, which sees the records. Connections beyond
 * {@code max-connections} are closed before anything is added. The decoder turns bytes into heads
 * as bytes ({@link dev.fulcrum.server.http.message.MessageHead}), body parts and ends; responses
 * are written by the frontend's {@link MessageWriter}, so there is no encoder.
 * Shared by all connections of a listener; stateless apart from the listener it serves.
 */
final class HttpProxyInitializer extends ChannelInitializer<Channel> {

    static final String DECODER = "decoder";

    private final HttpListener listener;
    private final ListenerTls ssl;
    /** With TLS only: counts the records. */
    private final ByteCounter byteCounter;
    /** Where the decoder and frontend count wire bytes: the listener's counters in plain text, nowhere with TLS. */
    private final LongConsumer bytesRead;
    private final LongConsumer bytesWritten;

    HttpProxyInitializer(HttpListener listener, ListenerTls ssl) {
        this.listener = listener;
        this.ssl = ssl;
        ProxyStats stats = listener.stats();
        this.byteCounter = ssl == null ? null : new ByteCounter(stats::read, stats::written);
        this.bytesRead = ssl == null ? stats::read : ByteCounter.NOT_COUNTED;
        this.bytesWritten = ssl == null ? stats::written : ByteCounter.NOT_COUNTED;
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!listener.admit(ch)) {
            ch.close();
            return;
        }
        var config = listener.config();
        ChannelPipeline p = ch.pipeline();
        if (ssl != null) {
            p.addLast("bytes", byteCounter);
            p.addLast("tls", ssl.newHandler());
        }
        p.addLast(DECODER, HttpCodecs.requestDecoder(config.maxHeaderBytes(), bytesRead));
        p.addLast("frontend", new FrontendHandler(listener, bytesRead, bytesWritten));
    }
}
