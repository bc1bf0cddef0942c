package dev.fulcrum.server.metrics;

/**
 * Why an HTTP/2 client connection or stream was refused: the {@code reason} label of
 * {@code fulcrum_http2_refused_total}. Each names an attack or a broken request, so an operator
 * sees which flood a client tried.
 */
public enum Http2Refusal {
    /** More RST_STREAM frames from the client than the window allows (CVE-2023-44487). */
    RAPID_RESET("rapid-reset"),
    /** The client made the listener reset more streams than the window allows ("MadeYouReset"). */
    SERVER_RESETS("server-resets"),
    /** Many small CONTINUATION frames, the header block never ending. */
    CONTINUATION_FLOOD("continuation-flood"),
    /** A header list (decoded, so an HPACK bomb too) larger than {@code max-header-bytes}. */
    HEADER_LIST_SIZE("header-list-size"),
    /** SETTINGS, PING or other control frames answered faster than the client reads the answers. */
    CONTROL_FRAME_FLOOD("control-frame-flood"),
    /** DATA frames without a byte and without END_STREAM, one after another. */
    EMPTY_FRAME_FLOOD("empty-frame-flood"),
    /** A stream beyond {@code max-concurrent-streams}. */
    STREAM_LIMIT("stream-limit"),
    /** A request RFC 9113 forbids (fields, pseudo-headers, content-length against DATA): its stream is reset. */
    INVALID_REQUEST("invalid-request"),
    /** Any other protocol error that closed the connection. */
    PROTOCOL_ERROR("protocol-error");

    private final String label;

    Http2Refusal(String label) {
        this.label = label;
    }

    /** The label value. */
    public String label() {
        return label;
    }
}
