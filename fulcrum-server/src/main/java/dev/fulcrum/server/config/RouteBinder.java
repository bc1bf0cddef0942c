package dev.fulcrum.server.config;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.route.HeaderMatch;
import dev.fulcrum.core.route.PathMatch;
import dev.fulcrum.core.route.RouteMatch;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.RouteConfig.Destination;
import dev.fulcrum.server.config.RouteConfig.HeaderEdits;
import dev.fulcrum.server.config.RouteConfig.PoolWeight;
import dev.fulcrum.server.config.RouteConfig.RateLimit;
import dev.fulcrum.server.config.RouteConfig.Redirect;
import dev.fulcrum.server.config.RouteConfig.Split;
import dev.fulcrum.server.config.RouteConfig.ToPool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Binds a listener's {@code pool} or {@code routes} to its list of {@link RouteConfig}: an http
 * listener has exactly one of the two ({@code pool:} being one route for everything), a tcp
 * listener has a {@code pool} and no routes. Each route has exactly one of {@code pool},
 * {@code pools}, {@code redirect}, at most one of {@code path}, {@code path-prefix},
 * {@code path-regex}, and names unique in its listener. Pool references go to the shared
 * {@link PoolReferences}. Confined to one thread, used for one load.
 */
final class RouteBinder {

    static final List<String> ROUTE_KEYS = List.of("name", "match", "pool", "pools", "redirect", "strip-prefix",
            "request-headers", "response-headers", "rate-limit", "response-timeout", "retries");
    static final List<String> MATCH_KEYS = List.of("host", "path", "path-prefix", "path-regex", "methods", "headers");
    static final List<String> POOL_WEIGHT_KEYS = List.of("pool", "weight");
    static final List<String> REDIRECT_KEYS = List.of("location", "status");
    static final List<String> HEADER_EDIT_KEYS = List.of("set", "remove");
    static final List<String> RATE_LIMIT_KEYS = List.of("requests-per-second", "burst", "key");

    private static final List<String> PATH_KEYS = List.of("path", "path-prefix", "path-regex");
    private static final List<String> DESTINATION_KEYS = List.of("pool", "pools", "redirect");
    /** Keys that act on a forwarded request: meaningless on a redirect, which Fulcrum answers itself. */
    private static final List<String> FORWARDING_KEYS = List.of("strip-prefix", "request-headers",
            "response-timeout", "retries");
    /**
     * Fields the proxy frames messages by or that belong to one hop (RFC 9110 7.6.1): a route that
     * set or removed one could make the server read a body differently from the client.
     */
    private static final Set<String> PROXY_FIELDS = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "te", "trailer", "upgrade", "proxy-connection");

    private final PoolReferences poolRefs;

    RouteBinder(PoolReferences poolRefs) {
        this.poolRefs = poolRefs;
    }

    /**
     * The routes of listener {@code s}: its {@code routes}, or for {@code pool} alone the one
     * route {@code LISTENER#1} for everything; none for a tcp listener.
     *
     * @param name     the listener's name, for default route names
     * @param pool     its {@code pool}, null when absent (or wrong, then already reported)
     */
    List<RouteConfig> routes(Section s, String name, Protocol protocol, String pool) {
        if (protocol == Protocol.TCP) {
            s.notAllowed("routes", "for protocol tcp (only for http; a tcp listener sends to its pool)");
            if (!s.has("pool")) {
                s.error("pool", "required key is missing");
            }
            return List.of();
        }
        if (!s.has("routes")) {
            if (!s.has("pool")) {
                s.error("pool", "required key is missing (or routes)");
            }
            return pool == null ? List.of() : List.of(RouteConfig.everything(name, pool));
        }
        if (s.has("pool")) {
            s.error("routes", "a listener has pool or routes, not both (pool alone is one route for everything)");
        }
        if (s.isEmptyList("routes")) {
            s.error("routes", "at least one route is required (or pool instead of routes)");
        }
        List<RouteConfig> out = new ArrayList<>();
        FirstSeen<String> names = new FirstSeen<>("route name");
        s.eachItem("routes", ROUTE_KEYS, (r, i) -> out.add(route(r, RouteConfig.defaultName(name, i + 1), names)));
        return out;
    }

    private RouteConfig route(Section s, String defaultName, FirstSeen<String> names) {
        String name = s.get("name", defaultName, ConfigValues::name);
        names.add(name, s, "name");
        Section matchSection = s.section("match", MATCH_KEYS);
        RouteMatch match = matchSection == null ? RouteMatch.EVERYTHING : match(matchSection);
        Destination destination = destination(s);
        if (destination instanceof Redirect) {
            FORWARDING_KEYS.forEach(key -> s.notAllowed(key, "with redirect (nothing is forwarded)"));
        }
        boolean stripPrefix = s.get("strip-prefix", false, ConfigValues::bool);
        if (stripPrefix && !(match.path() instanceof PathMatch.Prefix) && !(destination instanceof Redirect)) {
            s.error("strip-prefix", "only with match.path-prefix (there is no prefix to strip)");
        }
        HeaderEdits requestHeaders = headerEdits(s, "request-headers");
        HeaderEdits responseHeaders = headerEdits(s, "response-headers");
        Section rateLimitSection = s.section("rate-limit", RATE_LIMIT_KEYS);
        RateLimit rateLimit = rateLimitSection == null ? null : rateLimit(rateLimitSection);
        Duration responseTimeout = s.get("response-timeout", null, ConfigValues::positiveDuration);
        Integer retries = s.get("retries", null, text -> ConfigValues.integer(text, 0, PoolBinder.MAX_RETRIES));
        return new RouteConfig(name, match, destination, stripPrefix, requestHeaders, responseHeaders, rateLimit,
                responseTimeout, retries);
    }

    private static RouteMatch match(Section s) {
        String host = s.get("host", null, RouteBinder::host);
        PathMatch path = pathMatch(s);
        if (s.isEmptyList("methods")) {
            s.error("methods", "at least one method is required (leave methods out for every method)");
        }
        List<String> methods = s.values("methods", List.of(), RouteBinder::method);
        List<HeaderMatch> headers = new ArrayList<>();
        Section headerSection = s.freeSection("headers");
        if (headerSection != null) {
            fields(headerSection, new FirstSeen<>("header"), ConfigValues::fieldName,
                    text -> text.equals(HeaderMatch.PRESENT) ? text : ConfigValues.fieldValue(text))
                    .forEach((name, value) -> headers.add(new HeaderMatch(name, value)));
        }
        return new RouteMatch(host, path, methods, headers);
    }

    /** {@code api.example.com} or {@code *.example.com}, in lower case. */
    private static String host(String text) {
        if (text.equals("*")) {
            throw new IllegalArgumentException("\"*\" is every host: leave host out (or write *.example.com)");
        }
        boolean wildcard = text.startsWith("*.");
        String name = wildcard ? text.substring(2) : text;
        if (name.indexOf('*') >= 0) {
            throw new IllegalArgumentException("invalid host " + ConfigValues.quote(text)
                    + "; a wildcard is only a first label *, like *.example.com");
        }
        if (name.indexOf(':') >= 0 && name.indexOf(':') == name.lastIndexOf(':')) {
            throw new IllegalArgumentException("host " + ConfigValues.quote(text)
                    + " has a port; hosts are matched without their port");
        }
        String lower = ConfigValues.hostName(name);
        return wildcard ? "*." + lower : lower;
    }

    /** At most one of path, path-prefix, path-regex; null when none. */
    private static PathMatch pathMatch(Section s) {
        List<String> given = PATH_KEYS.stream().filter(s::has).toList();
        if (given.isEmpty()) {
            return null;
        }
        if (given.size() > 1) {
            s.error(given.get(1), "path, path-prefix and path-regex are mutually exclusive; this match also has "
                    + given.getFirst());
        }
        return switch (given.getFirst()) {
            case "path" -> s.get("path", null, text -> new PathMatch.Exact(ConfigValues.urlPath(text)));
            case "path-prefix" -> s.get("path-prefix", null, text -> new PathMatch.Prefix(ConfigValues.urlPath(text)));
            default -> s.get("path-regex", null, RouteBinder::regex);
        };
    }

    /** A regex that does not compile says why in one line (its own message spans three). */
    private static PathMatch regex(String text) {
        try {
            return new PathMatch.Regex(Pattern.compile(text));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regex " + ConfigValues.quote(text) + ": " + e.getDescription()
                    + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
        }
    }

    /** Methods are case-sensitive (RFC 9110 9.1): {@code get} would never match a browser's GET. */
    private static String method(String text) {
        ConfigValues.fieldName(text);
        if (!text.equals(text.toUpperCase(Locale.ROOT))) {
            throw new IllegalArgumentException("method " + ConfigValues.quote(text)
                    + " is not in upper case; methods are case-sensitive, write "
                    + text.toUpperCase(Locale.ROOT));
        }
        return text;
    }

    /**
     * The fields of a map of header names ({@code match.headers}, {@code set}) in file order, each
     * name and value checked; a name repeated (in any case) is reported through {@code seen}.
     */
    private static Map<String, String> fields(Section s, FirstSeen<String> seen, Function<String, String> name,
                                              Function<String, String> value) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : s.keys()) {
            String text = s.get(key, null, value);
            try {
                name.apply(key);
            } catch (IllegalArgumentException e) {
                s.error(key, e.getMessage());
                continue;
            }
            seen.add(key.toLowerCase(Locale.ROOT), s, key);
            if (text != null) {
                out.put(key, text);
            }
        }
        return out;
    }

    private Destination destination(Section s) {
        List<String> given = DESTINATION_KEYS.stream().filter(s::has).toList();
        if (given.isEmpty()) {
            s.error("pool", "a route needs one of pool, pools, redirect");
            return null;
        }
        if (given.size() > 1) {
            s.error(given.get(1), "a route has exactly one of pool, pools, redirect; this one also has "
                    + given.getFirst());
        }
        return switch (given.getFirst()) {
            case "pool" -> {
                String pool = s.get("pool", null, ConfigValues::name);
                poolRefs.add(pool, s, "pool");
                yield pool == null ? null : new ToPool(pool);
            }
            case "pools" -> split(s);
            default -> {
                Section redirect = s.section("redirect", REDIRECT_KEYS);
                yield redirect == null ? null : redirect(redirect);
            }
        };
    }

    /** {@code pools}: at least one, each pool once, weight 1..100 (default 1). */
    private Split split(Section s) {
        if (s.isEmptyList("pools")) {
            s.error("pools", "at least one {pool, weight} is required");
        }
        List<PoolWeight> out = new ArrayList<>();
        FirstSeen<String> pools = new FirstSeen<>("pool in pools");
        s.eachItem("pools", POOL_WEIGHT_KEYS, (item, i) -> {
            String pool = item.require("pool", ConfigValues::name);
            poolRefs.add(pool, item, "pool");
            pools.add(pool, item, "pool");
            int weight = item.integer("weight", 1, 1, RouteConfig.MAX_WEIGHT);
            if (pool != null) {
                out.add(new PoolWeight(pool, weight));
            }
        });
        return new Split(out);
    }

    private static Redirect redirect(Section s) {
        String location = s.require("location", RouteBinder::location);
        int status = s.get("status", RouteConfig.DEFAULT_REDIRECT_STATUS, RouteBinder::redirectStatus);
        return new Redirect(location, status);
    }

    /** Where a redirect sends the client: an http(s) URL, or a path on the same host. */
    private static String location(String text) {
        if (text.startsWith("/")) {
            return ConfigValues.urlPath(text);
        }
        ConfigValues.httpUrl(text);
        return text;
    }

    private static int redirectStatus(String text) {
        int status = ConfigValues.integer(text, 100, 599);
        if (!RouteConfig.REDIRECT_STATUSES.contains(status)) {
            throw new IllegalArgumentException(status + " is not a redirect status; expected one of 301, 302, 303,"
                    + " 307, 308");
        }
        return status;
    }

    /** {@code request-headers} or {@code response-headers}: {@code set} and {@code remove}, each name once. */
    private static HeaderEdits headerEdits(Section route, String key) {
        Section s = route.section(key, HEADER_EDIT_KEYS);
        if (s == null) {
            return HeaderEdits.NONE;
        }
        FirstSeen<String> seen = new FirstSeen<>("header");
        Section setSection = s.freeSection("set");
        Map<String, String> set = setSection == null ? Map.of()
                : fields(setSection, seen, RouteBinder::editableField, ConfigValues::fieldValue);
        if (s.isEmptyList("remove")) {
            s.error("remove", "at least one header name is required (or leave remove out)");
        }
        List<String> remove = s.values("remove", List.of(), RouteBinder::editableField);
        remove.forEach(name -> seen.add(name.toLowerCase(Locale.ROOT), s, "remove"));
        return new HeaderEdits(set, remove);
    }

    private static String editableField(String text) {
        ConfigValues.fieldName(text);
        if (PROXY_FIELDS.contains(text.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(text + " is the proxy's to manage (message framing or a per-hop field);"
                    + " a route can neither set nor remove it");
        }
        return text;
    }

    private static RateLimit rateLimit(Section s) {
        Double perSecond = s.require("requests-per-second", ConfigValues::positiveNumber);
        double rate = perSecond == null ? 1 : perSecond;
        // one second's worth by default: a client may spend a second's allowance at once
        int burst = s.integer("burst", (int) Math.min(Integer.MAX_VALUE, Math.ceil(rate)), 1, Integer.MAX_VALUE);
        HashKey key = s.get("key", HashKey.SOURCE_IP, RouteBinder::rateLimitKey);
        return new RateLimit(rate, burst, key);
    }

    /** {@code source-ip} or {@code header:NAME}: who shares one bucket. */
    private static HashKey rateLimitKey(String text) {
        if (text.equals("source-ip")) {
            return HashKey.SOURCE_IP;
        }
        if (text.startsWith("header:")) {
            return new HashKey(HashKey.Source.HEADER, ConfigValues.fieldName(text.substring("header:".length())));
        }
        throw new IllegalArgumentException("unknown value " + ConfigValues.quote(text)
                + "; expected source-ip or header:NAME");
    }
}
