package dev.fulcrum.core.route;

import java.util.List;
import java.util.Locale;

/**
 * A route's {@code match}: every condition given must hold; one left out holds for every request.
 * {@code host} (lower case) is a name ({@code api.example.com}) or a wildcard
 * ({@code *.example.com}: any name ending in {@code .example.com}, however many labels before it,
 * not {@code example.com} itself), compared with the request's host without case and without its
 * port; null for any host. {@code path} is null for any path. {@code methods} are compared
 * case-sensitively (method names are, RFC 9110 9.1); empty for any method. Immutable.
 */
public record RouteMatch(String host, PathMatch path, List<String> methods, List<HeaderMatch> headers) {

    /** {@code match: {}}: every request. */
    public static final RouteMatch EVERYTHING = new RouteMatch(null, null, List.of(), List.of());

    public RouteMatch {
        host = host == null ? null : host.toLowerCase(Locale.ROOT);
        if (host != null && host.startsWith("*") && !host.startsWith("*.")) {
            throw new IllegalArgumentException("a wildcard host is *.SUFFIX, got " + host);
        }
        methods = List.copyOf(methods);
        headers = List.copyOf(headers);
    }

    /** True for {@code *.example.com}. */
    public boolean isWildcardHost() {
        return host != null && host.startsWith("*.");
    }
}
