package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
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
 * What a request head costs on the HTTP path, per head (issue 13), before and after heads as bytes.
 * Before: the strict request decoder
 * ({@link HttpCodecs#requestDecoder}) turning the client's bytes into an {@code HttpRequest}, the
 * rewrite for the server ({@link ForwardedHeaders#toServer}, with the reads {@code ProxyExchange}
 * makes before it), and Netty's {@code HttpRequestEncoder} writing it back to bytes, as the proxy
 * does for every request. The head is a typical browser navigation: 16 header fields, 726 bytes.
 * After: {@link #decodeMessageHead} ({@code RequestDecoder}: one validating pass, one copy into a
 * {@code MessageHead}, rules on the index) and {@link #decodeRewriteWriteMessageHead}.
 * The class sits in fulcrum-server's package to reach the package-private {@code ForwardedHeaders}.
 *
 * <p>Run with {@code bench/jmh.sh} (it adds {@code -prof gc}: {@code gc.alloc.rate.norm} is the
 * bytes allocated per head). Each operation feeds the same bytes from one direct buffer (retained
 * per operation and released by the decoder, as a socket read's buffer is), so the figures are the
 * decoder's, rewriter's and encoder's allocation, not the benchmark's. Single-threaded, like one
 * event loop.
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
    private EmbeddedChannel messageDecoder;
    private ByteBuf out;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = BROWSER_HEAD.getBytes(StandardCharsets.US_ASCII);
        wire = ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        decoder = new EmbeddedChannel(HttpCodecs.requestDecoder(16 * 1024));
        encoder = new EmbeddedChannel(new HttpRequestEncoder());
        messageDecoder = new EmbeddedChannel(HttpCodecs.messageRequestDecoder(16 * 1024));
        out = ByteBufAllocator.DEFAULT.directBuffer(4096);
        // the bytes must decode into one good request, and the buffer must survive the decoder
        HttpRequest request = decode();
        if (request == null || !request.decoderResult().isSuccess() || request.headers().size() != 16
                || wire.refCnt() != 1) {
            throw new IllegalStateException("the benchmark head does not decode as expected: " + request);
        }
        MessageHead head = decodeMessageHead();
        if (head == null || head.size() != 16 || !head.target().startsWith("/products") || wire.refCnt() != 1) {
            throw new IllegalStateException("the benchmark head does not decode as expected: " + head);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
        messageDecoder.finishAndReleaseAll();
        out.release();
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

    /** Bytes to {@code MessageHead}: {@link HttpCodecs#messageRequestDecoder}, validation and rules on the index. */
    @Benchmark
    public MessageHead decodeMessageHead() {
        wire.readerIndex(0).retain();
        messageDecoder.writeInbound(wire);
        MessageHead head = messageDecoder.readInbound();
        Object end = messageDecoder.readInbound(); // MessageEnd, nothing to release
        if (end != MessageEnd.NO_TRAILERS) {
            throw new IllegalStateException("expected the end of a GET, got " + end);
        }
        return head;
    }

    /**
     * Bytes in, bytes out on heads as bytes: decode, the reads the proxy makes (keep-alive, a loop),
     * an appended {@code X-Forwarded-For} and {@code Via} and hop-by-hop removal as splices, and the
     * one-pass writer into a reused buffer. (Not {@code ForwardedHeaders} itself: it is being moved
     * onto {@code MessageHead} separately; this is the same work.)
     */
    @Benchmark
    public void decodeRewriteWriteMessageHead(Blackhole bh) {
        MessageHead head = decodeMessageHead();
        bh.consume(head.hasToken(CONNECTION, KEEP_ALIVE));
        bh.consume(head.contains(VIA));
        head.removeAll(CONNECTION);
        head.beginField("X-Forwarded-For");
        head.appendText("203.0.113.7");
        head.endField();
        head.add("X-Forwarded-Proto", "https");
        head.add("Via", "1.1 fulcrum");
        out.clear();
        head.writeRequest(out);
        bh.consume(out.readableBytes());
    }

    private static final AsciiString CONNECTION = AsciiString.cached("connection");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString VIA = AsciiString.cached("via");

    /** Releases what follows the head (a GET's empty {@code LastHttpContent}), and anything more. */
    private void drain(Object first) {
        Object m = first;
        while (m != null) {
            ReferenceCountUtil.release(m);
            m = decoder.inboundMessages().poll();
        }
    }
}
