package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What a request head costs on today's HTTP path, per head (issue 13): the strict request decoder
 * ({@link HttpCodecs#requestDecoder}) turning the client's bytes into an {@code HttpRequest}, the
 * rewrite for the server ({@link ForwardedHeaders#toServer}, with the reads {@code ProxyExchange}
 * makes before it), and Netty's {@code HttpRequestEncoder} writing it back to bytes, as the proxy
 * does for every request. The head is a typical browser navigation: 16 header fields, 726 bytes.
 * The class sits in fulcrum-server's package to reach the package-private {@code ForwardedHeaders}.
 *
 * <p>Run with {@code bench/jmh.sh} (it adds {@code -prof gc}: {@code gc.alloc.rate.norm} is the
 * bytes allocated per head). Each operation feeds the same bytes from one direct buffer (retained
 * per operation and released by the decoder, as a socket read's buffer is), so the figures are the
 * decoder's, rewriter's and encoder's allocation, not the benchmark's. Single-threaded, like one
 * event loop.
 *
 * <p>{@code bytesRewriteEncode} is the same path on heads as bytes (STYLE.md principle 15): the
 * head indexed into a {@link MessageHead}, the same reads and rewrite on it, and
 * {@link MessageWriter} putting it in one pooled buffer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class RequestHeadBenchmark {

    /** A Firefox navigation on an HTTPS site, as the proxy receives it after TLS. */
    static final String BROWSER_HEAD = """
            GET /products/shoes?color=blue&size=42&sort=price HTTP/1.1\r
            Host: shop.example.com\r
            User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r
            Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r
            Accept-Language: en-US,en;q=0.5\r
            Accept-Encoding: gzip, deflate, br, zstd\r
            Referer: https://shop.example.com/products?category=footwear\r
            Connection: keep-alive\r
            Cookie: session=7f3a9c2e41b84d0f9e6a5c3b2d1e0f4a; prefs=lang%3Den%26cur%3DEUR; _ga=GA1.2.1234567890.1700000000\r
            Upgrade-Insecure-Requests: 1\r
            Sec-Fetch-Dest: document\r
            Sec-Fetch-Mode: navigate\r
            Sec-Fetch-Site: same-origin\r
            Sec-Fetch-User: ?1\r
            If-None-Match: "5d8c72a5edda8d6a"\r
            Priority: u=0, i\r
            Cache-Control: max-age=0\r
            \r
            """;

    private ByteBuf wire;
    private EmbeddedChannel decoder;
    private EmbeddedChannel encoder;
    private EmbeddedChannel bytesOut;
    private MessageWriter writer;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = BROWSER_HEAD.getBytes(StandardCharsets.US_ASCII);
        wire = ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        decoder = new EmbeddedChannel(HttpCodecs.requestDecoder(16 * 1024));
        encoder = new EmbeddedChannel(new HttpRequestEncoder());
        bytesOut = new EmbeddedChannel();
        writer = new MessageWriter(bytesOut);
        MessageHead indexed = index(wire);
        if (indexed.size() != 16 || !indexed.target().equals("/products/shoes?color=blue&size=42&sort=price")
                || !"keep-alive".equals(indexed.get(HttpHeaderNames.CONNECTION))) {
            throw new IllegalStateException("the benchmark head does not index as expected: " + indexed);
        }
        // the bytes must decode into one good request, and the buffer must survive the decoder
        HttpRequest request = decode();
        if (request == null || !request.decoderResult().isSuccess() || request.headers().size() != 16
                || wire.refCnt() != 1) {
            throw new IllegalStateException("the benchmark head does not decode as expected: " + request);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
        bytesOut.finishAndReleaseAll();
        wire.release();
    }

    /** Bytes to {@code HttpRequest}: the strict decoder alone. */
    @Benchmark
    public HttpRequest decode() {
        wire.readerIndex(0).retain();
        decoder.writeInbound(wire);
        HttpRequest request = decoder.readInbound();
        drain(decoder.inboundMessages().poll());
        return request;
    }

    /** Bytes in, bytes out: decode, the proxy's reads and rewrite of the head, encode. */
    @Benchmark
    public void decodeRewriteEncode(Blackhole bh) {
        HttpRequest request = decode();
        bh.consume(HttpUtil.isKeepAlive(request));
        bh.consume(ForwardedHeaders.hasLooped(request, "fulcrum"));
        HttpRequest toServer = ForwardedHeaders.toServer(request, "203.0.113.7", true, "fulcrum");
        encoder.writeOutbound(toServer, LastHttpContent.EMPTY_LAST_CONTENT);
        Object out;
        while ((out = encoder.readOutbound()) != null) {
            bh.consume(((ByteBuf) out).readableBytes());
            ReferenceCountUtil.release(out);
        }
    }

    /**
     * Bytes in, bytes out on heads as bytes: the head indexed into a {@link MessageHead} (by the
     * stand-in {@link #index} until the byte-level decoder's benchmark measures the real one), the
     * same reads and rewrite as {@link #decodeRewriteEncode} on it, and {@link MessageWriter}
     * writing it (one pooled buffer) and ending the bodyless request, with void promises.
     */
    @Benchmark
    public void bytesRewriteEncode(Blackhole bh) {
        MessageHead request = index(wire.readerIndex(0));
        bh.consume(ForwardedHeaders.isKeepAlive(request));
        bh.consume(ForwardedHeaders.hasLooped(request, "fulcrum"));
        ForwardedHeaders.toServer(request, "203.0.113.7", true, "fulcrum");
        writer.writeRequest(request, writer.voidPromise());
        writer.writeEnd(MessageEnd.NO_TRAILERS, writer.voidPromise());
        bytesOut.flush();
        Object out;
        while ((out = bytesOut.readOutbound()) != null) {
            bh.consume(((ByteBuf) out).readableBytes());
            ReferenceCountUtil.release(out);
        }
    }

    /**
     * What a byte-level decoder does at least, as a stand-in: one copy of the head (without the
     * blank line) into an array with room for the fields the rewrite appends, and the index
     * (request line parts; name, value and line offsets per field). No validation: the bytes are
     * known good.
     */
    static MessageHead index(ByteBuf in) {
        int n = in.readableBytes() - 2;
        byte[] b = new byte[n + 256];
        in.getBytes(in.readerIndex(), b, 0, n);
        int[] f = new int[32 * MessageHead.FIELD_INTS];
        int p = 0;
        while (b[p] != ' ') {
            p++;
        }
        int methodEnd = p++;
        int targetStart = p;
        while (b[p] != ' ') {
            p++;
        }
        int targetEnd = p;
        int minor = b[p + 8] - '0';
        while (b[p] != '\n') {
            p++;
        }
        p++;
        int count = 0;
        while (p < n) {
            int o = count++ * MessageHead.FIELD_INTS;
            f[o] = p;
            while (b[p] != ':') {
                p++;
            }
            f[o + 1] = p++;
            while (b[p] == ' ' || b[p] == '\t') {
                p++;
            }
            f[o + 2] = p;
            while (b[p] != '\r') {
                p++;
            }
            int ve = p;
            while (ve > f[o + 2] && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
                ve--;
            }
            f[o + 3] = ve;
            p += 2;
            f[o + 4] = p;
        }
        return MessageHead.request(b, n, methodEnd, targetStart, targetEnd, minor, f, count);
    }

    /** Releases what follows the head (a GET's empty {@code LastHttpContent}), and anything more. */
    private void drain(Object first) {
        Object m = first;
        while (m != null) {
            ReferenceCountUtil.release(m);
            m = decoder.inboundMessages().poll();
        }
    }
}
