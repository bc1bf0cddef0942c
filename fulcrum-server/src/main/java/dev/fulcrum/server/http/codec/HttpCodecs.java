package dev.fulcrum.server.http.codec;

import java.util.function.LongConsumer;

/**
 * Factory of the HTTP/1.1 decoders of the proxy, on heads as bytes (STYLE.md principle 15): per
 * message a {@link dev.fulcrum.server.http.message.MessageHead}, body parts as retained
 * {@code ByteBuf} slices, a {@link dev.fulcrum.server.http.message.MessageEnd}; or, once and last,
 * a {@link dev.fulcrum.server.http.message.MessageFailure} (a request's 400/405/431 naming the rule
 * broken; a response's 502), after which the connection's bytes are discarded: a request hidden
 * behind an ambiguous one is never emitted (no request smuggling, RFC 9112).
 *
 * <p>Each call returns a new handler: one per connection, confined to its event loop.
 */
public final class HttpCodecs {

    private HttpCodecs() {
    }

    /**
     * The request decoder of one client connection ({@link RequestDecoder}).
     *
     * @param maxHeaderBytes the largest request head, blank line included (larger gets 431); also
     *                       bounds the trailers of a chunked body
     */
    public static RequestDecoder requestDecoder(int maxHeaderBytes) {
        return new RequestDecoder(maxHeaderBytes, bytes -> { });
    }

    /**
     * The request decoder of one client connection that counts the bytes it reads, as they came
     * (a plain-text connection's wire bytes; see {@code net.ByteCounter}).
     *
     * @param bytesRead told the size of every buffer read, before decoding
     */
    public static RequestDecoder requestDecoder(int maxHeaderBytes, LongConsumer bytesRead) {
        return new RequestDecoder(maxHeaderBytes, bytesRead);
    }

    /** The response decoder of one pooled server connection ({@link ResponseDecoder}). */
    public static ResponseDecoder responseDecoder() {
        return new ResponseDecoder();
    }
}
