package dev.fulcrum.server.http.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A decoder in an {@link EmbeddedChannel} for the codec tests: bytes in, every event out (kept
 * in order across writes), and on {@link #close} the leak check — once the events are released,
 * no buffer written in may still be referenced, so a body slice retained and never released fails
 * the test. Inputs are direct buffers, which Netty's leak detector tracks (run with
 * {@code -Dio.netty.leakDetection.level=paranoid}); a trickle's one-byte buffers are heap ones
 * (64 KiB of tracked buffers is slow), checked the same way.
 */
final class DecoderProbe implements AutoCloseable {

    private final EmbeddedChannel channel;
    private final List<Object> events = new ArrayList<>();
    private final List<ByteBuf> inputs = new ArrayList<>();

    DecoderProbe(ChannelHandler... handlers) {
        channel = new EmbeddedChannel(handlers);
    }

    EmbeddedChannel channel() {
        return channel;
    }

    /** A direct buffer holding {@code text} (ISO-8859-1), remembered for the leak check. */
    ByteBuf bytes(String text) {
        byte[] data = text.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf buf = Unpooled.directBuffer(data.length).writeBytes(data);
        inputs.add(buf);
        return buf;
    }

    /** Writes {@code text} (unless empty) and returns every event so far. */
    List<Object> write(String text) {
        if (!text.isEmpty()) {
            channel.writeInbound(bytes(text));
        }
        return readAll();
    }

    /** Writes {@code text} one byte per read and returns every event so far. */
    List<Object> trickle(String text) {
        for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
            ByteBuf one = Unpooled.buffer(1).writeByte(b);
            inputs.add(one);
            channel.writeInbound(one);
            readAll();
        }
        return events;
    }

    /** Every event so far. */
    List<Object> readAll() {
        drain();
        return events;
    }

    /** The events since the last read (they are kept for the release on close too). */
    List<Object> drain() {
        List<Object> fresh = new ArrayList<>();
        for (Object o; (o = channel.readInbound()) != null; ) {
            fresh.add(o);
        }
        events.addAll(fresh);
        return fresh;
    }

    @Override
    public void close() {
        events.forEach(ReferenceCountUtil::release);
        channel.finishAndReleaseAll();
        assertThat(inputs).as("input buffers still referenced").allSatisfy(b -> assertThat(b.refCnt()).isZero());
    }
}
