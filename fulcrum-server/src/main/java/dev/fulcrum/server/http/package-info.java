/**
 * The HTTP reverse proxy: {@link dev.fulcrum.server.http.HttpListener} and its data path, HTTP/1.1
 * and HTTP/2 from clients.
 *
 * <p>Shape (after Netty's proxy example): {@code HttpProxyInitializer} builds each client
 * connection's pipeline; one {@code FrontendHandler} per client connection takes requests one at a
 * time and hands each to a {@code ProxyExchange}, which chooses a server ({@code ServerChoice}),
 * borrows or opens a server connection ({@code BackendConnectionPool}, whose connections end in a
 * {@code BackendHandler}) and relays both ways. A {@code 101 Switching Protocols} turns both
 * connections into a {@link dev.fulcrum.server.net.ByteRelay} tunnel.
 *
 * <p>HTTP/2 to servers (pool {@code protocol: h2c}, or {@code h2} over TLS): {@code ServerH2ConnectionPool} hands the
 * exchange a stream of a multiplexed connection ({@code ServerH2Connection}) instead of a
 * connection, with the same tail ({@code ResponseDecoder -> BackendHandler}), so the exchange does
 * not know the difference: {@code ServerH2RequestWriter} writes the request as frames and
 * {@code ServerH2ResponseBridge} turns the response's frames into the HTTP/1.1 bytes the decoder
 * reads (trailers as a chunked trailer section).
 *
 * <p>Messages: both sides decode into heads as bytes ({@code codec.RequestDecoder},
 * {@code codec.ResponseDecoder}: a {@link dev.fulcrum.server.http.message.MessageHead}, body parts
 * as slices, an end); {@code ForwardedHeaders} edits heads in place by splicing, and
 * {@code MessageWriter} writes them and re-frames bodies for the next hop. A client connection's
 * pipeline is {@code bytes -> [tls] -> decoder -> frontend}; its timeouts (request head, request
 * body, response, idle) are parts of one {@code ConnectionClock} with one lazy task.
 *
 * <p>HTTP/2 from clients (ALPN {@code h2}: {@code AlpnProtocolSwitch}; prior knowledge: {@code PriorKnowledgeDetector}):
 * the connection is Netty's frame codec and stream multiplexer with the attack limits set
 * ({@code HttpProxyInitializer#addHttp2}), counted by {@code Http2Refusals} and closed with GOAWAY
 * by {@code Http2ConnectionGuard}; each stream is a child channel
 * {@code Http2StreamBridge -> decoder -> frontend}, the bridge turning the stream's frames into the
 * HTTP/1.1 bytes of one request ({@code Http2Requests}) and the frontend's response bytes into
 * frames ({@code Http2ResponseFrames}). So an HTTP/2 request is an HTTP/1.1 exchange in every rule
 * below, and HTTP/2 flow control is the backpressure: a stream is read only when its frontend asks.
 *
 * <p>Threads: a client connection, its exchanges and every server connection they use live on one
 * event loop (server connections are opened on the client's loop and pooled per loop), so nothing
 * here takes a lock; only the counters ({@code ProxyStats}, {@code Server}) are shared.
 *
 * <p>Memory: {@code AUTO_READ} is off on both sides; a side is read again only once what was read
 * from it has been flushed to the other side, so a body of any size streams through with a flat
 * footprint and a slow reader slows the writer.
 *
 * <p>Errors Fulcrum answers itself ({@code ErrorResponses}): 400/413/431 for a request the decoder
 * rejects (never forwarded), 408 for a head that did not arrive within
 * {@code request-header-timeout}, 502 when the server failed, 503 when no server is up, 504 when it
 * did not answer within {@code response-timeout} (and the request could not be retried elsewhere);
 * then the connection closes (lingering, so the client reads the answer).
 */
package dev.fulcrum.server.http;
