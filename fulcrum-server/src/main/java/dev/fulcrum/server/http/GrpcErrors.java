package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;

/**
 * Fulcrum's own errors as gRPC sees them: a gRPC client reads {@code grpc-status}, not the HTTP
 * status (to it, a 503 is only "UNAVAILABLE: HTTP status code 503" with no reason). So a request
 * whose {@code content-type} is {@code application/grpc*} gets a trailers-only answer instead of
 * {@link ErrorResponses}'s: HTTP 200, {@code content-type: application/grpc}, {@code grpc-status}
 * and a percent-encoded {@code grpc-message} that says why, no body.
 *
 * <p>The code follows gRPC's "HTTP to gRPC status code mapping" (doc/http-grpc-status-mapping.md)
 * for the statuses it lists — 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404
 * (no route) UNIMPLEMENTED, 502 and 503 UNAVAILABLE, anything else UNKNOWN — except where Fulcrum
 * knows the cause better than the status says: 429 from a route's rate limit is
 * RESOURCE_EXHAUSTED (the client should back off, not fail over), 504 from the pool's
 * response-timeout and 408 from a request too slow are DEADLINE_EXCEEDED, and 413/431 (message or
 * metadata over a limit) are RESOURCE_EXHAUSTED, as grpc-java reports its own size limits. Stateless.
 */
final class GrpcErrors {

    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

    /** gRPC status codes (grpc/doc/statuscodes.md). */
    static final int UNKNOWN = 2;
    static final int DEADLINE_EXCEEDED = 4;
    static final int PERMISSION_DENIED = 7;
    static final int RESOURCE_EXHAUSTED = 8;
    static final int UNIMPLEMENTED = 12;
    static final int INTERNAL = 13;
    static final int UNAVAILABLE = 14;
    static final int UNAUTHENTICATED = 16;

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private GrpcErrors() {
    }

    /** Whether {@code request} is a gRPC call: its content-type is {@code application/grpc} or a subtype ({@code +proto}, {@code -web}). */
    static boolean isGrpc(MessageHead request) {
        int i = request.indexOf(HttpHeaderNames.CONTENT_TYPE);
        if (i < 0) {
            return false;
        }
        return isGrpcMediaType(request.value(i), true);
    }

    /**
     * Whether {@code contentType} is {@code application/grpc}, alone or with a {@code +format} or
     * parameters, and with {@code orWeb} also gRPC-Web's {@code application/grpc-web*} (whose
     * clients read a status from Fulcrum's answers too, but which is not gRPC on the wire to a server).
     */
    static boolean isGrpcMediaType(CharSequence contentType, boolean orWeb) {
        int n = APPLICATION_GRPC.length();
        if (contentType == null || contentType.length() < n
                || !AsciiString.regionMatches(contentType, true, 0, APPLICATION_GRPC, 0, n)) {
            return false;
        }
        if (contentType.length() == n) {
            return true;
        }
        char next = contentType.charAt(n);
        return next == '+' || next == ';' || (orWeb && next == '-');
    }

    /** The gRPC status code for one of Fulcrum's own HTTP statuses; see the class comment for the choices. */
    static int status(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 408, 504 -> DEADLINE_EXCEEDED;
            case 413, 429, 431 -> RESOURCE_EXHAUSTED;
            case 502, 503 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }

    /**
     * The trailers-only answer to a gRPC request Fulcrum failed with {@code httpStatus}: one
     * buffer from {@code alloc} that the caller writes and so releases. Over HTTP/2 it becomes one
     * HEADERS frame with END_STREAM ({@code content-length: 0} ends it; {@code connection} is dropped).
     */
    static ByteBuf encode(ByteBufAllocator alloc, int httpStatus, String reason, CharSequence requestId) {
        MessageHead h = MessageHead.newResponse(200, "OK");
        h.add(HttpHeaderNames.SERVER, "fulcrum");
        h.add(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC);
        h.add(GRPC_STATUS, Integer.toString(status(httpStatus)));
        h.add(GRPC_MESSAGE, percentEncode(httpStatus + " " + reason));
        return ErrorResponses.encodeEmpty(alloc, h, requestId);
    }

    /**
     * {@code grpc-message}'s encoding (gRPC's PROTOCOL-HTTP2.md): the UTF-8 bytes, each outside
     * printable ASCII 0x20-0x7E, and '%' itself, as {@code %XX}.
     */
    static String percentEncode(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(utf8.length + 16);
        for (byte b : utf8) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append((char) HEX[c >> 4]).append((char) HEX[c & 0xf]);
            }
        }
        return out.toString();
    }
}
