package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rapid-reset guard on a frame codec, with the test's clock: premature resets (less than a
 * second after their stream opened) close the connection at the 201st in a window, resets of
 * older streams (a gRPC client's cancels) never do.
 */
class Http2ResetGuardTest {

    private static final byte[] REQUEST = RawH2.block(":method", "POST", ":scheme", "http", ":path", "/test.Echo/Hang",
            ":authority", "a", "content-type", "application/grpc");

    private long now = 1_000_000_000L;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                .initialSettings(io.netty.handler.codec.http2.Http2Settings.defaultSettings().maxConcurrentStreams(1000))
                .decoderEnforceMaxRstFramesPerWindow(0, 0).build());
        channel.pipeline().addLast(new Http2ResetGuard(() -> now));
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
            }
        });
        ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
        channel.writeInbound(preface, Unpooled.wrappedBuffer(RawH2.frameBytes(RawH2.SETTINGS, 0, 0, new byte[0])));
        frameTypes(); // the server's preface
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private void open(int streamId) {
        channel.writeInbound(Unpooled.wrappedBuffer(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS, streamId, REQUEST)));
    }

    private void reset(int streamId) {
        channel.writeInbound(Unpooled.wrappedBuffer(RawH2.frameBytes(RawH2.RST_STREAM, 0, streamId,
                new byte[]{0, 0, 0, (byte) Http2Error.CANCEL.code()})));
    }

    /** The types of the frames the server wrote, with GOAWAY's error code: "GOAWAY ENHANCE_YOUR_CALM". */
    private List<String> frameTypes() {
        List<String> types = new ArrayList<>();
        ByteBuf b = Unpooled.buffer();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf part = (ByteBuf) o; // a frame's head and payload may come in separate buffers
            b.writeBytes(part);
            part.release();
        }
        while (b.readableBytes() >= 9) {
            int length = b.readUnsignedMedium();
            int type = b.readUnsignedByte();
            b.skipBytes(5);
            if (type == 7) {
                b.skipBytes(4);
                types.add("GOAWAY " + Http2Error.valueOf(b.readUnsignedInt()));
                b.skipBytes(length - 8);
            } else {
                types.add("type " + type);
                b.skipBytes(length);
            }
        }
        b.release();
        return types;
    }

    @Test
    void theTwoHundredFirstPrematureResetClosesTheConnection() {
        for (int i = 0; i < 200; i++) {
            open(2 * i + 1);
            reset(2 * i + 1);
        }
        assertThat(frameTypes()).doesNotContain("GOAWAY ENHANCE_YOUR_CALM");
        assertThat(channel.isActive()).isTrue();
        open(401);
        reset(401);
        assertThat(frameTypes()).contains("GOAWAY ENHANCE_YOUR_CALM");
        assertThat(channel.isActive()).isFalse();
    }

    @Test
    void resetsOfStreamsOlderThanASecondAreCancelsNotAnAttack() {
        for (int i = 0; i < 500; i++) {
            open(2 * i + 1);
        }
        now += TimeUnit.MILLISECONDS.toNanos(Http2ResetGuard.PREMATURE_MILLIS);
        for (int i = 0; i < 500; i++) {
            reset(2 * i + 1);
        }
        assertThat(frameTypes()).doesNotContain("GOAWAY ENHANCE_YOUR_CALM");
        assertThat(channel.isActive()).isTrue();
    }

    @Test
    void theWindowStartsAgainAfterThirtySeconds() {
        for (int i = 0; i < 200; i++) {
            open(2 * i + 1);
            reset(2 * i + 1);
        }
        now += TimeUnit.SECONDS.toNanos(Http2ResetGuard.WINDOW_SECONDS) + 1;
        for (int i = 200; i < 400; i++) {
            open(2 * i + 1);
            reset(2 * i + 1);
        }
        assertThat(frameTypes()).doesNotContain("GOAWAY ENHANCE_YOUR_CALM");
        assertThat(channel.isActive()).isTrue();
    }
}
