package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.metrics.Http2Refusal;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/2 conformance suite: every requirement of RFC 9113 and RFC 7541 (HPACK) that h2spec 2.x
 * checks (its "generic", "http2" and "hpack" groups), from a raw-frame client ({@link RawH2}) against
 * a plain-text listener with http2 on, one {@code @Nested} class per section (RFC 9113 numbering;
 * each test's comment gives h2spec's number, which follows RFC 7540). Errors are asserted as the
 * RFC allows them: a stream error may also be a connection error (§5.4.1). Where Netty answers
 * otherwise, Fulcrum answers ahead of it ({@link Http2StreamIdGuard}: h2spec 5.1.1.2 and 5.1.6).
 * Also the request rules {@link Http2Requests} adds (each a RST_STREAM PROTOCOL_ERROR counted as
 * {@code invalid-request}). Every read is bounded ({@link RawH2#next()}: 10 s).
 */
class Http2ConformanceIT {

    TestBackend backend;
    ProxyFixture proxy;

    @BeforeEach
    void start() throws Exception {
        backend = TestBackend.start("a");
        proxy = new ProxyFixture().servers(backend);
        proxy.http2 = FulcrumConfig.Http2.ON;
        proxy.start();
    }

    @AfterEach
    void stop() {
        proxy.close();
        backend.close();
    }

    /** Sends {@code fields} as a request on stream 1 and expects its reset with PROTOCOL_ERROR. */
    void assertRefused(boolean endStream, String... fields) throws Exception {
        try (RawH2 c = new RawH2(proxy.port)) {
            c.headers(1, endStream, fields);
            assertThat(c.nextOnStream()).isEqualTo("RST 1 PROTOCOL_ERROR");
            // a stream error, not a connection error: the next request on the connection is served
            c.get(3, "/after");
            assertThat(c.nextOnStream()).startsWith("HEADERS 3 :status=200");
        }
        assertThat(proxy.listener.stats().http2Refusals(Http2Refusal.INVALID_REQUEST)).isEqualTo(1);
        assertThat(backend.requests("/x")).isZero();
    }

    @Test
    void aValidRequestIsAnswered() throws Exception {
        try (RawH2 c = new RawH2(proxy.port)) {
            c.get(1, "/x");
            assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200").doesNotContain("connection")
                    .doesNotContain("keep-alive");
            assertThat(c.nextOnStream()).isEqualTo("DATA 1 8 end server a");
        }
    }

    @Nested
    class FieldValidity_8_2 {
        // h2spec http2/8.1.2.1: field names are lowercase (RFC 9113 §8.2.1)
        @Test
        void uppercaseNameIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", "X-Upper", "1");
        }

        @Test
        void lineFeedInValueIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a",
                    "x-evil", "a\r\nx-injected: 1");
        }

        @Test
        void nulInValueIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", "x-nul", "a\0b");
        }

        @Test
        void leadingWhitespaceInValueIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", "x-pad", " a");
        }

        @Test
        void spaceInNameIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", "x y", "1");
        }
    }

    @Nested
    class ConnectionSpecificFields_8_2_2 {
        // h2spec http2/8.1.2.2.1: connection-specific fields are malformed (§8.2.2)
        @Test
        void connectionIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a",
                    "connection", "keep-alive");
        }

        @Test
        void transferEncodingIsRefused() throws Exception {
            assertRefused(false, ":method", "POST", ":scheme", "http", ":path", "/x", ":authority", "a",
                    "transfer-encoding", "chunked");
        }

        @Test
        void upgradeIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a",
                    "upgrade", "websocket");
        }

        @Test
        void keepAliveAndProxyConnectionAreRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a",
                    "keep-alive", "timeout=5");
        }

        // h2spec http2/8.1.2.2.2: TE may only be "trailers" (§8.2.2)
        @Test
        void teOtherThanTrailersIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", "te", "gzip");
        }

        @Test
        void teTrailersIsAllowed() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", "te", "trailers");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
            }
        }
    }

    @Nested
    class PseudoHeaders_8_3 {
        // h2spec http2/8.1.2.3.4 (§8.3.1)
        @Test
        void missingPathIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":authority", "a");
        }

        // h2spec http2/8.1.2.3.2 (§8.3.1)
        @Test
        void missingMethodIsRefused() throws Exception {
            assertRefused(true, ":scheme", "http", ":path", "/x", ":authority", "a");
        }

        // h2spec http2/8.1.2.1.1 (§8.3)
        @Test
        void unknownPseudoHeaderIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", ":foo", "1");
        }

        // h2spec http2/8.1.2.1.2 (§8.3)
        @Test
        void responsePseudoHeaderInRequestIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":status", "200");
        }

        // h2spec http2/8.1.2.1.4 (§8.3)
        @Test
        void pseudoHeaderAfterRegularFieldIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", "x-a", "1", ":path", "/x");
        }

        // h2spec http2/8.1.2.3.5: :method twice (§8.3.1)
        @Test
        void duplicatePseudoHeaderIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":method", "GET", ":scheme", "http", ":path", "/x");
        }

        // h2spec http2/8.1.2.3.3
        @Test
        void missingSchemeIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":path", "/x", ":authority", "a");
        }

        // h2spec http2/8.1.2.3.6
        @Test
        void duplicateSchemeIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":scheme", "http", ":path", "/x", ":authority", "a");
        }

        // h2spec http2/8.1.2.3.7
        @Test
        void duplicatePathIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":path", "/x", ":authority", "a");
        }

        // h2spec http2/8.1.2.3.1: :path is not empty for http(s) (§8.3.1)
        @Test
        void emptyPathIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "", ":authority", "a");
        }

        @Test
        void absoluteFormPathIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "http://other.example/x",
                    ":authority", "a");
        }

        @Test
        void asteriskPathIsForOptionsOnly() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, true, ":method", "OPTIONS", ":scheme", "http", ":path", "*", ":authority", "a");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=");
            }
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "*", ":authority", "a");
        }

        @Test
        void spaceInPathIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x HTTP/1.1\r\nx: y", ":authority", "a");
        }

        @Test
        void userinfoInAuthorityIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "user@a");
        }

        // h2spec http2/8.1.2.1.3 (§8.1)
        @Test
        void pseudoHeaderInTrailersIsRefused() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a");
                c.data(1, false, "abc".getBytes(StandardCharsets.US_ASCII));
                c.headers(1, true, ":path", "/y");
                assertThat(c.nextOnStream()).isEqualTo("RST 1 PROTOCOL_ERROR");
            }
        }

        @Test
        void authorityIsTheHostSentAndWinsOverAHostField() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/headers", ":authority",
                        "api.example.com", "host", "other.example.com", "cookie", "a=1", "cookie", "b=2");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                String body = c.nextOnStream();
                assertThat(body).contains("host: api.example.com").doesNotContain("other.example.com")
                        .contains("cookie: a=1; b=2");
            }
        }

        @Test
        void connectIsAnswered405() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, true, ":method", "CONNECT", ":authority", "a.example:443");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=405");
            }
        }
    }

    @Nested
    class HttpMessage_8_1 {
        // h2spec generic/4.1
        @Test
        void getIsAnswered() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.get(1, "/x");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                assertThat(c.nextOnStream()).isEqualTo("DATA 1 8 end server a");
            }
        }

        // h2spec generic/4.2: a HEAD response has no content
        @Test
        void headIsAnsweredWithoutContent() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, true, ":method", "HEAD", ":scheme", "http", ":path", "/x", ":authority", "a");
                String head = c.nextOnStream();
                assertThat(head).startsWith("HEADERS 1 :status=200");
                if (!head.endsWith(" end")) {
                    assertThat(c.nextOnStream()).startsWith("DATA 1 0 end");
                }
            }
        }

        // h2spec generic/4.3
        @Test
        void postIsAnswered() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a",
                        "content-length", "3");
                c.data(1, true, ascii("abc"));
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                assertThat(nextData(c)).contains(SHA256_ABC);
            }
        }

        // h2spec http2/8.1.1: a second HEADERS (trailers) without END_STREAM is PROTOCOL_ERROR
        @Test
        void trailersWithoutEndStreamAreRefused() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a");
                c.data(1, false, ascii("abc"));
                c.headers(1, false, "x-checksum", "1");
                assertStreamError(c, 1, "PROTOCOL_ERROR");
            }
        }
    }

    @Nested
    class ContentLength_8_1_1 {
        // h2spec http2/8.1.2.6.2: content-length unlike the sum of several DATA frames
        @Test
        void contentLengthUnlikeTheSumOfSeveralDataFramesIsRefused() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a",
                        "content-length", "4");
                c.data(1, false, ascii("abc"));
                c.data(1, true, ascii("de"));
                assertThat(c.nextOnStream()).isEqualTo("RST 1 PROTOCOL_ERROR");
            }
        }

        // h2spec http2/8.1.2.6.1: content-length unlike the DATA (§8.1.1)
        @Test
        void fewerDataBytesThanContentLengthIsRefused() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a",
                        "content-length", "10");
                c.data(1, true, "abcde".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.nextOnStream()).isEqualTo("RST 1 PROTOCOL_ERROR");
            }
        }

        @Test
        void contentLengthOnHeadersThatEndTheStreamIsRefused() throws Exception {
            assertRefused(true, ":method", "POST", ":scheme", "http", ":path", "/x", ":authority", "a",
                    "content-length", "5");
        }

        @Test
        void moreDataBytesThanContentLengthIsRefused() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a",
                        "content-length", "3");
                c.data(1, true, "abcdef".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.nextOnStream()).isEqualTo("RST 1 PROTOCOL_ERROR");
            }
        }

        // h2spec generic/4.4: POST with trailers (§8.1)
        @Test
        void bodyWithTrailersReachesTheServerChunked() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a");
                c.data(1, false, "abc".getBytes(StandardCharsets.US_ASCII));
                c.headers(1, true, "x-checksum", "1");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                // sha256("abc")
                assertThat(c.nextOnStream()).contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            }
        }
    }

    /** Sends {@code frame} and expects the connection closed with GOAWAY {@code error}, counted as protocol-error. */
    void assertConnectionError(byte[] frame, String error) throws Exception {
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            c.write(frame);
            events = c.untilEof();
        }
        assertThat(events).anyMatch(e -> e.startsWith("GOAWAY ") && e.contains(" " + error));
        assertThat(proxy.listener.stats().http2Refusals(Http2Refusal.PROTOCOL_ERROR)).isEqualTo(1);
    }

    // ---- helpers for h2spec's list: frames as bytes, and what a client must see ----

    static final byte[] NONE = new byte[0];
    static final byte[] REQUEST = RawH2.block(":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a");
    /** A request the backend never answers: its stream stays half-closed (remote) on the listener. */
    static final byte[] NEVER = RawH2.block(":method", "GET", ":scheme", "http", ":path", "/never", ":authority", "a");
    static final byte[] POST = RawH2.block(":method", "POST", ":scheme", "http", ":path", "/sha256", ":authority", "a");

    static byte[] f(int type, int flags, int id, byte[] payload) {
        return RawH2.frameBytes(type, flags, id, payload);
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static byte[] u32(long v) {
        return bytes((int) (v >> 24), (int) (v >> 16), (int) (v >> 8), (int) v);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Sends {@code frames} on a fresh connection and expects a connection error: GOAWAY with one of
     * {@code errors}, then the close. The bad frame must come last, so nothing unread turns the
     * close into a TCP reset that would destroy the GOAWAY.
     */
    List<String> assertGoAway(byte[] frames, String... errors) throws Exception {
        List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            c.write(frames);
            events = c.untilEof();
        }
        assertThat(events).as("events").anyMatch(e -> e.startsWith("GOAWAY ")
                && Arrays.stream(errors).anyMatch(error -> e.contains(" " + error + " ")));
        return events;
    }

    /**
     * Expects a stream error on {@code id} with one of {@code errors}, or a connection error with one
     * of them: RFC 9113 §5.4.1 lets an endpoint treat any stream error as a connection error.
     */
    static void assertStreamError(RawH2 c, int id, String... errors) throws Exception {
        List<String> seen = new ArrayList<>();
        while (true) {
            String e = c.next();
            seen.add(e);
            for (String error : errors) {
                if (e.equals("RST " + id + " " + error) || e.startsWith("GOAWAY ") && e.contains(" " + error + " ")) {
                    return;
                }
            }
            if (e.startsWith("RST") || e.startsWith("GOAWAY") || e.equals("EOF")) {
                throw new AssertionError("expected a stream error " + Arrays.toString(errors) + " on " + id + ", saw " + seen);
            }
        }
    }

    /** Sends {@code frames} and expects a stream or connection error with one of {@code errors}. */
    void assertStreamError(byte[] frames, int id, String... errors) throws Exception {
        try (RawH2 c = new RawH2(proxy.port)) {
            c.write(frames);
            assertStreamError(c, id, errors);
        }
    }

    /**
     * Expects the connection alive and unharmed: a PING is answered, and nothing before its ack is
     * a reset, a GOAWAY or the close (PING is answered in order, so it also bounds the wait for an
     * error that is not coming).
     */
    static void assertAlive(RawH2 c) throws Exception {
        c.frame(RawH2.PING, 0, 0, bytes(0, 0, 0, 0, 0, 0, 0x0a, 0x11));
        List<String> seen = new ArrayList<>();
        String e;
        do {
            e = c.next();
            seen.add(e);
            if (e.startsWith("RST") || e.startsWith("GOAWAY") || e.equals("EOF") || e.startsWith("ERROR")) {
                throw new AssertionError("expected the connection unharmed, saw " + seen);
            }
        } while (!e.equals("PING ack " + 0x0a11));
    }

    /** Sends {@code frames}, expects no error and a GET on {@code nextId} answered 200. */
    void assertIgnored(byte[] frames, int nextId) throws Exception {
        try (RawH2 c = new RawH2(proxy.port)) {
            c.write(frames);
            assertAlive(c);
            c.get(nextId, "/x");
            assertThat(c.nextOnStream()).startsWith("HEADERS " + nextId + " :status=200");
        }
    }

    /** Sends {@code frames} (a request on stream {@code id}) and expects it answered 200. */
    void assertServed(byte[] frames, int id) throws Exception {
        try (RawH2 c = new RawH2(proxy.port)) {
            c.write(frames);
            assertThat(c.nextOnStream()).startsWith("HEADERS " + id + " :status=200");
        }
    }

    /** The next DATA event, skipping connection-level frames and the response head. */
    static String nextData(RawH2 c) throws Exception {
        String e;
        do {
            e = c.nextOnStream();
        } while (e.startsWith("HEADERS"));
        return e;
    }

    @Nested
    class Preface_3_4 {
        // h2spec http2/3.5.1, generic/1.1: the server's preface is a SETTINGS frame, and it acks ours
        @Test
        void validPrefaceIsAnsweredWithSettings() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                assertThat(c.next()).startsWith("SETTINGS").isNotEqualTo("SETTINGS ack");
                assertThat(c.next()).isEqualTo("SETTINGS ack");
            }
        }

        // h2spec http2/3.5.2: an invalid preface is a connection error. On a plain listener with http2 on,
        // bytes that are not the preface are HTTP/1.1 (prior-knowledge detection, §3.3), so the client
        // sees the connection closed without a single HTTP/2 frame (the GOAWAY MAY be omitted, §3.4).
        @Test
        void invalidPrefaceClosesTheConnection() throws Exception {
            try (Socket s = new Socket("127.0.0.1", proxy.port)) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(ascii("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));
                byte[] answer = s.getInputStream().readAllBytes();
                String text = new String(answer, StandardCharsets.ISO_8859_1);
                assertThat(text).satisfiesAnyOf(t -> assertThat(t).isEmpty(), t -> assertThat(t).startsWith("HTTP/1.1 4"));
            }
        }
    }

    @Nested
    class FrameFormat_4_1 {
        // h2spec http2/4.1.1: frames of an unknown type are ignored
        @Test
        void unknownFrameTypeIsIgnored() throws Exception {
            assertIgnored(f(0x16, 0, 0, ascii("unknown")), 1);
        }

        // h2spec http2/4.1.2: flags a frame type does not define are ignored
        @Test
        void undefinedFlagsAreIgnored() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.frame(RawH2.PING, 0x16, 0, bytes(0, 0, 0, 0, 0, 0, 0, 7));
                String e;
                do {
                    e = c.next();
                } while (e.startsWith("SETTINGS"));
                assertThat(e).isEqualTo("PING ack 7");
            }
        }

        // h2spec http2/4.1.3: the reserved bit of the stream identifier is ignored on receipt
        @Test
        void reservedBitIsIgnored() throws Exception {
            assertServed(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 0x8000_0001, REQUEST), 1);
        }
    }

    @Nested
    class FrameSize_4_2 {
        // h2spec http2/4.2.1: a DATA frame of exactly SETTINGS_MAX_FRAME_SIZE (the default 2^14) is accepted
        @Test
        void dataOfMaxFrameSizeIsAccepted() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.DATA, RawH2.END_STREAM, 1, new byte[16_384])));
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                assertThat(nextData(c)).contains("bytes 16384");
            }
        }

        // h2spec http2/4.2.2: DATA over SETTINGS_MAX_FRAME_SIZE is FRAME_SIZE_ERROR (a stream error is
        // allowed for DATA, a connection error always is)
        @Test
        void dataOverMaxFrameSizeIsAFrameSizeError() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.DATA, 0, 1, new byte[16_385])),
                    1, "FRAME_SIZE_ERROR");
        }

        // h2spec http2/4.2.3: a frame carrying a field block over the limit alters connection state
        // (HPACK), so it MUST be a connection error
        @Test
        void headersOverMaxFrameSizeIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS, 1, new byte[16_385]),
                    "FRAME_SIZE_ERROR");
        }
    }

    @Nested
    class FieldBlocks_4_3 {
        // h2spec http2/4.3.1: a field block that does not decode is a connection error COMPRESSION_ERROR
        @Test
        void invalidFieldBlockIsACompressionError() throws Exception {
            // a literal whose name claims 10 octets and has 1
            assertGoAway(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, bytes(0x00, 0x0a, 'a')),
                    "COMPRESSION_ERROR");
        }

        // h2spec http2/4.3.2: a field block is contiguous; a PRIORITY inside it is a connection error
        @Test
        void priorityInsideAFieldBlockIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, REQUEST), f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 15))),
                    "PROTOCOL_ERROR");
        }

        // h2spec http2/4.3.3: HEADERS on another stream inside a field block is a connection error
        @Test
        void headersOnAnotherStreamInsideAFieldBlockIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, REQUEST),
                    f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 3, REQUEST)), "PROTOCOL_ERROR");
        }
    }

    @Nested
    class StreamStates_5_1 {
        // h2spec http2/5.1.1: DATA on an idle stream is a connection error PROTOCOL_ERROR
        @Test
        void dataOnAnIdleStreamIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.DATA, 0, 7, new byte[]{1, 2, 3}), "PROTOCOL_ERROR");
        }

        // h2spec http2/5.1.2 and 6.4.2: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR
        @Test
        void rstStreamOnAnIdleStreamIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.RST_STREAM, 0, 1, u32(8)), "PROTOCOL_ERROR");
        }

        // h2spec http2/5.1.3: WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR
        @Test
        void windowUpdateOnAnIdleStreamIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.WINDOW_UPDATE, 0, 1, u32(100)), "PROTOCOL_ERROR");
        }

        // h2spec http2/5.1.4: CONTINUATION on an idle stream is a connection error PROTOCOL_ERROR
        @Test
        void continuationOnAnIdleStreamIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, REQUEST), "PROTOCOL_ERROR");
        }

        // h2spec generic/2.1: PRIORITY is allowed on an idle stream
        @Test
        void priorityOnAnIdleStreamIsAllowed() throws Exception {
            assertIgnored(f(RawH2.PRIORITY, 0, 3, bytes(0, 0, 0, 0, 15)), 1);
        }

        // h2spec http2/5.1.5: DATA on a half-closed (remote) stream is STREAM_CLOSED
        @Test
        void dataOnAHalfClosedRemoteStreamIsStreamClosed() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.DATA, 0, 1, ascii("abc"))), 1, "STREAM_CLOSED");
        }

        // h2spec http2/5.1.6: HEADERS on a half-closed (remote) stream is STREAM_CLOSED (Netty 4.2.18 says
        // PROTOCOL_ERROR, having counted the opening HEADERS twice: Http2StreamIdGuard answers it)
        @Test
        void headersOnAHalfClosedRemoteStreamIsStreamClosed() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, RawH2.block("x-trailer", "1"))),
                    1, "STREAM_CLOSED");
        }

        // h2spec http2/5.1.7: CONTINUATION on a half-closed (remote) stream: STREAM_CLOSED, or PROTOCOL_ERROR
        // since no field block is open (§6.10)
        @Test
        void continuationOnAHalfClosedRemoteStreamIsAnError() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block("x-a", "1"))), 1, "STREAM_CLOSED",
                    "PROTOCOL_ERROR");
        }

        // h2spec generic/2.2: WINDOW_UPDATE is allowed on a half-closed (remote) stream
        @Test
        void windowUpdateOnAHalfClosedRemoteStreamIsAllowed() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.WINDOW_UPDATE, 0, 1, u32(1))), 3);
        }

        // h2spec generic/2.3: PRIORITY is allowed on a half-closed (remote) stream
        @Test
        void priorityOnAHalfClosedRemoteStreamIsAllowed() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 15))), 3);
        }

        // h2spec generic/2.4: RST_STREAM is allowed on a half-closed (remote) stream
        @Test
        void rstStreamOnAHalfClosedRemoteStreamIsAllowed() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.RST_STREAM, 0, 1, u32(8))), 3);
        }

        /** Sends a request on stream 1 and waits for its whole answer: stream 1 is then closed. */
        RawH2 afterEndStream() throws Exception {
            RawH2 c = new RawH2(proxy.port);
            c.get(1, "/x");
            assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
            assertThat(c.nextOnStream()).startsWith("DATA 1 8 end");
            return c;
        }

        /** Opens stream 1 and resets it: stream 1 is then closed. */
        RawH2 afterRst() throws Exception {
            RawH2 c = new RawH2(proxy.port);
            c.write(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.RST_STREAM, 0, 1, u32(8))));
            return c;
        }

        // h2spec http2/5.1.8: DATA after the client's RST_STREAM is STREAM_CLOSED
        @Test
        void dataOnAStreamClosedByRstIsStreamClosed() throws Exception {
            try (RawH2 c = afterRst()) {
                c.data(1, true, ascii("abc"));
                assertStreamError(c, 1, "STREAM_CLOSED");
            }
        }

        // h2spec http2/5.1.9: HEADERS after the client's RST_STREAM is STREAM_CLOSED
        @Test
        void headersOnAStreamClosedByRstIsStreamClosed() throws Exception {
            try (RawH2 c = afterRst()) {
                c.headers(1, true, "x-trailer", "1");
                assertStreamError(c, 1, "STREAM_CLOSED");
            }
        }

        // h2spec http2/5.1.10: CONTINUATION after the client's RST_STREAM: STREAM_CLOSED or PROTOCOL_ERROR (§6.10)
        @Test
        void continuationOnAStreamClosedByRstIsAnError() throws Exception {
            try (RawH2 c = afterRst()) {
                c.frame(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block("x-a", "1"));
                assertStreamError(c, 1, "STREAM_CLOSED", "PROTOCOL_ERROR");
            }
        }

        // h2spec http2/5.1.11: DATA on a stream closed by END_STREAM both ways is STREAM_CLOSED
        @Test
        void dataOnAStreamClosedByEndStreamIsStreamClosed() throws Exception {
            try (RawH2 c = afterEndStream()) {
                c.data(1, true, ascii("abc"));
                assertStreamError(c, 1, "STREAM_CLOSED");
            }
        }

        // h2spec http2/5.1.12: HEADERS on a stream closed by END_STREAM both ways is STREAM_CLOSED
        @Test
        void headersOnAStreamClosedByEndStreamIsStreamClosed() throws Exception {
            try (RawH2 c = afterEndStream()) {
                c.write(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, REQUEST));
                assertStreamError(c, 1, "STREAM_CLOSED");
            }
        }

        // h2spec http2/5.1.13: CONTINUATION on a closed stream: STREAM_CLOSED or PROTOCOL_ERROR (§6.10)
        @Test
        void continuationOnAStreamClosedByEndStreamIsAnError() throws Exception {
            try (RawH2 c = afterEndStream()) {
                c.frame(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block("x-a", "1"));
                assertStreamError(c, 1, "STREAM_CLOSED", "PROTOCOL_ERROR");
            }
        }

        // h2spec generic/2.5: PRIORITY is allowed on a closed stream
        @Test
        void priorityOnAClosedStreamIsAllowed() throws Exception {
            try (RawH2 c = afterEndStream()) {
                c.frame(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 15));
                assertAlive(c);
            }
        }
    }

    @Nested
    class StreamIdentifiers_5_1_1 {
        // h2spec http2/5.1.1.1: a client-initiated stream has an odd identifier
        @Test
        void evenStreamIdFromTheClientIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 2,
                    RawH2.block(":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a")), "PROTOCOL_ERROR");
        }

        // h2spec http2/5.1.1.2: a new stream's identifier is above every one opened before
        @Test
        // Netty takes it for a frame on a closed stream (RST_STREAM STREAM_CLOSED): Http2StreamIdGuard answers
        void streamIdBelowAPreviousOneIsAConnectionError() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.get(5, "/x");
                assertThat(c.nextOnStream()).startsWith("HEADERS 5 :status=200");
                c.get(3, "/x");
                List<String> seen = new ArrayList<>();
                String e;
                do { // fails at once on a reset or the close, with what came
                    e = c.next();
                    seen.add(e);
                    assertThat(e).as("%s", seen).doesNotStartWith("RST").isNotEqualTo("EOF");
                } while (!e.startsWith("GOAWAY "));
                assertThat(e).contains(" PROTOCOL_ERROR ");
            }
        }
    }

    @Nested
    class StreamConcurrency_5_1_2 {
        // h2spec http2/5.1.2.1: a stream over SETTINGS_MAX_CONCURRENT_STREAMS is PROTOCOL_ERROR or REFUSED_STREAM
        @Test
        void streamsOverMaxConcurrentStreamsAreRefused() throws Exception {
            proxy.close();
            proxy = new ProxyFixture().servers(backend);
            proxy.http2 = new FulcrumConfig.Http2(true, 2);
            proxy.start();
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                        f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 3, NEVER),
                        f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 5, NEVER)));
                assertStreamError(c, 5, "REFUSED_STREAM", "PROTOCOL_ERROR");
            }
        }
    }

    @Nested
    class Priority_5_3_1 {
        // h2spec http2/5.3.1.1: a stream cannot depend on itself: HEADERS that say so are PROTOCOL_ERROR
        @Test
        void headersDependingOnItselfIsAnError() throws Exception {
            assertStreamError(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM | RawH2.PRIORITY_FLAG, 1,
                    cat(bytes(0, 0, 0, 1, 15), REQUEST)), 1, "PROTOCOL_ERROR");
        }

        // h2spec http2/5.3.1.2: PRIORITY making a stream depend on itself is PROTOCOL_ERROR
        @Test
        void priorityDependingOnItselfIsAnError() throws Exception {
            assertStreamError(f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 1, 15)), 1, "PROTOCOL_ERROR");
        }
    }

    @Nested
    class ConnectionErrors_5_4_1 {
        // h2spec http2/5.4.1.1 and 5.4.1.2: a connection error sends GOAWAY, then closes the connection
        @Test
        void connectionErrorSendsGoAwayThenCloses() throws Exception {
            List<String> events = assertGoAway(f(RawH2.PING, 0, 0, new byte[6]), "FRAME_SIZE_ERROR");
            assertThat(events.getLast()).isEqualTo("EOF");
            assertThat(events.indexOf(events.stream().filter(e -> e.startsWith("GOAWAY")).findFirst().orElseThrow()))
                    .isEqualTo(events.size() - 2);
        }
    }

    @Nested
    class Extensions_5_5 {
        // h2spec http2/5.5.1: an unknown extension frame on a stream is ignored
        @Test
        void unknownExtensionFrameIsIgnored() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(0xff, 0xff, 1, ascii("extension"))), 3);
        }

        // h2spec http2/5.5.2: inside a field block only CONTINUATION may come, an unknown frame included
        @Test
        void unknownFrameInsideAFieldBlockIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, REQUEST), f(0x16, 0, 1, ascii("unknown"))),
                    "PROTOCOL_ERROR");
        }
    }

    @Nested
    class Data_6_1 {
        // h2spec generic/3.1.1: a request body in one DATA frame
        @Test
        void requestBodyInOneDataFrame() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.DATA, RawH2.END_STREAM, 1, ascii("abc"))));
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                assertThat(nextData(c)).contains(SHA256_ABC);
            }
        }

        // h2spec generic/3.1.2: a request body in several DATA frames
        @Test
        void requestBodyInSeveralDataFrames() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.DATA, 0, 1, ascii("a")),
                        f(RawH2.DATA, 0, 1, ascii("b")), f(RawH2.DATA, RawH2.END_STREAM, 1, ascii("c"))));
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                assertThat(nextData(c)).contains(SHA256_ABC);
            }
        }

        // h2spec generic/3.1.3: padding is not body
        @Test
        void paddedDataFrameCarriesOnlyItsData() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST),
                        f(RawH2.DATA, RawH2.END_STREAM | RawH2.PADDED, 1, cat(bytes(4), ascii("abc"), new byte[4]))));
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                assertThat(nextData(c)).contains(SHA256_ABC);
            }
        }

        // h2spec http2/6.1.1: DATA on stream 0 is a connection error PROTOCOL_ERROR
        @Test
        void dataOnStreamZeroIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.DATA, 0, 0, ascii("abc")), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.1.2: DATA on a stream neither open nor half-closed (local) is STREAM_CLOSED
        @Test
        void dataOnAStreamTheClientEndedIsStreamClosed() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, NEVER),
                    f(RawH2.DATA, RawH2.END_STREAM, 1, ascii("abc"))), 1, "STREAM_CLOSED");
        }

        // h2spec http2/6.1.3: padding as long as the payload or longer is a connection error PROTOCOL_ERROR
        @Test
        void paddingLongerThanThePayloadIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST),
                    f(RawH2.DATA, RawH2.END_STREAM | RawH2.PADDED, 1, cat(bytes(6), ascii("abc")))), "PROTOCOL_ERROR");
        }
    }

    static final String SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @Nested
    class Headers_6_2 {
        // h2spec generic/3.2.1
        @Test
        void headersFrameIsARequest() throws Exception {
            assertServed(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, REQUEST), 1);
        }

        // h2spec generic/3.2.2: padding is not part of the field block
        @Test
        void paddedHeadersFrameIsARequest() throws Exception {
            assertServed(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM | RawH2.PADDED, 1,
                    cat(bytes(5), REQUEST, new byte[5])), 1);
        }

        // h2spec generic/3.2.3: the priority fields are read and (RFC 9113 §5.3.2) may be ignored
        @Test
        void headersFrameWithPriorityIsARequest() throws Exception {
            assertServed(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM | RawH2.PRIORITY_FLAG, 1,
                    cat(bytes(0, 0, 0, 0, 255), REQUEST)), 1);
        }

        // h2spec http2/6.2.1: HEADERS without END_HEADERS must be followed by CONTINUATION on its stream
        @Test
        void headersWithoutEndHeadersThenPriorityOnAnotherStreamIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, REQUEST), f(RawH2.PRIORITY, 0, 3, bytes(0, 0, 0, 0, 15))),
                    "PROTOCOL_ERROR");
        }

        // h2spec http2/6.2.2: HEADERS on stream 0 is a connection error PROTOCOL_ERROR
        @Test
        void headersOnStreamZeroIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 0, REQUEST), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.2.3: padding as long as the rest of the payload is a connection error PROTOCOL_ERROR
        @Test
        void paddingLongerThanThePayloadIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM | RawH2.PADDED, 1,
                    cat(bytes(REQUEST.length + 1), REQUEST)), "PROTOCOL_ERROR");
        }
    }

    @Nested
    class Priority_6_3 {
        // h2spec generic/3.3.1 to 3.3.4: PRIORITY frames of any weight, dependency and exclusivity are accepted
        @Test
        void priorityWithWeightOneIsAccepted() throws Exception {
            assertIgnored(f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 0)), 3);
        }

        @Test
        void priorityWithWeight256IsAccepted() throws Exception {
            assertIgnored(f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 255)), 3);
        }

        @Test
        void priorityWithADependencyIsAccepted() throws Exception {
            assertIgnored(cat(f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 15)), f(RawH2.PRIORITY, 0, 3, bytes(0, 0, 0, 1, 15))), 5);
        }

        @Test
        void exclusivePriorityIsAccepted() throws Exception {
            assertIgnored(cat(f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0, 15)),
                    f(RawH2.PRIORITY, 0, 3, bytes(0x80, 0, 0, 1, 15))), 5);
        }

        // h2spec generic/3.3.5: PRIORITY for an idle stream does not open it: a lower stream can still open
        @Test
        void priorityForAnIdleStreamThenHeadersOnALowerOne() throws Exception {
            assertIgnored(f(RawH2.PRIORITY, 0, 5, bytes(0, 0, 0, 0, 15)), 3);
        }

        // h2spec http2/6.3.1: PRIORITY on stream 0 is a connection error PROTOCOL_ERROR
        @Test
        void priorityOnStreamZeroIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.PRIORITY, 0, 0, bytes(0, 0, 0, 1, 15)), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.3.2: PRIORITY not 5 octets long is FRAME_SIZE_ERROR (a stream error suffices)
        @Test
        void priorityOfLengthFourIsAFrameSizeError() throws Exception {
            assertStreamError(f(RawH2.PRIORITY, 0, 1, bytes(0, 0, 0, 0)), 1, "FRAME_SIZE_ERROR");
        }
    }

    @Nested
    class RstStream_6_4 {
        // h2spec generic/3.4.1: RST_STREAM on an open stream ends it, not the connection
        @Test
        void rstStreamOnAnOpenStreamIsAccepted() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.RST_STREAM, 0, 1, u32(8))), 3);
        }

        // h2spec http2/6.4.1: RST_STREAM on stream 0 is a connection error PROTOCOL_ERROR
        @Test
        void rstStreamOnStreamZeroIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.RST_STREAM, 0, 0, u32(8)), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.4.3: RST_STREAM not 4 octets long is a connection error FRAME_SIZE_ERROR
        @Test
        void rstStreamOfLengthThreeIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.RST_STREAM, 0, 1, bytes(0, 0, 8))),
                    "FRAME_SIZE_ERROR");
        }
    }

    @Nested
    class Settings_6_5 {
        // h2spec http2/6.5.1: a SETTINGS ack with a payload is a connection error FRAME_SIZE_ERROR
        @Test
        void settingsAckWithAPayloadIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.SETTINGS, RawH2.ACK, 0, new byte[1]), "FRAME_SIZE_ERROR");
        }

        // h2spec http2/6.5.2: SETTINGS on a stream is a connection error PROTOCOL_ERROR
        @Test
        void settingsOnAStreamIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.SETTINGS, 0, 1, RawH2.setting(0x3, 100)), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.5.3: a SETTINGS length not a multiple of 6 is a connection error FRAME_SIZE_ERROR
        @Test
        void settingsOfLengthThreeIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.SETTINGS, 0, 0, bytes(0, 3, 0)), "FRAME_SIZE_ERROR");
        }
    }

    @Nested
    class DefinedSettings_6_5_2 {
        /** Sends one setting and expects it acked and the connection serving. */
        void assertAccepted(int id, long value) throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.frame(RawH2.SETTINGS, 0, 0, RawH2.setting(id, value));
                int acks = 0;
                while (acks < 2) { // one for the preface's SETTINGS, one for this
                    String e = c.next();
                    assertThat(e).doesNotStartWith("GOAWAY").isNotEqualTo("EOF");
                    acks += e.equals("SETTINGS ack") ? 1 : 0;
                }
                c.get(1, "/x");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
            }
        }

        // h2spec generic/3.5.1 to 3.5.6: each defined setting with a valid value is acked
        @Test
        void headerTableSizeIsAccepted() throws Exception {
            assertAccepted(0x1, 0);
        }

        @Test
        void enablePushIsAccepted() throws Exception {
            assertAccepted(0x2, 0);
        }

        @Test
        void maxConcurrentStreamsIsAccepted() throws Exception {
            assertAccepted(0x3, 100);
        }

        @Test
        void initialWindowSizeIsAccepted() throws Exception {
            assertAccepted(0x4, 100_000);
        }

        @Test
        void maxFrameSizeIsAccepted() throws Exception {
            assertAccepted(0x5, 1 << 20);
        }

        @Test
        void maxHeaderListSizeIsAccepted() throws Exception {
            assertAccepted(0x6, 100_000);
        }

        // h2spec generic/3.5.7 and http2/6.5.2.5: an unknown setting is ignored
        @Test
        void unknownSettingIsIgnored() throws Exception {
            assertAccepted(0xff, 1);
        }

        // h2spec http2/6.5.2.1: SETTINGS_ENABLE_PUSH other than 0 or 1 is a connection error PROTOCOL_ERROR
        @Test
        void enablePushFromAServerSideValueIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.SETTINGS, 0, 0, RawH2.setting(0x2, 2)), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.5.2.2 and 6.9.2.3: SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1 is FLOW_CONTROL_ERROR
        @Test
        void initialWindowSizeOverTheMaximumIsAFlowControlError() throws Exception {
            assertGoAway(f(RawH2.SETTINGS, 0, 0, RawH2.setting(0x4, 1L << 31)), "FLOW_CONTROL_ERROR");
        }

        // h2spec http2/6.5.2.3: SETTINGS_MAX_FRAME_SIZE below 2^14 is a connection error PROTOCOL_ERROR
        @Test
        void maxFrameSizeBelowTheInitialValueIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.SETTINGS, 0, 0, RawH2.setting(0x5, 16_383)), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.5.2.4: SETTINGS_MAX_FRAME_SIZE above 2^24-1 is a connection error PROTOCOL_ERROR
        @Test
        void maxFrameSizeAboveTheMaximumIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.SETTINGS, 0, 0, RawH2.setting(0x5, 1 << 24)), "PROTOCOL_ERROR");
        }
    }

    @Nested
    class SettingsSynchronization_6_5_3 {
        // h2spec http2/6.5.3.1: values are processed in order: the last of two INITIAL_WINDOW_SIZE wins
        @Test
        void lastOfSeveralValuesWins() throws Exception {
            try (RawH2 c = new RawH2(proxy.port, cat(RawH2.setting(0x4, 100), RawH2.setting(0x4, 1)))) {
                c.get(1, "/x");
                assertThat(nextData(c)).startsWith("DATA 1 1 ");
            }
        }

        // h2spec http2/6.5.3.2: SETTINGS is acknowledged
        @Test
        void settingsAreAcked() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.frame(RawH2.SETTINGS, 0, 0, RawH2.setting(0x3, 10));
                String e;
                int acks = 0;
                do {
                    e = c.next();
                    acks += e.equals("SETTINGS ack") ? 1 : 0;
                } while (acks < 2 && !e.equals("EOF"));
                assertThat(acks).isEqualTo(2);
            }
        }
    }

    @Nested
    class Ping_6_7 {
        // h2spec generic/3.7.1 and http2/6.7.1: PING is answered with an ack carrying the same payload
        @Test
        void pingIsAnsweredWithTheSamePayload() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.frame(RawH2.PING, 0, 0, bytes(0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78));
                String e;
                do {
                    e = c.next();
                } while (e.startsWith("SETTINGS"));
                assertThat(e).isEqualTo("PING ack " + 0x1234_5678_1234_5678L);
            }
        }

        // h2spec http2/6.7.2: a PING ack is not answered
        @Test
        void pingAckIsNotAnswered() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.frame(RawH2.PING, RawH2.ACK, 0, bytes(0, 0, 0, 0, 0, 0, 0, 9));
                assertAlive(c); // the only ack is for assertAlive's PING, which follows
            }
        }

        // h2spec http2/6.7.3: PING on a stream is a connection error PROTOCOL_ERROR
        @Test
        void pingOnAStreamIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.PING, 0, 1, new byte[8]), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.7.4: PING not 8 octets long is a connection error FRAME_SIZE_ERROR
        @Test
        void pingOfLengthSixIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.PING, 0, 0, new byte[6]), "FRAME_SIZE_ERROR");
        }
    }

    @Nested
    class GoAway_6_8 {
        // h2spec generic/3.8.1: a client's GOAWAY is accepted: no error in answer (the server may close)
        @Test
        void goAwayFromTheClientIsAccepted() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.GOAWAY, 0, 0, cat(u32(0), u32(0))), f(RawH2.PING, 0, 0, new byte[8])));
                String e;
                do {
                    e = c.next();
                    assertThat(e).doesNotStartWith("RST").satisfiesAnyOf(x -> assertThat(x).doesNotStartWith("GOAWAY"),
                            x -> assertThat(x).contains(" NO_ERROR "));
                } while (!e.equals("EOF") && !e.startsWith("PING ack"));
            }
        }

        // h2spec http2/6.8.1: GOAWAY on a stream is a connection error PROTOCOL_ERROR
        @Test
        void goAwayOnAStreamIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.GOAWAY, 0, 1, cat(u32(0), u32(0))), "PROTOCOL_ERROR");
        }
    }

    @Nested
    class WindowUpdate_6_9 {
        // h2spec generic/3.9.1: WINDOW_UPDATE on the connection
        @Test
        void windowUpdateOnTheConnectionIsAccepted() throws Exception {
            assertIgnored(f(RawH2.WINDOW_UPDATE, 0, 0, u32(1)), 1);
        }

        // h2spec generic/3.9.2: WINDOW_UPDATE on an open stream
        @Test
        void windowUpdateOnAStreamIsAccepted() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.WINDOW_UPDATE, 0, 1, u32(1))), 3);
        }

        // h2spec http2/6.9.1: an increment of 0 on the connection is a connection error PROTOCOL_ERROR
        @Test
        void zeroIncrementOnTheConnectionIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.WINDOW_UPDATE, 0, 0, u32(0)), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.9.2: an increment of 0 on a stream is a stream error PROTOCOL_ERROR
        @Test
        void zeroIncrementOnAStreamIsAnError() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.WINDOW_UPDATE, 0, 1, u32(0))),
                    1, "PROTOCOL_ERROR");
        }

        // h2spec http2/6.9.3: WINDOW_UPDATE not 4 octets long is a connection error FRAME_SIZE_ERROR
        @Test
        void windowUpdateOfLengthThreeIsAConnectionError() throws Exception {
            assertGoAway(f(RawH2.WINDOW_UPDATE, 0, 0, bytes(0, 0, 1)), "FRAME_SIZE_ERROR");
        }
    }

    @Nested
    class FlowControlWindow_6_9_1 {
        // h2spec http2/6.9.1.1: the server sends no more DATA than the client's window (1 octet)
        @Test
        void dataRespectsTheClientsWindow() throws Exception {
            try (RawH2 c = new RawH2(proxy.port, RawH2.setting(0x4, 1))) {
                c.get(1, "/x");
                assertThat(nextData(c)).startsWith("DATA 1 1 ");
            }
        }

        // h2spec http2/6.9.1.2: a connection window over 2^31-1 is a connection error FLOW_CONTROL_ERROR
        @Test
        void windowUpdateOverflowIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.WINDOW_UPDATE, 0, 0, new byte[]{0x7f, -1, -1, -1}),
                    "FLOW_CONTROL_ERROR");
        }

        // h2spec http2/6.9.1.3: a stream window over 2^31-1 is a stream error FLOW_CONTROL_ERROR
        @Test
        void streamWindowOverflowIsAnError() throws Exception {
            assertStreamError(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST),
                    f(RawH2.WINDOW_UPDATE, 0, 1, u32(0x7fff_ffff))), 1, "FLOW_CONTROL_ERROR");
        }
    }

    @Nested
    class InitialWindowSize_6_9_2 {
        // h2spec http2/6.9.2.1: a new SETTINGS_INITIAL_WINDOW_SIZE changes the windows of open streams
        @Test
        void initialWindowChangeAppliesToOpenStreams() throws Exception {
            try (RawH2 c = new RawH2(proxy.port, RawH2.setting(0x4, 0))) {
                c.get(1, "/x");
                assertThat(c.nextOnStream()).startsWith("HEADERS 1 :status=200");
                c.frame(RawH2.SETTINGS, 0, 0, RawH2.setting(0x4, 1));
                assertThat(nextData(c)).startsWith("DATA 1 1 ");
            }
        }

        // h2spec http2/6.9.2.2: a window made negative by SETTINGS must be topped up past 0 before DATA
        @Test
        void negativeWindowIsAccountedFor() throws Exception {
            try (RawH2 c = new RawH2(proxy.port, RawH2.setting(0x4, 4))) {
                c.get(1, "/x");
                assertThat(nextData(c)).isEqualTo("DATA 1 4 serv");
                c.frame(RawH2.SETTINGS, 0, 0, RawH2.setting(0x4, 2)); // the window is now 2 - 4 = -2
                c.frame(RawH2.WINDOW_UPDATE, 0, 1, u32(2)); // 0: still nothing may be sent
                assertAlive(c);
                c.frame(RawH2.WINDOW_UPDATE, 0, 1, u32(1)); // 1
                assertThat(nextData(c)).isEqualTo("DATA 1 1 e");
            }
        }
    }

    @Nested
    class Continuation_6_10 {
        // h2spec generic/3.10.1 and http2/6.10.1: a field block over HEADERS and CONTINUATIONs
        @Test
        void fieldBlockOverSeveralContinuationsIsARequest() throws Exception {
            byte[] rest = RawH2.block(":path", "/x", ":authority", "a");
            assertServed(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, RawH2.block(":method", "GET")),
                    f(RawH2.CONTINUATION, 0, 1, RawH2.block(":scheme", "http")),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, rest)), 1);
        }

        // h2spec http2/6.10.2: a CONTINUATION without END_HEADERS followed by another frame type
        @Test
        void continuationFollowedByAnotherFrameIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, 0, 1, RawH2.block(":method", "POST")),
                    f(RawH2.CONTINUATION, 0, 1, RawH2.block(":scheme", "http")), f(RawH2.DATA, 0, 1, ascii("abc"))),
                    "PROTOCOL_ERROR");
        }

        // h2spec http2/6.10.3: CONTINUATION on stream 0 is a connection error PROTOCOL_ERROR
        @Test
        void continuationOnStreamZeroIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, RawH2.block(":method", "GET")),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 0, RawH2.block(":scheme", "http"))), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.10.4: CONTINUATION after HEADERS with END_HEADERS is a connection error PROTOCOL_ERROR
        @Test
        void continuationAfterEndHeadersIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block("x-a", "1"))), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.10.5: CONTINUATION after a CONTINUATION with END_HEADERS
        @Test
        void continuationAfterAContinuationWithEndHeadersIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, 0, 1, RawH2.block(":method", "POST", ":scheme", "http")),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block(":path", "/sha256", ":authority", "a")),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block("x-a", "1"))), "PROTOCOL_ERROR");
        }

        // h2spec http2/6.10.6: CONTINUATION after DATA
        @Test
        void continuationAfterDataIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.DATA, 0, 1, ascii("abc")),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, RawH2.block("x-a", "1"))), "PROTOCOL_ERROR");
        }

        // RFC 9113 §6.10: the CONTINUATION must be on the stream of the HEADERS it continues
        @Test
        void continuationOnAnotherStreamIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_STREAM, 1, RawH2.block(":method", "GET")),
                    f(RawH2.CONTINUATION, RawH2.END_HEADERS, 3, RawH2.block(":scheme", "http"))), "PROTOCOL_ERROR");
        }
    }

    @Nested
    class ErrorCodes_7 {
        // h2spec http2/7.1: an unknown error code in GOAWAY is not an error (it means INTERNAL_ERROR at most)
        @Test
        void unknownErrorCodeInGoAwayIsAccepted() throws Exception {
            try (RawH2 c = new RawH2(proxy.port)) {
                c.write(cat(f(RawH2.GOAWAY, 0, 0, cat(u32(0), u32(0xff))), f(RawH2.PING, 0, 0, new byte[8])));
                String e;
                do {
                    e = c.next();
                    assertThat(e).doesNotStartWith("RST").satisfiesAnyOf(x -> assertThat(x).doesNotStartWith("GOAWAY"),
                            x -> assertThat(x).contains(" NO_ERROR "));
                } while (!e.equals("EOF") && !e.startsWith("PING ack"));
            }
        }

        // h2spec http2/7.2: an unknown error code in RST_STREAM is not an error
        @Test
        void unknownErrorCodeInRstStreamIsAccepted() throws Exception {
            assertIgnored(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST), f(RawH2.RST_STREAM, 0, 1, u32(0xff))), 3);
        }
    }

    @Nested
    class ServerPush_8_4 {
        // h2spec http2/8.2.1: a client cannot push: PUSH_PROMISE from it is a connection error PROTOCOL_ERROR
        @Test
        void pushPromiseFromTheClientIsAConnectionError() throws Exception {
            assertGoAway(cat(f(RawH2.HEADERS, RawH2.END_HEADERS, 1, POST),
                    f(RawH2.PUSH_PROMISE, RawH2.END_HEADERS, 1, cat(u32(2), REQUEST))), "PROTOCOL_ERROR");
        }
    }

    // ---- RFC 7541 (HPACK) ----

    /** A request block that starts with {@code first}, the rest as literals. */
    static byte[] requestWith(byte[] first) {
        return cat(first, RawH2.block(":method", "GET", ":scheme", "http", ":path", "/x"));
    }

    /** "www.example.com" Huffman-coded, from RFC 7541 C.4.1. */
    static final byte[] HUFFMAN_WWW_EXAMPLE_COM =
            bytes(0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff);
    /** "custom-key" and "custom-value" Huffman-coded, from RFC 7541 C.4.3. */
    static final byte[] HUFFMAN_CUSTOM_KEY = bytes(0x88, 0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f);
    static final byte[] HUFFMAN_CUSTOM_VALUE = bytes(0x89, 0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf);

    static byte[] raw(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        RawH2.string(b, s);
        return b.toByteArray();
    }

    void assertBlockServed(byte[] block) throws Exception {
        assertServed(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, block), 1);
    }

    void assertCompressionError(byte[] block) throws Exception {
        assertGoAway(f(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, block), "COMPRESSION_ERROR");
    }

    @Nested
    class HpackIndexAddressSpace_Rfc7541_2_3_3 {
        // h2spec hpack/2.3.3.1: an indexed field beyond both tables is COMPRESSION_ERROR
        @Test
        void indexBeyondTheTablesIsACompressionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1,
                    new byte[]{(byte) (0x80 | 0x7f), 0x40}), "COMPRESSION_ERROR");
        }

        // h2spec hpack/2.3.3.2: a literal whose indexed name is beyond both tables is COMPRESSION_ERROR
        @Test
        void literalNameIndexBeyondTheTablesIsACompressionError() throws Exception {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            RawH2.integer(b, 100, 6, 0x40);
            b.writeBytes(raw("a"));
            assertCompressionError(requestWith(b.toByteArray()));
        }
    }

    @Nested
    class HpackTableSizeUpdate_Rfc7541_4_2 {
        // h2spec hpack/4.2.1: a size update above SETTINGS_HEADER_TABLE_SIZE is COMPRESSION_ERROR
        @Test
        void tableSizeUpdateAboveTheSettingIsACompressionError() throws Exception {
            ByteArrayOutputStream block = new ByteArrayOutputStream();
            RawH2.integer(block, 1_000_000, 5, 0x20); // dynamic table size update to 1 MB, above 4096
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1,
                    block.toByteArray()), "COMPRESSION_ERROR");
        }
    }

    @Nested
    class HpackStringLiteral_Rfc7541_5_2 {
        // h2spec hpack/5.2.1: a Huffman string containing EOS is COMPRESSION_ERROR
        @Test
        void huffmanStringWithEosIsACompressionError() throws Exception {
            assertCompressionError(requestWith(cat(bytes(0x00), raw("x-a"), bytes(0x84, 0xff, 0xff, 0xff, 0xff))));
        }

        // h2spec hpack/5.2.2: Huffman padding over 7 bits is COMPRESSION_ERROR
        @Test
        void huffmanPaddingOverSevenBitsIsACompressionError() throws Exception {
            // 'a' is 00011; then 3 + 8 bits of padding
            assertCompressionError(requestWith(cat(bytes(0x00), raw("x-a"), bytes(0x82, 0x1f, 0xff))));
        }

        // h2spec hpack/5.2.3: Huffman padding that is not the EOS prefix (all ones) is COMPRESSION_ERROR
        @Test
        void huffmanPaddingNotAllOnesIsACompressionError() throws Exception {
            // 'a' is 00011; then 000
            assertCompressionError(requestWith(cat(bytes(0x00), raw("x-a"), bytes(0x81, 0x18))));
        }
    }

    @Nested
    class HpackFieldRepresentations_Rfc7541_6 {
        // h2spec generic/5.1: indexed field (:method GET, :scheme http, :path / from the static table)
        @Test
        void indexedField() throws Exception {
            assertBlockServed(cat(bytes(0x82, 0x86, 0x84), RawH2.block(":authority", "a")));
        }

        // h2spec hpack/6.1.1: index 0 is COMPRESSION_ERROR
        @Test
        void indexZeroIsACompressionError() throws Exception {
            assertCompressionError(requestWith(bytes(0x80)));
        }

        // h2spec generic/5.2 and 5.3: literal with incremental indexing, indexed name (:authority), plain and Huffman
        @Test
        void literalWithIndexingIndexedName() throws Exception {
            assertBlockServed(requestWith(cat(bytes(0x41), raw("www.example.com"))));
        }

        @Test
        void literalWithIndexingIndexedNameHuffman() throws Exception {
            assertBlockServed(requestWith(cat(bytes(0x41), HUFFMAN_WWW_EXAMPLE_COM)));
        }

        // h2spec generic/5.4 and 5.5: literal with incremental indexing, new name
        @Test
        void literalWithIndexingNewName() throws Exception {
            assertBlockServed(cat(REQUEST, bytes(0x40), raw("custom-key"), raw("custom-value")));
        }

        @Test
        void literalWithIndexingNewNameHuffman() throws Exception {
            assertBlockServed(cat(REQUEST, bytes(0x40), HUFFMAN_CUSTOM_KEY, HUFFMAN_CUSTOM_VALUE));
        }

        // h2spec generic/5.6 and 5.7: literal without indexing, indexed name
        @Test
        void literalWithoutIndexingIndexedName() throws Exception {
            assertBlockServed(requestWith(cat(bytes(0x01), raw("www.example.com"))));
        }

        @Test
        void literalWithoutIndexingIndexedNameHuffman() throws Exception {
            assertBlockServed(requestWith(cat(bytes(0x01), HUFFMAN_WWW_EXAMPLE_COM)));
        }

        // h2spec generic/5.8 and 5.9: literal without indexing, new name
        @Test
        void literalWithoutIndexingNewName() throws Exception {
            assertBlockServed(cat(REQUEST, bytes(0x00), raw("custom-key"), raw("custom-value")));
        }

        @Test
        void literalWithoutIndexingNewNameHuffman() throws Exception {
            assertBlockServed(cat(REQUEST, bytes(0x00), HUFFMAN_CUSTOM_KEY, HUFFMAN_CUSTOM_VALUE));
        }

        // h2spec generic/5.10 and 5.11: literal never indexed, indexed name
        @Test
        void literalNeverIndexedIndexedName() throws Exception {
            assertBlockServed(requestWith(cat(bytes(0x11), raw("www.example.com"))));
        }

        @Test
        void literalNeverIndexedIndexedNameHuffman() throws Exception {
            assertBlockServed(requestWith(cat(bytes(0x11), HUFFMAN_WWW_EXAMPLE_COM)));
        }

        // h2spec generic/5.12 and 5.13: literal never indexed, new name
        @Test
        void literalNeverIndexedNewName() throws Exception {
            assertBlockServed(cat(REQUEST, bytes(0x10), raw("custom-key"), raw("custom-value")));
        }

        @Test
        void literalNeverIndexedNewNameHuffman() throws Exception {
            assertBlockServed(cat(REQUEST, bytes(0x10), HUFFMAN_CUSTOM_KEY, HUFFMAN_CUSTOM_VALUE));
        }

        // h2spec generic/5.14: a dynamic table size update at the start of a block
        @Test
        void tableSizeUpdateAtTheStart() throws Exception {
            assertBlockServed(cat(bytes(0x20), REQUEST));
        }

        // h2spec generic/5.15: two size updates at the start of a block (RFC 7541 §4.2 allows it)
        @Test
        void twoTableSizeUpdatesAtTheStart() throws Exception {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            RawH2.integer(b, 0, 5, 0x20);
            RawH2.integer(b, 4096, 5, 0x20);
            assertBlockServed(cat(b.toByteArray(), REQUEST));
        }

        // h2spec hpack/6.3.1: a size update after a field (here at the end of a block) is COMPRESSION_ERROR
        @Test
        void tableSizeUpdateAtTheEndIsACompressionError() throws Exception {
            assertCompressionError(cat(REQUEST, bytes(0x20)));
        }
    }
}
