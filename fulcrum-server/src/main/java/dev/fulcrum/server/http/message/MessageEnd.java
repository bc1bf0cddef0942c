package dev.fulcrum.server.http.message;

/**
 * The end of a message's body, as a decoder emits it: after a head and its body parts (plain
 * {@code ByteBuf}s of body bytes, framing removed) comes exactly one end, carrying the trailer
 * section of a chunked body when it had fields. A head without a body (a GET, a 204, a 1xx, the
 * answer to HEAD) is followed by its end at once.
 *
 * <p>Immutable when {@link #trailers()} is not edited; {@link #NO_TRAILERS} is shared.
 */
public final class MessageEnd {

    /** An end without trailer fields. */
    public static final MessageEnd NO_TRAILERS = new MessageEnd(null);

    private final MessageHead trailers;

    private MessageEnd(MessageHead trailers) {
        this.trailers = trailers;
    }

    /** The end of a chunked body with these trailer fields (an empty section gives {@link #NO_TRAILERS}). */
    public static MessageEnd withTrailers(MessageHead trailers) {
        return trailers == null || trailers.size() == 0 ? NO_TRAILERS : new MessageEnd(trailers);
    }

    /** The trailer section, or null when there was none. */
    public MessageHead trailers() {
        return trailers;
    }

    @Override
    public String toString() {
        return trailers == null ? "MessageEnd" : "MessageEnd(" + trailers.size() + " trailers)";
    }
}
