package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A raw HTTP/2 client for conformance and attack tests: it writes frames byte by byte as a
 * hostile client would (header blocks as HPACK literals without indexing, in any order, any
 * case), and reads what the listener answers with Netty's frame reader into a queue of one-line
 * events: {@code HEADERS 1 :status=200 end}, {@code DATA 1 12 end}, {@code RST 1 PROTOCOL_ERROR},
 * {@code GOAWAY 3 ENHANCE_YOUR_CALM <debug>}, {@code SETTINGS}, {@code EOF}. Plain text (prior knowledge).
 */
final class RawH2 implements AutoCloseable {

    static final int HEADERS = 0x1;
    static final int DATA = 0x0;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PING = 0x6;
    static final int CONTINUATION = 0x9;
    static final int WINDOW_UPDATE = 0x8;
    static final int END_STREAM = 0x1;
    static final int END_HEADERS = 0x4;
    static final int PRIORITY = 0x2;
    static final int PUSH_PROMISE = 0x5;
    static final int GOAWAY = 0x7;
    static final int ACK = 0x1;
    static final int PADDED = 0x8;
    static final int PRIORITY_FLAG = 0x20;

    final Socket socket;
    private final OutputStream out;
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final Thread reader;

    RawH2(int port) throws IOException {
        this(port, new byte[0], true);
    }

    RawH2(int port, byte[] settings) throws IOException {
        this(port, settings, true);
    }

    /**
     * Connects, sends the preface and a SETTINGS frame with {@code settings} (6-byte entries);
     * {@code reading} false: never reads the socket (a client that does not take its answers).
     */
    RawH2(int port, byte[] settings, boolean reading) throws IOException {
        this(port, settings, reading, 0);
    }

    /**
     * As {@link #RawH2(int, byte[], boolean)}, with the socket's receive buffer set to
     * {@code receiveBuffer} bytes before it connects (0: the kernel's default): a client that does
     * not read and has a small buffer makes the listener's answers pile up after a few kilobytes.
     */
    RawH2(int port, byte[] settings, boolean reading, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
        byte[] p = new byte[preface.readableBytes()];
        preface.getBytes(preface.readerIndex(), p);
        out.write(p);
        frame(SETTINGS, 0, 0, settings);
        reader = reading ? Thread.ofVirtual().start(this::readLoop) : null;
    }

    /** A SETTINGS entry. */
    static byte[] setting(int id, long value) {
        return new byte[]{(byte) (id >> 8), (byte) id, (byte) (value >> 24), (byte) (value >> 16), (byte) (value >> 8),
                (byte) value};
    }

    void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
        out.write(frameBytes(type, flags, streamId, payload));
        out.flush();
    }

    /** Writes bytes as they are (many frames at once). */
    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    static byte[] frameBytes(int type, int flags, int streamId, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >> 16);
        f[1] = (byte) (payload.length >> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (streamId >> 24);
        f[6] = (byte) (streamId >> 16);
        f[7] = (byte) (streamId >> 8);
        f[8] = (byte) streamId;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** A header block of literal fields without indexing, in the order given: name, value, name, value... */
    static byte[] block(String... fields) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < fields.length; i += 2) {
            b.write(0x00);
            string(b, fields[i]);
            string(b, fields[i + 1]);
        }
        return b.toByteArray();
    }

    /** An HPACK string, no Huffman, with its length as a 7-bit prefix integer. */
    static void string(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        integer(b, bytes.length, 7, 0);
        b.writeBytes(bytes);
    }

    static void integer(ByteArrayOutputStream b, int value, int prefixBits, int firstByteFlags) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            b.write(firstByteFlags | value);
            return;
        }
        b.write(firstByteFlags | max);
        value -= max;
        while (value >= 128) {
            b.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        b.write(value);
    }

    /** A GET of {@code path} on stream {@code id}, END_STREAM. */
    void get(int id, String path) throws IOException {
        headers(id, true, ":method", "GET", ":scheme", "http", ":path", path, ":authority", "example.com");
    }

    void headers(int id, boolean endStream, String... fields) throws IOException {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), id, block(fields));
    }

    void data(int id, boolean endStream, byte[] bytes) throws IOException {
        frame(DATA, endStream ? END_STREAM : 0, id, bytes);
    }

    void rst(int id, Http2Error error) throws IOException {
        frame(RST_STREAM, 0, id, new byte[]{0, 0, 0, (byte) error.code()});
    }

    /** The next event, failing after 10 s. */
    String next() throws InterruptedException {
        String e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no frame from the listener in 10 s");
        }
        return e;
    }

    /** The next event that is not SETTINGS, WINDOW_UPDATE or PING. */
    String nextOnStream() throws InterruptedException {
        String e;
        do {
            e = next();
        } while (e.startsWith("SETTINGS") || e.startsWith("WINDOW_UPDATE") || e.startsWith("PING"));
        return e;
    }

    /**
     * Sends {@code total} units of frames ({@code unit} makes the i-th) in batches of {@code batch},
     * each followed by a PING whose ack it waits for, so that the listener has read a batch before the
     * next one goes: when it closes, nothing unread is left in its socket to turn the close into a
     * TCP reset that would destroy its GOAWAY. Returns every event up to EOF.
     */
    java.util.List<String> flood(java.util.function.IntFunction<byte[]> unit, int total, int batch)
            throws InterruptedException {
        java.util.List<String> all = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < total; i += batch) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                for (int j = i; j < Math.min(total, i + batch); j++) {
                    b.writeBytes(unit.apply(j));
                }
                b.writeBytes(frameBytes(PING, 0, 0, new byte[]{0, 0, 0, 0, 0, 0, 0, (byte) (i / batch)}));
                write(b.toByteArray());
                String e;
                do {
                    e = next();
                    all.add(e);
                    if (e.equals("EOF")) {
                        return all;
                    }
                } while (!e.startsWith("PING ack"));
            }
        } catch (IOException closed) {
            // the listener closed the connection: collect what it said
        }
        all.addAll(untilEof());
        return all;
    }

    /** Events up to and including EOF (the listener closed the connection). */
    java.util.List<String> untilEof() throws InterruptedException {
        java.util.List<String> all = new java.util.ArrayList<>();
        String e;
        do {
            e = next();
            all.add(e);
        } while (!e.equals("EOF"));
        return all;
    }

    private void readLoop() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = channel.pipeline().firstContext();
        DefaultHttp2FrameReader frames = new DefaultHttp2FrameReader(false);
        ByteBuf in = Unpooled.buffer();
        Listener listener = new Listener();
        try {
            InputStream s = socket.getInputStream();
            byte[] buf = new byte[65536];
            int n;
            while ((n = s.read(buf)) > 0) {
                in.writeBytes(buf, 0, n);
                frames.readFrame(ctx, in, listener);
                in.discardReadBytes();
            }
        } catch (IOException | Http2Exception e) {
            events.add("ERROR " + e.getMessage());
        } finally {
            events.add("EOF");
            in.release();
            frames.close();
        }
    }

    private final class Listener extends Http2FrameAdapter {
        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            events.add("DATA " + streamId + " " + data.readableBytes() + (endOfStream ? " end" : "")
                    + " " + data.toString(StandardCharsets.ISO_8859_1));
            return data.readableBytes() + padding;
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                  boolean endOfStream) {
            StringBuilder b = new StringBuilder("HEADERS ").append(streamId);
            headers.forEach(e -> b.append(' ').append(e.getKey()).append('=').append(e.getValue()));
            events.add(b.append(endOfStream ? " end" : "").toString());
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(ctx, streamId, headers, padding, endOfStream);
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
            events.add("RST " + streamId + " " + Http2Error.valueOf(errorCode));
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
            events.add("GOAWAY " + lastStreamId + " " + Http2Error.valueOf(errorCode) + " "
                    + debugData.toString(StandardCharsets.UTF_8));
        }

        @Override
        public void onSettingsRead(ChannelHandlerContext ctx, io.netty.handler.codec.http2.Http2Settings settings) {
            events.add("SETTINGS " + settings);
        }

        @Override
        public void onSettingsAckRead(ChannelHandlerContext ctx) {
            events.add("SETTINGS ack");
        }

        @Override
        public void onPingRead(ChannelHandlerContext ctx, long data) {
            events.add("PING " + data);
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext ctx, long data) {
            events.add("PING ack " + data);
        }

        @Override
        public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
            events.add("WINDOW_UPDATE " + streamId + " " + windowSizeIncrement);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        if (reader == null) {
            return;
        }
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
