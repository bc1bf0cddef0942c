package dev.fulcrum.server.http.codec;

import dev.fulcrum.server.http.message.MessageHead;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;


import java.util.List;

/**
 * The rules a request head must meet beyond its grammar, checked on its index before it is passed on:
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
     * Checks the rules above and the framing rules ({@link FramingFields}, and no
     * Transfer-Encoding in HTTP/1.0): framing first, then method, Host, target. An absolute-form target is normalised
     * with {@link MessageHead#setTarget} and Host replaced by its authority. For an origin-form
     * request the only allocation is the view of the Host value that {@link HostSyntax} reads.
     *
     * @return the body's framing: its Content-Length, {@link MessageDecoder#CHUNKED} or
     *         {@link MessageDecoder#NO_BODY}
     * @throws BadRequestException naming the first rule the head breaks
     */
    static long check(MessageHead head) {
        String framing = FramingFields.check(head);
        if (framing != null) {
            throw BadRequestException.badRequest(framing);
        }
        if (head.isChunked() && head.minorVersion() == 0) {
            throw BadRequestException.badRequest("Transfer-Encoding in an HTTP/1.0 request");
        }
        if (head.method() == HttpMethod.CONNECT) {
            throw new BadRequestException(405, "CONNECT is not supported: this listener is not a tunnel");
        }
        int host = head.indexOf(HttpHeaderNames.HOST);
        if (host >= 0 && head.indexOf(HttpHeaderNames.HOST, host + 1) >= 0) {
            throw BadRequestException.badRequest("more than one Host header");
        }
        head.recordHost(host); // the one read of Host: routing and the rewrite ask the head, not the fields
        if (host < 0 && head.minorVersion() == 1) {
            throw BadRequestException.badRequest("missing Host header");
        }
        if (head.targetLength() == 0 || head.targetByte(0) != '/') {
            String[] normalised = normaliseTarget(head.target(), head.method() == HttpMethod.OPTIONS);
            if (normalised != null) {
                head.setTarget(normalised[0]);
                head.set(HttpHeaderNames.HOST, "Host", normalised[1]);
                return framing(head); // the authority was checked
            }
        }
        if (host >= 0 && !HostSyntax.isValid(head.value(host))) {
            throw BadRequestException.badRequest("invalid Host header (not host[:port])");
        }
        return framing(head);
    }

    private static long framing(MessageHead head) {
        return head.isChunked() ? MessageDecoder.CHUNKED
                : head.contentLength() >= 0 ? head.contentLength() : MessageDecoder.NO_BODY;
    }

    /**
     * Checks the form of {@code target}: null for origin-form and {@code *} (with OPTIONS), or for
     * absolute-form the origin-form target and the authority that replaces Host.
     */
    private static String[] normaliseTarget(String target, boolean options) {
        if (target.startsWith("/")) {
            return null;
        }
        if (target.equals("*")) {
            if (!options) {
                throw BadRequestException.badRequest("request-target * is only for OPTIONS");
            }
            return null;
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
        return new String[] {rest.startsWith("/") ? rest : "/" + rest, authority};
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
