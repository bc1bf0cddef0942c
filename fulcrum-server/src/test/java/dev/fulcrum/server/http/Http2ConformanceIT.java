package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.metrics.Http2Refusal;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RFC 9113 request rules on a plain-text listener with http2 on, from a raw-frame client
 * ({@link RawH2}): what Netty's decoder refuses and what {@link Http2Requests} refuses, each
 * answered with RST_STREAM PROTOCOL_ERROR (counted as {@code invalid-request}), and what a valid
 * request gets. Grouped by section.
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
        @Test
        void missingPathIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":authority", "a");
        }

        @Test
        void missingMethodIsRefused() throws Exception {
            assertRefused(true, ":scheme", "http", ":path", "/x", ":authority", "a");
        }

        @Test
        void unknownPseudoHeaderIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a", ":foo", "1");
        }

        @Test
        void responsePseudoHeaderInRequestIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", ":path", "/x", ":status", "200");
        }

        @Test
        void pseudoHeaderAfterRegularFieldIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":scheme", "http", "x-a", "1", ":path", "/x");
        }

        @Test
        void duplicatePseudoHeaderIsRefused() throws Exception {
            assertRefused(true, ":method", "GET", ":method", "GET", ":scheme", "http", ":path", "/x");
        }

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
    class ContentLength_8_1_1 {
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
        java.util.List<String> events;
        try (RawH2 c = new RawH2(proxy.port)) {
            c.write(frame);
            events = c.untilEof();
        }
        assertThat(events).anyMatch(e -> e.startsWith("GOAWAY ") && e.contains(" " + error));
        assertThat(proxy.listener.stats().http2Refusals(Http2Refusal.PROTOCOL_ERROR)).isEqualTo(1);
    }

    @Nested
    class StreamsAndFrames_5_and_6 {
        @Test
        void evenStreamIdFromTheClientIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 2,
                    RawH2.block(":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a")), "PROTOCOL_ERROR");
        }

        @Test
        void dataOnAnIdleStreamIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.DATA, 0, 7, new byte[]{1, 2, 3}), "PROTOCOL_ERROR");
        }

        @Test
        void frameLargerThanMaxFrameSizeIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS, 1, new byte[16_385]),
                    "FRAME_SIZE_ERROR");
        }

        @Test
        void enablePushFromAServerSideValueIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.SETTINGS, 0, 0, RawH2.setting(0x2, 2)), "PROTOCOL_ERROR");
        }

        @Test
        void windowUpdateOverflowIsAConnectionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.WINDOW_UPDATE, 0, 0, new byte[]{0x7f, -1, -1, -1}),
                    "FLOW_CONTROL_ERROR");
        }
    }

    @Nested
    class Hpack_Rfc7541 {
        @Test
        void indexBeyondTheTablesIsACompressionError() throws Exception {
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1,
                    new byte[]{(byte) (0x80 | 0x7f), 0x40}), "COMPRESSION_ERROR");
        }

        @Test
        void tableSizeUpdateAboveTheSettingIsACompressionError() throws Exception {
            java.io.ByteArrayOutputStream block = new java.io.ByteArrayOutputStream();
            RawH2.integer(block, 1_000_000, 5, 0x20); // dynamic table size update to 1 MB, above 4096
            assertConnectionError(RawH2.frameBytes(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1,
                    block.toByteArray()), "COMPRESSION_ERROR");
        }
    }
}
