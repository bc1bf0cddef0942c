package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.net.ByteCounter;
import dev.fulcrum.server.net.ListenerTls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;

import java.util.function.LongConsumer;


/**
 * Builds each client connection's pipeline: {@code decoder -> frontend} in plain text,
 * {@code bytes -> tls -> decoder -> frontend} with TLS. The decoder turns bytes into heads
 * as bytes ({@link dev.fulcrum.server.http.message.MessageHead}), body parts and ends; responses
 * are written by the frontend's {@link MessageWriter}, so there is no encoder. Connections beyond
 * {@code max-connections} are closed before anything is added.
 *
 * <p>The bytes on the wire ({@code fulcrum_bytes_total}) are counted by the decoder (read) and the
 * frontend (written) in plain HTTP/1.1, where they are the bytes those handlers see; otherwise by a
 * {@link ByteCounter} first in the pipeline: before the {@code SslHandler} (it sees the records),
 * and on a plain listener with http2 on, where an HTTP/2 stream's decoder and frontend see
 * HTTP/1.1 renderings, not wire bytes.
 *
 * <p>With http2 on, the protocol is chosen first ({@link AlpnProtocolSwitch} after the TLS
 * handshake, {@link PriorKnowledgeDetector} on plain text), and an HTTP/2 connection is
 * {@code bytes -> [tls] -> stream-id guard -> frame codec -> reset guard -> stream multiplexer -> guard}, each stream a child channel
 * {@code bridge -> decoder -> frontend} ({@link Http2StreamBridge}): one request per stream, under
 * the same rules as HTTP/1.1.
 *
 * <p>Shared by all connections of a listener; stateless apart from the listener it serves.
 */
final class HttpProxyInitializer extends ChannelInitializer<Channel> {

    static final String DECODER = "decoder";
    private static final String BYTES = "bytes";

    /** RFC 9113 §6.5.2's default: what the listener keeps of a client's HPACK table. */
    static final int HPACK_TABLE_BYTES = 4096;
    /**
     * CVE-2023-44487 (rapid reset: premature client resets, see {@link Http2ResetGuard}) and
     * "MadeYouReset" (resets the listener sends): per window, before the connection closes.
     */
    static final int MAX_RESETS_PER_WINDOW = 200;
    static final int RESET_WINDOW_SECONDS = 30;
    /** DATA frames without a byte and without END_STREAM in a row. */
    static final int MAX_EMPTY_DATA_FRAMES = 10;
    /** Control frames (SETTINGS and PING acks, resets) queued unsent because the client does not read. */
    static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    /** CONTINUATION frames under a few bytes in a row (a legitimate client sends few, large ones). */
    static final int MAX_SMALL_CONTINUATION_FRAMES = 16;

    private final HttpListener listener;
    private final ListenerTls ssl;
    /** Counts the wire bytes where the decoder and frontend cannot: with TLS, and with http2 on. */
    private final ByteCounter byteCounter;
    /** Where the decoder and frontend of a connection without a {@link #byteCounter} count wire bytes. */
    private final LongConsumer bytesRead;
    private final LongConsumer bytesWritten;
    private final Http2Refusals refusals;
    private final ChannelInitializer<Http2StreamChannel> streams = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
            ch.config().setAutoRead(false); // the frontend reads, which gives the client window back
            ChannelPipeline p = ch.pipeline();
            p.addLast("bridge", new Http2StreamBridge());
            p.addLast(DECODER, HttpCodecs.requestDecoder(listener.config().maxHeaderBytes(), ByteCounter.NOT_COUNTED));
            p.addLast("frontend", new FrontendHandler(listener, ByteCounter.NOT_COUNTED, ByteCounter.NOT_COUNTED));
        }
    };

    HttpProxyInitializer(HttpListener listener, ListenerTls ssl) {
        this.listener = listener;
        this.ssl = ssl;
        ProxyStats stats = listener.stats();
        this.byteCounter = new ByteCounter(stats::read, stats::written);
        this.bytesRead = stats::read;
        this.bytesWritten = stats::written;
        this.refusals = new Http2Refusals(listener.stats(), listener.name());
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!listener.admit(ch)) {
            ch.close();
            return;
        }
        var config = listener.config();
        ChannelPipeline p = ch.pipeline();
        if (ssl != null || config.http2().enabled()) {
            p.addLast(BYTES, byteCounter);
        }
        if (ssl != null) {
            p.addLast("tls", ssl.newHandler());
        }
        if (!config.http2().enabled()) {
            addHttp1(p);
        } else if (ssl != null) {
            p.addLast("protocol", new AlpnProtocolSwitch(this));
        } else {
            p.addLast("protocol", new PriorKnowledgeDetector(this, config.requestHeaderTimeout().toNanos()));
        }
    }

    /** Makes the connection HTTP/1.1: decoder and frontend last, counting wire bytes unless a {@link ByteCounter} does. */
    void addHttp1(ChannelPipeline p) {
        boolean counted = p.get(BYTES) != null;
        LongConsumer read = counted ? ByteCounter.NOT_COUNTED : bytesRead;
        LongConsumer written = counted ? ByteCounter.NOT_COUNTED : bytesWritten;
        p.addLast(DECODER, HttpCodecs.requestDecoder(listener.config().maxHeaderBytes(), read));
        p.addLast("frontend", new FrontendHandler(listener, read, written));
    }

    /**
     * Makes the connection HTTP/2 with the attack limits set (see the constants) and reading on:
     * the frame codec must see every frame, and HTTP/2 flow control, not reads, bounds what each
     * stream buffers (its stream channel reads when its frontend asks).
     */
    void addHttp2(ChannelPipeline p) {
        FulcrumConfig.Listener config = listener.config();
        Http2Settings settings = Http2Settings.defaultSettings()
                .maxConcurrentStreams(config.http2().maxConcurrentStreams())
                .maxHeaderListSize(config.maxHeaderBytes())
                .headerTableSize(HPACK_TABLE_BYTES);
        p.addLast("h2-stream-ids", new Http2StreamIdGuard());
        p.addLast("h2", Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                .validateHeaders(true)
                .validateRequiredPseudoHeaders(true)
                // 0: off; Http2ResetGuard counts only premature resets (a gRPC cancel is a reset too)
                .decoderEnforceMaxRstFramesPerWindow(0, 0)
                .encoderEnforceMaxRstFramesPerWindow(MAX_RESETS_PER_WINDOW, RESET_WINDOW_SECONDS)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_EMPTY_DATA_FRAMES)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATION_FRAMES)
                // a close is a close (the listener's timeout, a force); GOAWAY first is the guard's
                .decoupleCloseAndGoAway(true)
                .frameLogger(refusals)
                .build());
        p.addLast("h2-resets", new Http2ResetGuard());
        p.addLast("h2-streams", new Http2MultiplexHandler(streams));
        p.addLast("h2-guard", new Http2ConnectionGuard(config.idleTimeout().toNanos()));
        p.channel().attr(Http2ResponseBudget.KEY).set(new Http2ResponseBudget());
        p.channel().config().setAutoRead(true);
    }
}
