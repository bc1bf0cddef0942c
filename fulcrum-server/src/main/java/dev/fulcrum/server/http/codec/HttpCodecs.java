package dev.fulcrum.server.http.codec;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;

/**
 * Factory of the HTTP/1.1 codec handlers the proxy puts on a client connection.
 *
 * <p>{@link #requestDecoder(int)} turns the client's bytes into Netty {@code HttpRequest},
 * {@code HttpContent} and {@code LastHttpContent} objects, like Netty's {@code HttpRequestDecoder},
 * but strictly (RFC 9112; no request smuggling): any framing violation or ambiguity becomes one
 * message whose {@code decoderResult()} failed with a {@link BadRequestException} (400, or 431 for
 * a head over {@code maxHeaderBytes}), and nothing more is emitted from that connection. The
 * failure is usually on an {@code HttpRequest} (a bad head); a body framing error (bad chunk) fails
 * an {@code HttpContent} after a good {@code HttpRequest}: a proxy that already forwarded the head
 * must then abort the backend exchange too.
 *
 * <p>{@link #messageRequestDecoder(int)} and {@link #messageResponseDecoder()} are the same
 * strictness on heads as bytes (STYLE.md principle 15): per message a
 * {@link dev.fulcrum.server.http.message.MessageHead}, body parts as retained {@code ByteBuf}
 * slices, a {@link dev.fulcrum.server.http.message.MessageEnd}; or, once and last, a
 * {@link dev.fulcrum.server.http.message.MessageFailure} (a request's 400/405/431 with the same
 * reasons as {@link #requestDecoder(int)}; a response's 502). They replace the Netty-based
 * decoders when the proxy moves onto {@code MessageHead}.
 *
 * <p>Each call returns a new handler: one per connection, confined to its event loop.
 */
public final class HttpCodecs {

    private HttpCodecs() {
    }

    /**
     * A strict request decoder for one client connection.
     *
     * @param maxHeaderBytes the largest request head (request line + header lines + the blank
     *                       line) accepted; larger gets 431. Also bounds the trailers of a chunked body.
     */
    public static ChannelHandler requestDecoder(int maxHeaderBytes) {
        return new StrictRequestDecoder(maxHeaderBytes);
    }

    /**
     * The request decoder on heads as bytes ({@link RequestDecoder}): per request a
     * {@code MessageHead}, body parts, a {@code MessageEnd}, or once a {@code MessageFailure}.
     *
     * @param maxHeaderBytes the largest request head, blank line included (larger gets 431); also
     *                       bounds the trailers of a chunked body
     */
    public static RequestDecoder messageRequestDecoder(int maxHeaderBytes) {
        return new RequestDecoder(maxHeaderBytes);
    }

    /** The response decoder of one pooled server connection ({@link ResponseDecoder}). */
    public static ResponseDecoder messageResponseDecoder() {
        return new ResponseDecoder();
    }

    /** Adds {@link #requestDecoder(int)} at the end of {@code pipeline}, named {@code baseName}. */
    public static void addRequestDecoding(ChannelPipeline pipeline, String baseName, int maxHeaderBytes) {
        pipeline.addLast(baseName, requestDecoder(maxHeaderBytes));
    }
}
