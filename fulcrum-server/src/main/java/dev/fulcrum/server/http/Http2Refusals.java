package dev.fulcrum.server.http;

import dev.fulcrum.server.metrics.Http2Refusal;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.handler.logging.LogLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Counts, by reason, what an HTTP/2 connection refused ({@code fulcrum_http2_refused_total}): it
 * sees every frame the connection writes, as Netty's frame logger, and counts each GOAWAY with an
 * error (the connection closes; Netty's guards put their reason in the debug data), each
 * RST_STREAM with PROTOCOL_ERROR (a broken request) or REFUSED_STREAM (over
 * {@code max-concurrent-streams}), and each 431 response (a header list over the limit, which
 * Netty answers itself when HPACK decoding passes it). One place sees every refusal, whichever of Netty's guards or
 * {@link Http2StreamBridge} made it; other frames are logged at TRACE as Netty's logger does.
 *
 * <p>Shared by the connections of a listener; thread-safe (the counters are).
 */
final class Http2Refusals extends Http2FrameLogger {

    private static final Logger log = LoggerFactory.getLogger(Http2Refusals.class);

    private static final AsciiString HEADER_LIST_TOO_LARGE = AsciiString.cached("431");

    private final ProxyStats stats;
    private final String listener;

    Http2Refusals(ProxyStats stats, String listener) {
        super(LogLevel.TRACE, Http2Refusals.class);
        this.stats = stats;
        this.listener = listener;
    }

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
        if (direction == Direction.OUTBOUND) {
            if (errorCode == Http2Error.PROTOCOL_ERROR.code()) {
                stats.http2Refused(Http2Refusal.INVALID_REQUEST);
            } else if (errorCode == Http2Error.REFUSED_STREAM.code()) {
                stats.http2Refused(Http2Refusal.STREAM_LIMIT);
            }
        }
        super.logRstStream(direction, ctx, streamId, errorCode);
    }

    /** A 431: Netty's answer to a header list over the limit (an HPACK bomb), or the decoder's to a head too large. */
    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                           int padding, boolean endStream) {
        countHeaderListRefusal(direction, headers);
        super.logHeaders(direction, ctx, streamId, headers, padding, endStream);
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                           int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
        countHeaderListRefusal(direction, headers);
        super.logHeaders(direction, ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
    }

    private void countHeaderListRefusal(Direction direction, Http2Headers headers) {
        if (direction == Direction.OUTBOUND && HEADER_LIST_TOO_LARGE.contentEquals(headers.status())) {
            stats.http2Refused(Http2Refusal.HEADER_LIST_SIZE);
        }
    }

    @Override
    public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode,
                          ByteBuf debugData) {
        if (direction == Direction.OUTBOUND && errorCode != Http2Error.NO_ERROR.code()) {
            String why = debugData == null ? "" : debugData.toString(StandardCharsets.UTF_8);
            Http2Refusal reason = reason(why);
            stats.http2Refused(reason);
            // debug, not info: a client opening connection after connection to flood would flood the log too
            log.debug("listener {}: HTTP/2 connection from {} closed ({}): {}", listener,
                    ctx.channel().remoteAddress(), reason.label(), why);
        }
        super.logGoAway(direction, ctx, lastStreamId, errorCode, debugData);
    }

    /** Which guard spoke, from Netty's messages (pinned by {@code Http2RefusalsTest} and the attack ITs). */
    static Http2Refusal reason(String debugData) {
        if (debugData.contains("RST frames frames") || debugData.contains("RST frames reached within")) {
            return Http2Refusal.SERVER_RESETS; // the encoder's limit on resets we send
        } else if (debugData.contains("RST frames")) {
            return Http2Refusal.RAPID_RESET;
        } else if (debugData.contains("CONTINUATION") || debugData.contains("continuation")) {
            return Http2Refusal.CONTINUATION_FLOOD;
        } else if (debugData.contains("Header size exceeded")) {
            return Http2Refusal.HEADER_LIST_SIZE;
        } else if (debugData.contains("control frames")) {
            return Http2Refusal.CONTROL_FRAME_FLOOD;
        } else if (debugData.contains("empty data frames")) {
            return Http2Refusal.EMPTY_FRAME_FLOOD;
        } else if (debugData.contains("Maximum active streams")) {
            return Http2Refusal.STREAM_LIMIT;
        }
        return Http2Refusal.PROTOCOL_ERROR;
    }
}
