package dev.fulcrum.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/**
 * The admin API's error answer, {@code {"error":"one sentence"}} (admin-api.md), for the handlers
 * that refuse a request before it is routed (connection limit, head checks, timeouts) and for the
 * router itself. A message that quotes what the client sent must have escaped it already
 * ({@link dev.fulcrum.core.text.Escape}). Stateless and thread-safe.
 */
final class ErrorResponse {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorResponse() {
    }

    /** The JSON body. */
    static byte[] body(String message) {
        try {
            return JSON.writeValueAsBytes(new Views.Error(message));
        } catch (JsonProcessingException e) {
            return "{\"error\":\"error\"}".getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A whole response; with {@code close}, it says {@code Connection: close}. */
    static FullHttpResponse of(HttpResponseStatus status, String message, boolean close) {
        byte[] body = body(message);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (status.equals(HttpResponseStatus.UNAUTHORIZED)) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }
}
