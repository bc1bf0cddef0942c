package dev.fulcrum.server.http.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.ContentLengthNotAllowedException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.InvalidChunkExtensionException;
import io.netty.handler.codec.http.InvalidChunkTerminationException;
import io.netty.handler.codec.http.InvalidLineSeparatorException;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TransferEncodingNotAllowedException;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Netty's {@link HttpRequestDecoder} in its strictest configuration (CRLF-only lines, validated
 * header names and values, no duplicate {@code Content-Length}, RFC 9112 {@code Transfer-Encoding}
 * rules, checked chunk sizes, extensions and chunk terminators), with three additions that close
 * the gaps it leaves:
 * <ol>
 *   <li>{@link RequestHeadScanner} checks every head's raw bytes before Netty parses them (exact
 *       request line, no obsolete folding, no bare CR/LF, no whitespace before a colon) and bounds
 *       the head at {@code maxHeaderBytes} (431);</li>
 *   <li>{@link RequestHeadRules} checks each parsed head ({@code Host}, only {@code chunked});</li>
 *   <li>{@code Content-Length} together with {@code Transfer-Encoding} is an error, where Netty
 *       by default drops the {@code Content-Length} and goes on.</li>
 * </ol>
 * Every failure, Netty's or ours, reaches the next handler as a message whose decoder result failed
 * with a {@link BadRequestException}; after it the decoder discards all further input, so a request
 * hidden behind an ambiguous one is never emitted. Building on Netty rather than replacing it keeps
 * its well-tested body framing (chunk state machine, trailers, streaming without copies); the
 * scanner adds one byte-table pass over the head only.
 *
 * <p>Not thread-safe: one per connection, used on its event loop.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

    private final int maxHeaderBytes;
    private final RequestHeadScanner scanner;
    /** True between messages: the next bytes are a head the scanner has to pass first. */
    private boolean awaitingHead = true;
    /** True once a failure was emitted: everything that follows is discarded. */
    private boolean failed;

    StrictRequestDecoder(int maxHeaderBytes) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxHeaderBytes)
                .setMaxHeaderSize(maxHeaderBytes)
                .setValidateHeaders(true)
                .setStrictLineParsing(true)
                .setAllowDuplicateContentLengths(false)
                .setUseRfc9112TransferEncoding(true)
                .setChunkedSupported(true));
        if (maxHeaderBytes < 64) {
            throw new IllegalArgumentException("maxHeaderBytes " + maxHeaderBytes + " is below 64");
        }
        this.maxHeaderBytes = maxHeaderBytes;
        this.scanner = new RequestHeadScanner(maxHeaderBytes);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (awaitingHead) {
            try {
                if (!scanner.scan(in)) {
                    return; // wait for the rest of the head; Netty sees none of it before
                }
            } catch (BadRequestException e) {
                fail(in, out, e);
                return;
            }
            awaitingHead = false;
        }
        int from = out.size();
        super.decode(ctx, in, out);
        inspect(in, out, from);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int from = out.size();
        super.decodeLast(ctx, in, out);
        inspect(in, out, from);
    }

    /** Netty drops Content-Length here by default; both headers together are refused instead. */
    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        throw BadRequestException.badRequest("both Content-Length and Transfer-Encoding");
    }

    /** Checks what Netty emitted from {@code from} on: maps its failures, applies the head rules. */
    private void inspect(ByteBuf in, List<Object> out, int from) {
        for (int i = from; i < out.size() && !failed; i++) {
            HttpObject object = (HttpObject) out.get(i);
            if (object.decoderResult().isFailure()) {
                object.setDecoderResult(DecoderResult.failure(translate(object, object.decoderResult().cause())));
                markFailed(in, out, i);
            } else if (object instanceof HttpRequest request) {
                try {
                    RequestHeadRules.check(request);
                } catch (BadRequestException e) {
                    request.setDecoderResult(DecoderResult.failure(e));
                    markFailed(in, out, i);
                }
            }
            if (!failed && object instanceof LastHttpContent) {
                awaitingHead = true;
                scanner.reset();
            }
        }
    }

    /** Keeps {@code out[index]} as the last message: releases what follows, drops the input. */
    private void markFailed(ByteBuf in, List<Object> out, int index) {
        failed = true;
        while (out.size() > index + 1) {
            ReferenceCountUtil.release(out.remove(out.size() - 1));
        }
        in.skipBytes(in.readableBytes());
    }

    private void fail(ByteBuf in, List<Object> out, BadRequestException cause) {
        DefaultFullHttpRequest invalid = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET,
                "/bad-request", Unpooled.EMPTY_BUFFER);
        invalid.setDecoderResult(DecoderResult.failure(cause));
        out.add(invalid);
        markFailed(in, out, out.size() - 1);
    }

    /**
     * Netty's failure as a {@link BadRequestException} with a one-line message of ours. Netty's
     * own texts are matched where one exception type covers several cases; the unit tests pin
     * each case, so a Netty upgrade that rewords them shows up there.
     */
    private BadRequestException translate(HttpObject failedObject, Throwable cause) {
        if (cause instanceof BadRequestException bad) {
            return bad;
        }
        boolean inBody = failedObject instanceof HttpContent && !(failedObject instanceof HttpRequest);
        String text = String.valueOf(cause.getMessage());
        return switch (cause) {
            case TooLongFrameException _ -> new BadRequestException(431,
                    (inBody ? "trailers" : "request head") + " larger than " + maxHeaderBytes + " bytes");
            case ContentLengthNotAllowedException _ ->
                    BadRequestException.badRequest("both Content-Length and Transfer-Encoding");
            case TransferEncodingNotAllowedException _ ->
                    BadRequestException.badRequest("Transfer-Encoding in an HTTP/1.0 request");
            case InvalidChunkTerminationException _ ->
                    BadRequestException.badRequest("chunk data not followed by CRLF");
            case InvalidChunkExtensionException _ -> BadRequestException.badRequest(
                    text.startsWith("Line Feed") ? "chunk line ended by LF without CR" : "invalid chunk extension");
            case InvalidLineSeparatorException _ -> BadRequestException.badRequest(
                    (inBody ? "trailer" : "head") + " line ended by LF without CR");
            case PrematureChannelClosureException _ ->
                    BadRequestException.badRequest("connection closed before the request ended");
            case NumberFormatException _ when inBody -> BadRequestException.badRequest("invalid chunk size");
            case IllegalArgumentException _ when text.startsWith("Multiple Content-Length") ->
                    BadRequestException.badRequest("more than one Content-Length");
            case IllegalArgumentException _ when text.startsWith("Content-Length value is not a number") ->
                    BadRequestException.badRequest("invalid Content-Length value");
            case IllegalArgumentException _ when text.contains("final transfer coding must be chunked")
                            || text.contains("chunked must be the last encoding") ->
                    BadRequestException.badRequest("Transfer-Encoding other than chunked");
            case IllegalArgumentException _ when text.contains("must not be applied more than once") ->
                    BadRequestException.badRequest("chunked applied more than once");
            // the head's syntax was checked by the scanner; these remain possible in trailers only
            case IllegalArgumentException _ when text.contains("header name") ->
                    BadRequestException.badRequest("invalid character in trailer name");
            case IllegalArgumentException _ when text.startsWith("Validation failed") ->
                    BadRequestException.badRequest("invalid character in trailer value");
            case IllegalArgumentException _ when text.startsWith("No colon") ->
                    BadRequestException.badRequest("trailer line without a colon");
            default -> BadRequestException.badRequest(inBody ? "invalid trailer or chunk" : "malformed request head");
        };
    }
}
