package dev.fulcrum.server.http;

import dev.fulcrum.server.metrics.Http2Refusal;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The GOAWAY debug texts of Netty 4.2.18's guards, each mapped to its {@code reason} label. */
class Http2RefusalsTest {

    @Test
    void nettyGuardMessagesMapToTheirReasons() {
        assertThat(Http2Refusals.reason("Maximum number of RST frames reached")).isEqualTo(Http2Refusal.RAPID_RESET);
        assertThat(Http2Refusals.reason("Maximum number 200 of RST frames frames reached within 30 seconds"))
                .isEqualTo(Http2Refusal.SERVER_RESETS);
        assertThat(Http2Refusals.reason("Number of small consecutive continuations frames 17 exceeds maximum: 16"))
                .isEqualTo(Http2Refusal.CONTINUATION_FLOOD);
        assertThat(Http2Refusals.reason("Header size exceeded max allowed size (65536)"))
                .isEqualTo(Http2Refusal.HEADER_LIST_SIZE);
        assertThat(Http2Refusals.reason("Maximum number 10000 of outstanding control frames reached"))
                .isEqualTo(Http2Refusal.CONTROL_FRAME_FLOOD);
        assertThat(Http2Refusals.reason("Maximum number 10 of empty data frames without end_of_stream flag received"))
                .isEqualTo(Http2Refusal.EMPTY_FRAME_FLOOD);
        assertThat(Http2Refusals.reason("Maximum active streams violated for this endpoint: 100"))
                .isEqualTo(Http2Refusal.STREAM_LIMIT);
        assertThat(Http2Refusals.reason("Frame length: 20000 exceeds maximum: 16384"))
                .isEqualTo(Http2Refusal.PROTOCOL_ERROR);
    }
}
