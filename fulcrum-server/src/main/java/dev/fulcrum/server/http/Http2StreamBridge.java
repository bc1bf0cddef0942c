package dev.fulcrum.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of an HTTP/2 stream's pipeline, {@code bridge -> RequestDecoder -> FrontendHandler}:
 * it makes the stream look like an HTTP/1.1 connection carrying one request, so that every rule
 * of HTTP/1.1 listeners (routing, limits, retries, timeouts, the access log) holds unchanged.
 *
 * <p>Inbound, the request's HEADERS become an HTTP/1.1 head ({@link Http2Requests}, which checks
 * what RFC 9113 forbids and Netty does not), DATA frames its body (as they are when the client
 * sent a {@code content-length}, else as chunks), trailing HEADERS the chunked trailer section.
 * A request that breaks a rule resets its stream with PROTOCOL_ERROR and never reaches the
 * decoder. Outbound, the HTTP/1.1 response bytes the frontend writes become frames
 * ({@link Http2ResponseFrames}); a close after a complete response ends the stream cleanly, a
 * close in the middle of one resets it with INTERNAL_ERROR (the server broke it off or a timer did:
 * not CANCEL, which a gRPC client would report as a cancel nobody asked for).
 *
 * <p>Backpressure is the frontend's: the stream channel reads (and so gives the client window
 * back) only when the frontend asks, and a write's promise completes only once the frame left
 * under the client's flow-control window, so the server is read no faster than the client reads.
 * The DATA written and not sent yet counts in the connection's {@link Http2ResponseBudget}, which
 * bounds what all its streams hold together. A response broken off in its body is reset only once
 * the bytes written before the break left (or after a linger time), so that none is lost.
 *
 * <p>One per stream, confined to its event loop.
 */
final class Http2StreamBridge extends ChannelDuplexHandler implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Http2StreamBridge.class);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** How the request's body goes to the decoder; null until its HEADERS came. */
    private Http2Requests.Body body;
    /** END_STREAM came from the client, or the request was refused: nothing more goes to the decoder. */
    private boolean requestDone;
    private Http2ResponseFrames response;
    /** The last frame written, for promises of writes that make no frame (they complete after it). */
    private ChannelFuture lastWrite;
    private final List<Http2StreamFrame> frames = new ArrayList<>(4);
    /** Request bytes of the read that opened the stream, held until that read is over ({@link #pass}); null when none. */
    private List<ByteBuf> held;
    private boolean firstBatchPassed;
    private ChannelHandlerContext ctx;
    /** The reset of a broken-off body went out (once, see {@link #resetAfter}). */
    private boolean resetSent;
    /** The error a broken-off body's reset carries ({@link #serverReset}). */
    private Http2Error brokenOff = Http2Error.INTERNAL_ERROR;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (requestDone) {
                return; // frames after END_STREAM are Netty's to refuse; after a refusal nobody reads them
            }
            if (msg instanceof Http2HeadersFrame headers) {
                onHeaders(ctx, headers.headers(), headers.isEndStream());
            } else if (msg instanceof Http2DataFrame data) {
                onData(ctx, data.content(), data.isEndStream());
            }
        } catch (Http2Requests.Refused e) {
            refuse(ctx, e.getMessage());
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2Headers headers, boolean endStream)
            throws Http2Requests.Refused {
        if (body == null) {
            body = Http2Requests.body(headers, endStream);
            ByteBuf head = ctx.alloc().buffer(256 + (int) Math.min(headers.size() * 64L, 64 * 1024));
            try {
                Http2Requests.writeHead(headers, body, head);
            } catch (Http2Requests.Refused e) {
                head.release();
                throw e;
            }
            response = new Http2ResponseFrames(HttpMethod.HEAD.asciiName().contentEquals(headers.method()));
            requestDone = endStream;
            pass(ctx, head);
            return;
        }
        if (!endStream) {
            throw new Http2Requests.Refused("a second HEADERS without END_STREAM"); // RFC 9113 §8.1
        }
        if (body == Http2Requests.Body.CHUNKED) {
            ByteBuf end = ctx.alloc().buffer(128);
            try {
                Http2Requests.writeChunkedEnd(headers, end);
            } catch (Http2Requests.Refused e) {
                end.release();
                throw e;
            }
            requestDone = true;
            pass(ctx, end);
        } else {
            Http2Requests.checkTrailers(headers); // a content-length body has nowhere to put them
            requestDone = true;
        }
    }

    private void onData(ChannelHandlerContext ctx, ByteBuf content, boolean endStream) {
        int n = content.readableBytes();
        if (body == Http2Requests.Body.CHUNKED) {
            if (n > 0) {
                pass(ctx, ctx.alloc().buffer(10).writeBytes(Integer.toHexString(n).getBytes(
                        StandardCharsets.US_ASCII)).writeBytes(CRLF));
                pass(ctx, content.retain());
                pass(ctx, ctx.alloc().buffer(2).writeBytes(CRLF));
            }
            if (endStream) {
                pass(ctx, ctx.alloc().buffer(LAST_CHUNK.length).writeBytes(LAST_CHUNK));
            }
        } else if (n > 0) {
            pass(ctx, content.retain()); // Netty checked the sum against content-length
        }
        requestDone = endStream;
    }

    /**
     * Hands request bytes to the decoder, except those that come before the event loop is done
     * with the read that brought the stream's HEADERS: those are held and passed on by a task
     * ({@link #run}), which runs after the whole read (every frame in it) was handled. A rapid-reset
     * client sends HEADERS and RST_STREAM back to back; held, such a stream is reset before its
     * request reaches the frontend, so it costs no server connection and reaches no server.
     */
    private void pass(ChannelHandlerContext ctx, ByteBuf bytes) {
        if (firstBatchPassed) {
            ctx.fireChannelRead(bytes);
            return;
        }
        if (held == null) {
            held = new ArrayList<>(4);
            this.ctx = ctx;
            ctx.executor().execute(this);
        }
        held.add(bytes);
    }

    /** The read that brought the stream's first frames is over: what was held goes on, in order. */
    @Override
    public void run() {
        List<ByteBuf> batch = held;
        if (batch == null || firstBatchPassed) {
            return; // reset or refused meanwhile (dropHeld)
        }
        firstBatchPassed = true;
        held = null;
        for (ByteBuf b : batch) {
            ctx.fireChannelRead(b);
        }
        ctx.fireChannelReadComplete();
    }

    /** The stream ended (reset, refused, closed) before its first batch was passed on: it never was. */
    private void dropHeld() {
        if (held != null) {
            held.forEach(ByteBuf::release);
            held = null;
            firstBatchPassed = true; // what comes after a reset is Netty's to refuse
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            dropHeld();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dropHeld();
        ctx.fireChannelInactive();
    }

    /** Resets the stream: RFC 9113 calls such a request malformed (§8.1.1), a stream error. */
    private void refuse(ChannelHandlerContext ctx, String why) {
        dropHeld();
        requestDone = true;
        log.debug("HTTP/2 stream {} refused: {}", ctx.channel(), why);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
        ctx.close();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf bytes) || response == null) {
            ctx.write(msg, promise);
            return;
        }
        frames.clear();
        try {
            response.add(bytes, frames);
        } catch (RuntimeException e) {
            frames.forEach(ReferenceCountUtil::release);
            frames.clear();
            promise.tryFailure(e);
            ctx.close(); // a response that cannot be framed is broken off
            return;
        }
        int n = frames.size();
        if (n == 0) {
            completeAfterLastWrite(promise);
            return;
        }
        long data = 0;
        for (int i = 0; i < n; i++) {
            if (frames.get(i) instanceof Http2DataFrame d) {
                data += d.content().readableBytes();
            }
        }
        for (int i = 0; i < n - 1; i++) {
            ctx.write(frames.get(i), ctx.voidPromise());
        }
        lastWrite = ctx.write(frames.get(n - 1), promise.isVoid() ? ctx.newPromise() : promise);
        frames.clear();
        Http2ResponseBudget budget = Http2ResponseBudget.of(ctx.channel());
        if (data > 0 && budget != null) {
            // held until sent (a stream's writes complete in order: the last one's completion covers them all)
            long held = data;
            budget.hold(held);
            lastWrite.addListener(f -> budget.release(held));
        }
    }

    /** A write that made no frame completes once everything written before it did. */
    private void completeAfterLastWrite(ChannelPromise promise) {
        if (promise.isVoid()) {
            return;
        }
        ChannelFuture last = lastWrite;
        if (last == null) {
            promise.trySuccess();
        } else if (last.isDone()) {
            complete(last, promise);
        } else {
            last.addListener((ChannelFutureListener) f -> complete(f, promise));
        }
    }

    private static void complete(ChannelFuture done, ChannelPromise promise) {
        if (done.isSuccess()) {
            promise.trySuccess();
        } else {
            promise.tryFailure(done.cause());
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (response != null && response.endsOnClose() && ctx.channel().isActive()) {
            // a body delimited by closing ends with END_STREAM, not a reset
            lastWrite = ctx.writeAndFlush(response.endOnClose());
        }
        if (response != null && response.inBody() && !response.endsOnClose() && ctx.channel().isActive()) {
            // a body broken off (the server reset or closed, a timer fired): RST_STREAM CANCEL, what
            // Netty would send, means "no longer needed"; INTERNAL_ERROR tells the client the truth,
            // and gRPC clients report it as INTERNAL rather than CANCELLED (unless the server's own
            // reset said CANCEL or ENHANCE_YOUR_CALM: serverReset)
            requestDone = true;
            ChannelFuture pending = lastWrite;
            if (pending != null && !pending.isDone()) {
                resetAfter(ctx, pending, promise);
                return;
            }
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(brokenOff));
        }
        if (response != null && response.complete() && !requestDone && ctx.channel().isActive()) {
            // answered before the request ended (a 413, a 404 to an upload): RFC 9113 §8.1 asks the
            // client to stop sending with NO_ERROR, not the CANCEL Netty would send on close
            requestDone = true;
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
        }
        ctx.close(promise);
    }

    /**
     * The server broke the response off with RST_STREAM {@code error}: the client's stream is reset
     * with it when it means the same end to end, a cancel (a gRPC client reports CANCELLED) or
     * ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED); the other codes are about the hop to the server (its
     * PROTOCOL_ERROR blames Fulcrum, not the client), so the client gets INTERNAL_ERROR.
     */
    void serverReset(Http2Error error) {
        if (error == Http2Error.CANCEL || error == Http2Error.ENHANCE_YOUR_CALM) {
            brokenOff = error;
        }
    }

    /**
     * Resets the stream once the body written before the break has left, so that the client gets
     * every byte the server sent before it broke off (a gRPC message sent right before a server's
     * RST_STREAM), then the reset: Netty's codec holds DATA beyond the client's window in its flow
     * controller, and a reset written meanwhile would close the stream and drop it. A client that
     * does not read gets the reset after {@link FrontendHandler#LINGER_MILLIS} anyway.
     */
    private void resetAfter(ChannelHandlerContext ctx, ChannelFuture pending, ChannelPromise promise) {
        var timeout = ctx.executor().schedule(() -> resetAndClose(ctx, promise),
                FrontendHandler.LINGER_MILLIS, TimeUnit.MILLISECONDS);
        pending.addListener(f -> {
            timeout.cancel(false);
            resetAndClose(ctx, promise);
        });
        ctx.flush();
    }

    private void resetAndClose(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (resetSent) {
            return;
        }
        resetSent = true;
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(brokenOff));
        }
        ctx.close(promise);
    }

    /**
     * A stream error Netty found (a content-length the DATA does not match, a pseudo-header in
     * trailers): the multiplexer resets the stream with its code right after this, so it must not
     * reach the frontend, whose close would reset it with CANCEL first.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception) {
            dropHeld();
            requestDone = true;
            log.debug("HTTP/2 stream {} refused: {}", ctx.channel(), cause.getMessage());
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        dropHeld();
        if (response != null) {
            response.release();
        }
    }
}
