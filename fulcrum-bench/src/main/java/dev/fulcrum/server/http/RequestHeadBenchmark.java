package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.HttpCodecs;
import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
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
 * What a request head costs on the HTTP path, per head (issue 13): {@link #decode} is the
 * proxy's {@code RequestDecoder} (one validating pass, one copy into a {@code MessageHead}, the
 * rules on the index); {@link #decodeRewriteEncode} adds what the proxy does with every head —
 * the reads {@code ProxyExchange} makes, {@link ForwardedHeaders#toServer} as splices, and
 * {@link MessageWriter} writing it for the server. {@link #nettyDecodeEncode} is the reference it
 * replaced: Netty's {@code HttpRequestDecoder} into {@code HttpRequest}/{@code HttpHeaders} objects
 * and its {@code HttpRequestEncoder} back to bytes, without Fulcrum's checks or rewrite (before
 * this change the proxy did that and more: 3972 ns / 2984 B to decode, 5319 ns / 3644 B with the
 * rewrite and encode, bench/README.md). The head is a typical browser navigation: 16 header
 * fields, 726 bytes.
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
    private EmbeddedChannel requestDecoder;
    private EmbeddedChannel server;
    private MessageWriter writer;
    private EmbeddedChannel nettyDecoder;
    private EmbeddedChannel nettyEncoder;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = BROWSER_HEAD.getBytes(StandardCharsets.ISO_8859_1);
        wire = ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        requestDecoder = new EmbeddedChannel(HttpCodecs.requestDecoder(16 * 1024));
        server = new EmbeddedChannel();
        writer = new MessageWriter(server);
        nettyDecoder = new EmbeddedChannel(new HttpRequestDecoder());
        nettyEncoder = new EmbeddedChannel(new HttpRequestEncoder());
        MessageHead head = decode();
        if (head.size() != 16 || !head.target().equals("/products/shoes?color=blue&size=42&sort=price")
                || !ForwardedHeaders.isKeepAlive(head)) {
            throw new IllegalStateException("the benchmark head does not decode as expected: " + head);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        requestDecoder.finishAndReleaseAll();
        server.finishAndReleaseAll();
        nettyDecoder.finishAndReleaseAll();
        nettyEncoder.finishAndReleaseAll();
        wire.release();
    }

    /** Bytes to {@code MessageHead}: validation, index, rules. */
    @Benchmark
    public MessageHead decode() {
        wire.readerIndex(0).retain();
        requestDecoder.writeInbound(wire);
        MessageHead head = requestDecoder.readInbound();
        Object end = requestDecoder.readInbound(); // MessageEnd, nothing to release
        if (end != MessageEnd.NO_TRAILERS) {
            throw new IllegalStateException("expected the end of a GET, got " + end);
        }
        return head;
    }

    /** Bytes in, bytes out, as the proxy handles every request head on its way to a server. */
    @Benchmark
    public void decodeRewriteEncode(Blackhole bh) {
        MessageHead request = decode();
        bh.consume(request.method());
        bh.consume(ForwardedHeaders.isUpgrade(request));
        bh.consume(ForwardedHeaders.isKeepAlive(request));
        bh.consume(ForwardedHeaders.hasLooped(request, "fulcrum"));
        ForwardedHeaders.toServer(request, ForwardedHeaders.isUpgrade(request), "203.0.113.7", true, "fulcrum", false);
        writer.writeRequest(request, writer.voidPromise());
        writer.writeEnd(MessageEnd.NO_TRAILERS, writer.voidPromise());
        server.flush();
        Object out;
        while ((out = server.readOutbound()) != null) {
            bh.consume(((ByteBuf) out).readableBytes());
            ReferenceCountUtil.release(out);
        }
    }

    /** The reference: Netty's decoder into objects and its encoder back to bytes (no checks, no rewrite). */
    @Benchmark
    public void nettyDecodeEncode(Blackhole bh) {
        wire.readerIndex(0).retain();
        nettyDecoder.writeInbound(wire);
        HttpRequest request = nettyDecoder.readInbound();
        ReferenceCountUtil.release(nettyDecoder.readInbound()); // the GET's empty LastHttpContent
        bh.consume(HttpUtil.isKeepAlive(request));
        nettyEncoder.writeOutbound(request, LastHttpContent.EMPTY_LAST_CONTENT);
        Object out;
        while ((out = nettyEncoder.readOutbound()) != null) {
            bh.consume(((ByteBuf) out).readableBytes());
            ReferenceCountUtil.release(out);
        }
    }
}
