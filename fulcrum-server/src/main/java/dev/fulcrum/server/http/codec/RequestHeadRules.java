package dev.fulcrum.server.http.codec;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import java.util.List;

/**
 * Rules Netty's decoder does not enforce, checked on each parsed head before it is passed on:
 * <ul>
 *   <li>the method: {@code CONNECT} is refused with 405 — Fulcrum's listeners are not tunnels, and
 *       a server that accepted it would leave its pooled connection passing raw bytes;</li>
 *   <li>the request-target form (RFC 9112 3.2): origin-form ({@code /path}), absolute-form
 *       ({@code http://authority/path}, normalised here to origin-form with {@code Host} set to its
 *       authority, since the target's authority wins over Host, 3.2.2), or {@code *} for OPTIONS;</li>
 *   <li>exactly one {@code Host} in HTTP/1.1 (at most one in 1.0), with a valid value
 *       ({@link HostSyntax});</li>
 *   <li>{@code Transfer-Encoding} may only be {@code chunked}, once (case-insensitive, as RFC 9112
 *       §7 says codings are). Fulcrum does not decode other codings, and a chain such as
 *       {@code gzip, chunked} is refused rather than passed on: a backend that disagrees about it
 *       would frame the body differently.</li>
 * </ul>
 * Stateless.
 */
final class RequestHeadRules {

    private RequestHeadRules() {
    }

    /**
     * Checks {@code request}, normalising an absolute-form target in place.
     *
     * @throws BadRequestException naming the first rule the head breaks
     */
    static void check(HttpRequest request) {
        if (HttpMethod.CONNECT.equals(request.method())) {
            throw new BadRequestException(405, "CONNECT is not supported: this listener is not a tunnel");
        }
        HttpHeaders headers = request.headers();
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            throw BadRequestException.badRequest("more than one Host header");
        }
        if (hosts.isEmpty() && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            throw BadRequestException.badRequest("missing Host header");
        }
        checkTarget(request);
        String host = headers.get(HttpHeaderNames.HOST);
        if (host != null && !HostSyntax.isValid(host)) {
            throw BadRequestException.badRequest("invalid Host header (not host[:port])");
        }
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            checkTransferEncoding(codings);
        }
    }

    private static void checkTarget(HttpRequest request) {
        String target = request.uri();
        if (target.startsWith("/")) {
            return;
        }
        if (target.equals("*")) {
            if (!HttpMethod.OPTIONS.equals(request.method())) {
                throw BadRequestException.badRequest("request-target * is only for OPTIONS");
            }
            return;
        }
        int schemeEnd = target.indexOf("://");
        String scheme = schemeEnd < 0 ? "" : target.substring(0, schemeEnd);
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            throw BadRequestException.badRequest("request-target is neither /path nor http(s)://host/path");
        }
        int authorityStart = schemeEnd + 3;
        int authorityEnd = authorityStart;
        while (authorityEnd < target.length() && "/?#".indexOf(target.charAt(authorityEnd)) < 0) {
            authorityEnd++;
        }
        String authority = target.substring(authorityStart, authorityEnd);
        if (authority.indexOf('@') >= 0) {
            throw BadRequestException.badRequest("request-target with user information");
        }
        if (!HostSyntax.isValid(authority)) {
            throw BadRequestException.badRequest("invalid host in the request-target");
        }
        String rest = target.substring(authorityEnd);
        request.setUri(rest.startsWith("/") ? rest : "/" + rest);
        request.headers().set(HttpHeaderNames.HOST, authority);
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
