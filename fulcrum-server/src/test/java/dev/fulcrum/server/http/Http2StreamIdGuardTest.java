package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static dev.fulcrum.server.http.Http2ConformanceIT.cat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Http2StreamIdGuard} reads frame headers across any split of the bytes: a HEADERS on an
 * identifier the client skipped fails the connection (PROTOCOL_ERROR), after the bytes before it
 * went on (and nothing after it); a HEADERS on a stream the client ended fails it with STREAM_CLOSED;
 * trailers and frames on streams used before pass.
 */
class Http2StreamIdGuardTest {

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** What reached the handler after the guard: the bytes, and the error if one came. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Throwable> errors = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            bytes.writeBytes(a);
            b.release();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            errors.add(cause);
        }
    }

    private static byte[] frame(int type, int flags, int streamId, int payloadLength) {
        return RawH2.frameBytes(type, flags, streamId, new byte[payloadLength]);
    }

    /** Sends {@code bytes} in pieces of {@code piece} bytes through a guard. */
    private static Sink send(byte[] bytes, int piece) {
        Sink sink = new Sink();
        EmbeddedChannel ch = new EmbeddedChannel(new Http2StreamIdGuard(), sink);
        for (int i = 0; i < bytes.length; i += piece) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i)));
        }
        ch.finishAndReleaseAll();
        return sink;
    }

    @Test
    void aHeadersOnASkippedIdentifierFailsTheConnectionAfterTheBytesBeforeIt() {
        byte[] before = cat(PREFACE, frame(0x4, 0, 0, 6), frame(0x1, 0x5, 5, 20), frame(0x0, 0x1, 5, 100));
        byte[] bytes = cat(before, frame(0x1, 0x5, 3, 20), frame(0x1, 0x5, 7, 20));
        for (int piece : new int[] {1, 7, 9, 64, bytes.length}) {
            Sink sink = send(bytes, piece);
            // the bytes before the frame; when its header was split, the part that came earlier too
            // (passed on before the guard could know: the codec holds it unread, then closes)
            byte[] passed = sink.bytes.toByteArray();
            assertThat(passed.length).as("piece %d", piece).isBetween(before.length, before.length + 8);
            assertThat(passed).as("piece %d", piece).isEqualTo(java.util.Arrays.copyOf(bytes, passed.length));
            assertThat(sink.errors).as("piece %d", piece).singleElement()
                    .isInstanceOfSatisfying(Http2Exception.class, e -> {
                        assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR);
                        assertThat(e.getMessage()).contains("stream 3").contains("stream 5");
                    });
        }
    }

    @Test
    void streamsInOrderTrailersAndFramesOnStreamsUsedBeforePass() {
        byte[] bytes = cat(PREFACE, frame(0x1, 0x4, 1, 10), frame(0x1, 0x5, 1, 10), // a request, its trailers
                frame(0x1, 0x4, 3, 10), frame(0x1, 0x5, 9, 10), // 5 and 7 skipped
                frame(0x1, 0x5, 3, 10), // stream 3 again, not ended before: trailers, Netty's to judge
                frame(0x2, 0, 5, 5), // PRIORITY on a skipped one opens nothing
                frame(0x1, 0x5, 11, 10));
        for (int piece : new int[] {1, 5, bytes.length}) {
            Sink sink = send(bytes, piece);
            assertThat(sink.errors).isEmpty();
            assertThat(sink.bytes.toByteArray()).isEqualTo(bytes);
        }
    }

    @Test
    void aHeadersOnAStreamTheClientEndedFailsTheConnectionWithStreamClosed() {
        // stream 1 ended by its HEADERS (half-closed remote), stream 3 by its last DATA
        for (byte[] ending : List.of(frame(0x1, 0x5, 1, 10), cat(frame(0x1, 0x4, 1, 10), frame(0x0, 0x1, 1, 30)))) {
            byte[] before = cat(PREFACE, ending, frame(0x1, 0x5, 3, 10));
            byte[] bytes = cat(before, frame(0x1, 0x5, 1, 10));
            for (int piece : new int[] {1, 9, bytes.length}) {
                Sink sink = send(bytes, piece);
                assertThat(sink.bytes.toByteArray().length).as("piece %d", piece).isBetween(before.length, before.length + 8);
                assertThat(sink.errors).as("piece %d", piece).singleElement()
                        .isInstanceOfSatisfying(Http2Exception.class, e -> {
                            assertThat(e.error()).isEqualTo(Http2Error.STREAM_CLOSED);
                            assertThat(e.getMessage()).contains("stream 1");
                        });
            }
        }
    }
}
