package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;

/**
 * RFC 9113 §5.1.1 ahead of Netty's frame codec: a client's new stream must have an identifier
 * above every one it used before, else the connection ends with PROTOCOL_ERROR. Netty keeps no
 * record of the identifiers a client skipped, so it takes a HEADERS on one (5, then 3) for a frame
 * on a closed stream and only resets that stream (STREAM_CLOSED). This handler reads the frame
 * headers of the connection's bytes (after the client preface), notes the highest stream a HEADERS
 * opened and the identifiers skipped below it, and fails the connection when a HEADERS comes on a
 * skipped one: the bytes before that frame go to the codec, then the error, which the codec
 * answers with GOAWAY PROTOCOL_ERROR and a close. A HEADERS on a stream used before (trailers, or
 * a frame on a closed stream) stays Netty's to judge — but for one case:
 *
 * <p>A HEADERS on a stream the client already ended (END_STREAM on its HEADERS or DATA) is
 * STREAM_CLOSED (§5.1: a stream error while the stream is half-closed (remote), a connection error
 * once it is closed; a stream error may always be treated as a connection error, §5.4). Netty
 * 4.2.18 answers PROTOCOL_ERROR when the stream opened half-closed (it counts the opening HEADERS
 * twice), so this handler ends the connection with STREAM_CLOSED itself.
 *
 * <p>Bounded: the last {@link #MAX_GAPS} runs of skipped identifiers and the last
 * {@link #MAX_ENDED} streams the client ended are kept (clients number their streams one after
 * another; one that skips more runs than that gets Netty's STREAM_CLOSED for the older ones, and a
 * HEADERS on a stream ended before the last {@value #MAX_ENDED} gets Netty's answer: an error
 * still). One per connection, confined to its event loop.
 */
final class Http2StreamIdGuard extends ChannelInboundHandlerAdapter {

    static final int MAX_GAPS = 32;
    static final int MAX_ENDED = 128;
    private static final int FRAME_HEADER = 9;
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int END_STREAM = 0x1;
    /** The client preface, {@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n} (Netty's codec checks it). */
    private static final int PREFACE = 24;

    /** Bytes still to pass unread: the preface, then each frame's payload. */
    private long skip = PREFACE;
    private final byte[] header = new byte[FRAME_HEADER];
    private int headerBytes;
    /** The highest client stream a HEADERS opened (0: none yet). */
    private int highest;
    /** Runs of skipped identifiers [low, high], the newest at {@code (next - 1) % MAX_GAPS}. */
    private final int[] gapLow = new int[MAX_GAPS];
    private final int[] gapHigh = new int[MAX_GAPS];
    private int gaps;
    private int next;
    /** Streams the client ended (END_STREAM), the newest at {@code (nextEnded - 1) % MAX_ENDED}. */
    private final int[] ended = new int[MAX_ENDED];
    private int endedCount;
    private int nextEnded;
    private boolean failed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (failed) {
            in.release(); // the codec is closing the connection
            return;
        }
        int start = in.readerIndex();
        int end = in.writerIndex();
        int i = start;
        while (i < end) {
            if (skip > 0) {
                int n = (int) Math.min(skip, end - i);
                i += n;
                skip -= n;
                continue;
            }
            header[headerBytes++] = in.getByte(i++);
            if (headerBytes < FRAME_HEADER) {
                continue;
            }
            headerBytes = 0;
            skip = (header[0] & 0xffL) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
            int streamId = (header[5] & 0x7f) << 24 | (header[6] & 0xff) << 16 | (header[7] & 0xff) << 8
                    | (header[8] & 0xff);
            int type = header[3] & 0xff;
            if ((streamId & 1) == 0 || type != HEADERS && type != DATA) {
                continue;
            }
            Http2Exception error = null;
            if (type == HEADERS && wasEnded(streamId)) {
                error = Http2Exception.connectionError(Http2Error.STREAM_CLOSED,
                        "HEADERS on stream %d, which the client ended before (RFC 9113 5.1)", streamId);
            } else if (type == HEADERS && !opens(streamId)) {
                error = Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR,
                        "HEADERS on stream %d, below stream %d opened before (RFC 9113 5.1.1)", streamId, highest);
            }
            if (error != null) {
                failed = true;
                int frameStart = Math.max(start, i - FRAME_HEADER);
                if (frameStart > start) {
                    ctx.fireChannelRead(in.retainedSlice(start, frameStart - start));
                }
                in.release();
                ctx.fireExceptionCaught(error);
                return;
            }
            if ((header[4] & END_STREAM) != 0) {
                ended[nextEnded] = streamId;
                nextEnded = (nextEnded + 1) % MAX_ENDED;
                endedCount = Math.min(endedCount + 1, MAX_ENDED);
            }
        }
        ctx.fireChannelRead(in);
    }

    private boolean wasEnded(int streamId) {
        for (int e = 0; e < endedCount; e++) {
            if (ended[e] == streamId) {
                return true;
            }
        }
        return false;
    }

    /** False when a HEADERS on {@code streamId} would open a stream whose identifier the client skipped. */
    private boolean opens(int streamId) {
        if (streamId > highest) {
            if (streamId > highest + 2) {
                gapLow[next] = highest + 2;
                gapHigh[next] = streamId - 2;
                next = (next + 1) % MAX_GAPS;
                gaps = Math.min(gaps + 1, MAX_GAPS);
            }
            highest = streamId;
            return true;
        }
        for (int g = 0; g < gaps; g++) {
            if (streamId >= gapLow[g] && streamId <= gapHigh[g]) {
                return false;
            }
        }
        return true; // a stream used before: Netty's to judge
    }
}
