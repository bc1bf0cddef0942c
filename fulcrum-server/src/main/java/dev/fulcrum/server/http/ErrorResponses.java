package dev.fulcrum.server.http;

import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/**
 * The responses Fulcrum makes itself: a status, {@code Server: fulcrum}, the request's
 * {@code X-Request-Id} (so a client can quote it, and find the line in the access log), a
 * plain-text one-line body that says why ({@code 502 bad gateway: server 127.0.0.1:9102 closed the
 * connection}) and {@code Connection: close} (the connection is closed after them). Stateless.
 */
final class ErrorResponses {

    private ErrorResponses() {
    }

    /** 405 must say what is allowed (RFC 9110 15.5.6): every method but CONNECT is proxied. */
    private static final String ALLOWED = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";

    /**
     * {@link #create} as bytes, for the data path without Netty's encoders: the same response,
     * byte for byte as {@code HttpResponseEncoder} writes {@code create}'s (lower-case field
     * names included), in one buffer from {@code alloc} that the caller writes and so releases.
     */
    static ByteBuf encode(ByteBufAllocator alloc, HttpResponseStatus status, String reason, boolean head,
                          CharSequence requestId) {
        return encode(alloc, status, reason, head, requestId,
                status.equals(HttpResponseStatus.SERVICE_UNAVAILABLE) ? 1 : 0);
    }

    /** 429 for a request over its route's rate limit, with when to try again. */
    static ByteBuf tooManyRequests(ByteBufAllocator alloc, long retryAfterSeconds, boolean head,
                                   CharSequence requestId) {
        return encode(alloc, HttpResponseStatus.TOO_MANY_REQUESTS, "over the route's rate limit", head, requestId,
                retryAfterSeconds);
    }

    /**
     * A route's {@code redirect}: {@code status} (301, 302, 303, 307 or 308) with {@code Location}
     * as configured and an empty body; the connection closes after it like after Fulcrum's other
     * answers.
     */
    static ByteBuf redirect(ByteBufAllocator alloc, int status, String location, CharSequence requestId) {
        HttpResponseStatus s = HttpResponseStatus.valueOf(status);
        MessageHead h = MessageHead.newResponse(status, s.reasonPhrase());
        h.add(HttpHeaderNames.SERVER, "fulcrum");
        h.add(HttpHeaderNames.LOCATION, location);
        return encodeEmpty(alloc, h, requestId);
    }

    /**
     * {@code h} (its own fields added) ended as every answer of Fulcrum's own without a body is:
     * {@code content-length: 0}, {@code connection: close}, the request id; encoded into a buffer
     * from {@code alloc} that the caller writes and so releases.
     */
    static ByteBuf encodeEmpty(ByteBufAllocator alloc, MessageHead h, CharSequence requestId) {
        h.add(HttpHeaderNames.CONTENT_LENGTH, "0");
        h.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        h.add(RequestId.NAME, requestId);
        ByteBuf out = alloc.buffer(h.encodedLengthBound());
        h.writeResponse(out, 1);
        return out;
    }

    /** @param retryAfterSeconds the {@code Retry-After} to send, 0 for none */
    private static ByteBuf encode(ByteBufAllocator alloc, HttpResponseStatus status, String reason, boolean head,
                                  CharSequence requestId, long retryAfterSeconds) {
        byte[] body = body(status, reason);
        MessageHead h = MessageHead.newResponse(status.code(), status.reasonPhrase());
        h.add(HttpHeaderNames.SERVER, "fulcrum");
        h.add(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        h.add(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
        h.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        h.add(RequestId.NAME, requestId);
        if (retryAfterSeconds > 0) {
            h.add(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds));
        } else if (status.equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
            h.add(HttpHeaderNames.ALLOW, ALLOWED);
        }
        ByteBuf out = alloc.buffer(h.encodedLengthBound() + (head ? 0 : body.length));
        h.writeResponse(out, 1);
        if (!head) {
            out.writeBytes(body);
        }
        return out;
    }

    private static byte[] body(HttpResponseStatus status, String reason) {
        String text = status.code() + " " + status.reasonPhrase().toLowerCase() + ": " + reason + "\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A decoder's complaint may quote the client's bytes: one line, control characters escaped. */
    static String oneLine(String text) {
        String line = text.replaceAll("[\\r\\n]+", " ").strip();
        return Escape.text(line.length() > 200 ? line.substring(0, 200) : line);
    }

}
