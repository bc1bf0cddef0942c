package dev.fulcrum.server.http.codec;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import java.util.List;

/**
 * Header rules Netty's decoder does not enforce, checked on each parsed head before it is passed
 * on: exactly one {@code Host} in HTTP/1.1 (at most one in 1.0), and {@code Transfer-Encoding} may
 * only be {@code chunked}, once (case-insensitive, as RFC 9112 §7 says codings are). Fulcrum does not
 * decode other codings, and a chain such as {@code gzip, chunked} is refused rather than passed on:
 * a backend that disagrees about it would frame the body differently. Stateless.
 */
final class RequestHeadRules {

    private RequestHeadRules() {
    }

    /** @throws BadRequestException naming the first rule the head breaks */
    static void check(HttpRequest request) {
        HttpHeaders headers = request.headers();
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            throw BadRequestException.badRequest("more than one Host header");
        }
        if (hosts.isEmpty() && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            throw BadRequestException.badRequest("missing Host header");
        }
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            checkTransferEncoding(codings);
        }
    }

    private static void checkTransferEncoding(List<String> values) {
        int chunked = 0;
        for (String value : values) {
            int start = 0;
            while (start <= value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String coding = value.substring(start, end).strip();
                if (!coding.equalsIgnoreCase("chunked")) {
                    throw BadRequestException.badRequest("Transfer-Encoding other than chunked");
                }
                chunked++;
                start = end + 1;
            }
        }
        if (chunked > 1) {
            throw BadRequestException.badRequest("chunked applied more than once");
        }
    }
}
