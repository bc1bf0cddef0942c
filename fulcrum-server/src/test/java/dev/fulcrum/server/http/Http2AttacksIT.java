package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.metrics.Http2Refusal;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The HTTP/2 attacks of issue 16 from a raw-frame client ({@link RawH2}): each flood closes the
 * connection with GOAWAY within a bounded number of frames (or resets the stream), is counted in
 * {@code fulcrum_http2_refused_total} under its reason, and leaves the listener serving others.
 * Also: a stalled reader holds little memory, GOAWAY on a graceful close and on idleness.
 */
class Http2AttacksIT {

    private static final long MIB = 1024 * 1024;

    TestBackend backend;
    ProxyFixture proxy;

    void start(FulcrumConfig.Http2 http2) throws Exception {
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.http2 = http2;
        proxy.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    long refusals(Http2Refusal reason) {
        return proxy.listener.stats().http2Refusals(reason);
    }

    /** The GOAWAY among {@code events}, failing when there is none. */
    static String goAway(List<String> events) {
        return events.stream().filter(e -> e.startsWith("GOAWAY")).findFirst()
                .orElseThrow(() -> new AssertionError("no GOAWAY in " + events));
    }

    void assertStillServing() throws Exception {
        try (RawH2 c = new RawH2(proxy.port)) {
            c.get(1, "/ok");
            assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
        }
    }

    @Test
    void rapidResetClosesTheConnectionWithinTheLimit() throws Exception {
        start(FulcrumConfig.Http2.ON);
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            events = c.flood(i -> {
                ByteArrayOutputStream pair = new ByteArrayOutputStream();
                pair.writeBytes(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 2 * i + 1,
                        RawH2.block(":method", "GET", ":scheme", "http", ":path", "/never", ":authority", "a")));
                pair.writeBytes(RawH2.frameBytes(RawH2.RST_STREAM, 0, 2 * i + 1, new byte[]{0, 0, 0, 8}));
                return pair.toByteArray();
            }, 1000, 50);
        }
        assertThat(goAway(events)).contains("ENHANCE_YOUR_CALM").contains("RST frames");
        // closed at the 201st reset: 5 batches of 50 were read at most, 250 streams
        assertThat(events.stream().filter(e -> e.startsWith("PING ack")).count()).isLessThanOrEqualTo(4);
        assertThat(backend.requests("/never")).isLessThanOrEqualTo(201);
        assertThat(refusals(Http2Refusal.RAPID_RESET)).isEqualTo(1);
        assertStillServing();
    }

    @Test
    void madeYouResetClosesTheConnectionWithinTheLimit() throws Exception {
        start(FulcrumConfig.Http2.ON);
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            // each request is malformed (a connection-specific field): the listener must reset it
            events = c.flood(i -> RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 2 * i + 1,
                    RawH2.block(":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a",
                            "connection", "close")), 1000, 50);
        }
        assertThat(goAway(events)).contains("ENHANCE_YOUR_CALM").contains("RST frames");
        assertThat(events.stream().filter(e -> e.startsWith("RST")).count()).isLessThanOrEqualTo(201);
        assertThat(refusals(Http2Refusal.SERVER_RESETS)).isEqualTo(1);
        assertStillServing();
    }

    @Test
    void continuationFloodClosesTheConnection() throws Exception {
        start(FulcrumConfig.Http2.ON);
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            c.frame(RawH2.HEADERS, 0, 1, RawH2.block(":method", "GET"));
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            for (int i = 0; i < 10_000; i++) {
                flood.writeBytes(RawH2.frameBytes(RawH2.CONTINUATION, 0, 1, new byte[0]));
            }
            try {
                c.write(flood.toByteArray());
            } catch (IOException closed) {
                // closed mid-flood
            }
            events = c.untilEof();
        }
        assertThat(goAway(events)).contains("ENHANCE_YOUR_CALM");
        assertThat(refusals(Http2Refusal.CONTINUATION_FLOOD)).isEqualTo(1);
        assertThat(backend.totalRequests()).isZero();
        assertStillServing();
    }

    @Test
    void headerBlockLargerThanTheLimitClosesTheConnection() throws Exception {
        start(FulcrumConfig.Http2.ON);
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            c.frame(RawH2.HEADERS, 0, 1, RawH2.block(":method", "GET"));
            byte[] big = RawH2.block("x-big", "a".repeat(16_000));
            try {
                for (int i = 0; i < 10; i++) { // 160 KB of header block against max-header-bytes 64 KiB
                    c.frame(RawH2.CONTINUATION, 0, 1, big);
                }
            } catch (IOException closed) {
                // closed mid-block
            }
            events = c.untilEof();
        }
        assertThat(goAway(events)).contains("PROTOCOL_ERROR").contains("Header size exceeded");
        assertThat(refusals(Http2Refusal.HEADER_LIST_SIZE)).isEqualTo(1);
    }

    @Test
    void hpackBombResetsTheStreamWithoutHoldingItsExpansion() throws Exception {
        start(FulcrumConfig.Http2.ON);
        try (RawH2 c = new RawH2(proxy.port)) {
            ByteArrayOutputStream block = new ByteArrayOutputStream();
            block.writeBytes(RawH2.block(":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a"));
            block.write(0x40); // literal with incremental indexing: enters the dynamic table (index 62)
            RawH2.string(block, "x-bomb");
            RawH2.string(block, "b".repeat(4000));
            for (int i = 0; i < 100; i++) {
                block.write(0x80 | 62); // one byte, 4 KB decoded: 400 KB from under 5 KB sent
            }
            c.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, block.toByteArray());
            // Netty answers a header list over SETTINGS_MAX_HEADER_LIST_SIZE with 431 itself (RFC 6585)
            assertThat(c.nextOnStream()).isEqualTo("HEADERS 1 :status=431 end");
        }
        assertThat(backend.totalRequests()).isZero();
        assertThat(refusals(Http2Refusal.HEADER_LIST_SIZE)).isEqualTo(1);
    }

    @Test
    void emptyDataFloodClosesTheConnection() throws Exception {
        start(FulcrumConfig.Http2.ON);
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a");
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            for (int i = 0; i < 1000; i++) {
                flood.writeBytes(RawH2.frameBytes(RawH2.DATA, 0, 1, new byte[0]));
            }
            try {
                c.write(flood.toByteArray());
            } catch (IOException closed) {
                // closed mid-flood
            }
            events = c.untilEof();
        }
        assertThat(goAway(events)).contains("ENHANCE_YOUR_CALM");
        assertThat(refusals(Http2Refusal.EMPTY_FRAME_FLOOD)).isEqualTo(1);
    }

    @Test
    void pingFloodFromAClientThatReadsIsClosedAtTheRateLimit() throws Exception {
        // a client that reads every ack never trips Netty's queued-answers guard: the rate limit does
        start(FulcrumConfig.Http2.ON);
        int sent = Http2ConnectionGuard.CONTROL_FRAME_BURST + 500;
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            for (int i = 0; i < sent; i++) {
                flood.writeBytes(RawH2.frameBytes(RawH2.PING, 0, 0, new byte[8]));
            }
            try {
                c.write(flood.toByteArray());
            } catch (IOException closed) {
                // closed mid-flood
            }
            events = c.untilEof();
        }
        assertThat(goAway(events)).contains("ENHANCE_YOUR_CALM");
        assertThat(events.stream().filter(e -> e.startsWith("PING ack")).count())
                .as("answered up to the burst (and what the rate refilled meanwhile), not all %d", sent)
                .isBetween((long) Http2ConnectionGuard.CONTROL_FRAME_BURST - 1, sent - 100L);
        assertThat(refusals(Http2Refusal.CONTROL_FRAME_FLOOD)).isEqualTo(1);
        assertStillServing();
    }

    @Test
    void pingFloodFromAClientThatDoesNotReadClosesTheConnection() throws Exception {
        start(FulcrumConfig.Http2.ON);
        byte[] ping = RawH2.frameBytes(RawH2.PING, 0, 0, new byte[8]);
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        for (int i = 0; i < 10_000; i++) {
            flood.writeBytes(ping);
        }
        byte[] burst = flood.toByteArray();
        try (RawH2 c = new RawH2(proxy.port, new byte[0], false)) {
            try {
                for (int i = 0; i < 500; i++) { // 5 million PINGs at most; the acks pile up unread
                    c.write(burst);
                }
            } catch (IOException closed) {
                // what the test waits for
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.listener.activeConnections() == 0);
        assertThat(refusals(Http2Refusal.CONTROL_FRAME_FLOOD)).isEqualTo(1);
        assertStillServing();
    }

    @Test
    void streamsBeyondTheLimitAreRefused() throws Exception {
        start(new FulcrumConfig.Http2(true, 2));
        try (RawH2 c = new RawH2(proxy.port)) {
            assertThat(c.next()).contains("MAX_CONCURRENT_STREAMS=2").startsWith("SETTINGS");
            c.get(1, "/never");
            c.get(3, "/never");
            c.get(5, "/never");
            assertThat(c.nextOnStream()).isEqualTo("RST 5 REFUSED_STREAM");
        }
        assertThat(refusals(Http2Refusal.STREAM_LIMIT)).isEqualTo(1);
    }

    @Test
    void stalledReaderHoldsLittleMemoryAndItsResetFreesTheServer() throws Exception {
        start(FulcrumConfig.Http2.ON);
        ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        var server = proxy.pool.pool().servers().getFirst();
        // SETTINGS_INITIAL_WINDOW_SIZE 0: the client never opens a window, not a byte of DATA may come
        try (RawH2 c = new RawH2(proxy.port, RawH2.setting(0x4, 0))) {
            long before = metric.usedDirectMemory() + metric.usedHeapMemory();
            c.get(1, "/bytes?n=" + 256 * MIB);
            assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
            // the whole JVM's Netty memory, the test server's buffers included, in the allocator's
            // 512 KiB chunks: it stays within 2 MiB of what it was, not 256 MiB
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5))
                    .until(() -> metric.usedDirectMemory() + metric.usedHeapMemory() - before <= 2 * MIB);
            assertThat(server.activeRequests()).isEqualTo(1);
            c.rst(1, Http2Error.CANCEL);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 0);
        }
    }

    /**
     * A client that opens 20 streams of 256 MiB with wide windows, then stops reading its socket:
     * the responses flow until the socket buffers are full, then wait in Fulcrum. The connection's
     * unsent response bytes ({@link Http2ResponseBudget}, exact) stay within its 1 MiB budget plus
     * the server reads under way when it was passed: one per stream at most, each at most
     * {@link #LARGEST_SERVER_READ} (measured on a loaded machine: 380 to 1150 KiB). The streams
     * wait without an error (their requests are at the server, which is not read meanwhile).
     */
    /** One socket read with auto-read off: Netty's adaptive receive buffer grows to 64 KiB at most. */
    private static final long LARGEST_SERVER_READ = 64 * 1024;

    @Test
    void manyStalledStreamsOnOneConnectionHoldAtMostTheConnectionsBudget() throws Exception {
        start(FulcrumConfig.Http2.ON);
        ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        var server = proxy.pool.pool().servers().getFirst();
        try (RawH2 c = new RawH2(proxy.port, RawH2.setting(0x4, 16 * MIB), false, 1 << 20)) {
            c.frame(RawH2.WINDOW_UPDATE, 0, 0, Http2ConformanceIT.u32(1 << 30));
            long before = metric.usedDirectMemory() + metric.usedHeapMemory();
            for (int i = 0; i < 20; i++) {
                c.get(2 * i + 1, "/bytes?n=" + 256 * MIB);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 20);
            Channel connection = proxy.listener.clientConnections().iterator().next();
            Http2ResponseBudget budget = connection.attr(Http2ResponseBudget.KEY).get();
            AtomicLong most = new AtomicLong();
            AtomicLong memory = new AtomicLong();
            try {
                // stable for 1.5 s: the budget, exactly; and the whole JVM's Netty memory, counted in the
                // allocator's chunks per thread (the server reads under way own buffers too), as a check
                // that nothing else piles up per stream: not 20 x 256 MiB, nor 20 x the socket buffers
                await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10)).until(() -> {
                    long held = connection.eventLoop().submit(budget::held).get();
                    most.accumulateAndGet(held, Math::max);
                    memory.accumulateAndGet(metric.usedDirectMemory() + metric.usedHeapMemory() - before, Math::max);
                    return held <= Http2ResponseBudget.LIMIT + 20 * LARGEST_SERVER_READ && memory.get() <= 4 * MIB;
                });
            } finally {
                System.out.printf("20 stalled streams: at most %d KiB unsent, Netty memory +%d KiB%n",
                        most.get() / 1024, memory.get() / 1024);
            }
            assertThat(server.activeRequests()).isEqualTo(20); // waiting, not failed
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 0);
    }

    @Test
    void gracefulCloseSendsGoAwayAndLetsTheStreamFinish() throws Exception {
        start(FulcrumConfig.Http2.ON);
        try (RawH2 c = new RawH2(proxy.port)) {
            c.get(1, "/slow?ms=500");
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests("/slow") == 1);
            var closed = proxy.listener.closeGracefully(Duration.ofSeconds(10));
            List<String> events = c.untilEof().stream()
                    .filter(e -> !e.startsWith("SETTINGS") && !e.startsWith("WINDOW_UPDATE")).toList();
            assertThat(events.get(0)).startsWith("GOAWAY 1 NO_ERROR");
            assertThat(events.get(1)).startsWith("HEADERS 1 :status=200");
            assertThat(events).anyMatch(e -> e.startsWith("DATA 1") && e.contains(" end"));
            assertThat(events.getLast()).isEqualTo("EOF");
            closed.get();
        }
    }

    @Test
    void connectionThatSentNothingClosesAtOnceOnGracefulClose() throws Exception {
        start(FulcrumConfig.Http2.ON);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port)) {
            s.setSoTimeout(10_000);
            await().atMost(Duration.ofSeconds(5)).until(() -> proxy.listener.activeConnections() == 1);
            // the protocol is not chosen yet: no request to finish, so no reason to wait for the timeout
            proxy.listener.closeGracefully(Duration.ofSeconds(30)).get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void idleConnectionGetsGoAway() throws Exception {
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.http2 = FulcrumConfig.Http2.ON;
        proxy.idleTimeout = Duration.ofMillis(300);
        proxy.start();
        try (RawH2 c = new RawH2(proxy.port)) {
            c.get(1, "/x");
            List<String> events = c.untilEof();
            assertThat(events).anyMatch(e -> e.startsWith("DATA 1") && e.contains(" end"));
            assertThat(goAway(events)).startsWith("GOAWAY 1 NO_ERROR");
        }
    }

    @Test
    void aResponseEndingTheConnectionEndsOnlyItsStreamCleanly() throws Exception {
        start(FulcrumConfig.Http2.ON);
        try (RawH2 c = new RawH2(proxy.port)) {
            c.get(1, "/bye");
            assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200").doesNotContain("connection=");
            assertThat(c.nextOnStream()).startsWith("DATA 1").contains(" end");
            c.get(3, "/x");
            assertThat(c.nextOnStream()).startsWith("HEADERS 3 :status=200"); // no RST 1 between
        }
    }
}
