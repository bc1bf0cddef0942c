package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;

import java.util.List;

/**
 * Decodes a pooled server connection's responses and knows whether the connection may be used
 * again once a response ended. A connection goes back to the pool only when its bytes were framed
 * exactly: a response that declared no body (204, 304, an answer to HEAD) but carried one, or
 * carried more bytes than its framing said, leaves bytes that the next request on the connection —
 * any client's — would take for the start of its response. So:
 * <ul>
 *   <li>{@link #reusable()} after the last part of a response: false when any byte is left in the
 *       decoder;</li>
 *   <li>while the connection idles in the pool ({@link #idle()}), any byte from the server closes
 *       it, even a partial line that would not yet make a message;</li>
 *   <li>the decoder knows the request method itself ({@link #expect(boolean)}): a HEAD response's
 *       declared length is not read as a body. Unlike Netty's {@code HttpClientCodec} it has no
 *       CONNECT mode: Fulcrum never sends CONNECT, so a 200 can never turn it into a pass-through.</li>
 * </ul>
 * A response framed by both Content-Length and Transfer-Encoding fails to decode (Netty's
 * response decoder refuses it): the client gets 502 and the connection closes.
 *
 * <p>One per server connection, confined to its event loop.
 */
final class ServerResponseDecoder extends HttpResponseDecoder {

    private boolean expecting;
    private boolean headRequest;

    ServerResponseDecoder(int maxHeadBytes) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxHeadBytes)
                .setMaxHeaderSize(maxHeadBytes)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false));
    }

    /** A request was sent: its response is expected; {@code head} when it was a HEAD request. */
    void expect(boolean head) {
        expecting = true;
        headRequest = head;
    }

    /** The connection idles in the pool: the server has nothing to say until the next request. */
    void idle() {
        expecting = false;
    }

    /** After a response's last part: true when no byte is left over. */
    boolean reusable() {
        return actualReadableBytes() == 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (!expecting && in.isReadable()) {
            in.skipBytes(in.readableBytes());
            ctx.close(); // bytes nobody asked for: the connection's framing can no longer be trusted
            return;
        }
        super.decode(ctx, in, out);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        boolean informational = msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        return (headRequest && !informational) || super.isContentAlwaysEmpty(msg);
    }
}
