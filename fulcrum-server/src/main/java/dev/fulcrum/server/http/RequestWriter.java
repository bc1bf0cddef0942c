package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageEnd;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;

/**
 * How a {@link ProxyExchange} puts a request on a server connection: its head, its body parts
 * (framing removed, as the client's decoder emits them) and its end. The connection's protocol
 * decides the wire form: {@link MessageWriter} writes HTTP/1.1 bytes, {@link ServerH2RequestWriter}
 * HTTP/2 frames on a stream.
 *
 * <p>Contract of both: the body is framed as the head declares it (a body the head does not
 * declare is dropped, bytes past a Content-Length are cut off); each call takes over the part
 * passed in and completes {@code promise} once everything it wrote is written (at once when it
 * wrote nothing). Writes are not flushed: the caller flushes. Confined to the connection's loop.
 */
interface RequestWriter {

    /** Writes the request head and starts its body. */
    ChannelFuture writeRequest(MessageHead request, ChannelPromise promise);

    /** Writes one body part, taking it over. */
    ChannelFuture writeBody(ByteBuf part, ChannelPromise promise);

    /** Ends the request, with its trailer fields when {@code end} carries some. */
    ChannelFuture writeEnd(MessageEnd end, ChannelPromise promise);
}
