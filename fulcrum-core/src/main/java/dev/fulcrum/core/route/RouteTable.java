package dev.fulcrum.core.route;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A listener's routes, compiled once per config, answering which route a request takes: the
 * first, in config order, whose {@link RouteMatch} holds.
 *
 * <p>A request is not tried against every route. Routes are indexed by their host condition: an
 * exact name in a hash map, a wildcard {@code *.example.com} under its suffix
 * {@code .example.com} (looked up for each dot-suffix of the request's host), and routes without
 * one in a list of their own. Only those three candidate lists are walked, each in config order
 * and each only up to the best (lowest) config index found so far, so a listener with hundreds of
 * host names costs about what one with a single route does.
 *
 * <p>{@code R} is whatever the caller routes to (its config entry, its runtime); the table only
 * reads each one's {@code RouteMatch}, once, when built. Immutable; thread-safe.
 */
public final class RouteTable<R> {

    /** A route with its conditions in the shape the request path reads them. */
    private record Candidate<R>(int index, R route, PathMatch path, List<String> methods, int[] fieldNames,
                                String[] fieldValues) {

        /** The host condition already holds; the rest must too. */
        boolean matches(String requestPath, String method, RequestFields fields) {
            if (path != null && !path.matches(requestPath)) {
                return false;
            }
            if (!methods.isEmpty() && !methods.contains(method)) {
                return false;
            }
            for (int h = 0; h < fieldNames.length; h++) {
                if (!hasField(fields, fieldNames[h], fieldValues[h])) {
                    return false;
                }
            }
            return true;
        }

        /** A field of that name, with that value unless any will do (null). */
        private static boolean hasField(RequestFields fields, int name, String value) {
            for (int i = fields.indexOf(name, 0); i >= 0; i = fields.indexOf(name, i + 1)) {
                if (value == null || fields.valueIs(i, value)) {
                    return true;
                }
            }
            return false;
        }
    }

    private final Map<String, List<Candidate<R>>> byHost;
    /** Wildcard routes by suffix: {@code *.example.com} under {@code .example.com}. */
    private final Map<String, List<Candidate<R>>> bySuffix;
    private final List<Candidate<R>> anyHost;
    private final List<String> fieldNames;

    private RouteTable(Map<String, List<Candidate<R>>> byHost, Map<String, List<Candidate<R>>> bySuffix,
                       List<Candidate<R>> anyHost, List<String> fieldNames) {
        this.byHost = byHost;
        this.bySuffix = bySuffix;
        this.anyHost = anyHost;
        this.fieldNames = fieldNames;
    }

    /** The table of {@code routes}, in their order (first match wins), each matched by {@code matchOf}. */
    public static <R> RouteTable<R> of(List<R> routes, Function<? super R, RouteMatch> matchOf) {
        Map<String, List<Candidate<R>>> byHost = new HashMap<>();
        Map<String, List<Candidate<R>>> bySuffix = new HashMap<>();
        List<Candidate<R>> anyHost = new ArrayList<>();
        Map<String, Integer> names = new LinkedHashMap<>();
        for (int i = 0; i < routes.size(); i++) {
            R route = routes.get(i);
            RouteMatch match = matchOf.apply(route);
            List<HeaderMatch> headers = match.headers();
            int[] fieldNames = new int[headers.size()];
            String[] fieldValues = new String[headers.size()];
            for (int h = 0; h < fieldNames.length; h++) {
                fieldNames[h] = names.computeIfAbsent(headers.get(h).name(), _ -> names.size());
                fieldValues[h] = headers.get(h).isPresence() ? null : headers.get(h).value();
            }
            Candidate<R> candidate = new Candidate<>(i, route, match.path(), match.methods(), fieldNames, fieldValues);
            if (match.host() == null) {
                anyHost.add(candidate);
            } else if (match.isWildcardHost()) {
                bySuffix.computeIfAbsent(match.host().substring(1), _ -> new ArrayList<>()).add(candidate);
            } else {
                byHost.computeIfAbsent(match.host(), _ -> new ArrayList<>()).add(candidate);
            }
        }
        return new RouteTable<>(frozen(byHost), frozen(bySuffix), List.copyOf(anyHost), List.copyOf(names.keySet()));
    }

    private static <R> Map<String, List<Candidate<R>>> frozen(Map<String, List<Candidate<R>>> map) {
        Map<String, List<Candidate<R>>> out = new HashMap<>();
        map.forEach((key, list) -> out.put(key, List.copyOf(list)));
        return out;
    }

    /**
     * The header field names the routes test, in lower case; {@link RequestFields} is asked about
     * them by their index here.
     */
    public List<String> fieldNames() {
        return fieldNames;
    }

    /**
     * True when some route has a host condition; otherwise {@link #match} ignores the host, and a
     * caller need not read it (nor make a String of it).
     */
    public boolean matchesHosts() {
        return !byHost.isEmpty() || !bySuffix.isEmpty();
    }

    /**
     * The route of a request, or null when none matches (the caller answers 404).
     *
     * @param host   the request's host as sent ({@code Host}, or the authority of an absolute-form
     *               target), with or without a port, in any case; null when it has none (then
     *               only routes without a host condition can match)
     * @param path   the request's path normalised by {@link RequestPath#normalise} (not null: an
     *               invalid one is answered with 400 before routing)
     * @param method the request method, as sent
     * @param fields the request's header fields; may be null when {@link #fieldNames()} is empty
     */
    public R match(String host, String path, String method, RequestFields fields) {
        Candidate<R> best = null;
        String name = hostName(host);
        if (name != null) {
            best = first(byHost.get(name), best, path, method, fields);
            if (!bySuffix.isEmpty()) {
                for (int dot = name.indexOf('.', 1); dot > 0; dot = name.indexOf('.', dot + 1)) {
                    best = first(bySuffix.get(name.substring(dot)), best, path, method, fields);
                }
            }
        }
        best = first(anyHost, best, path, method, fields);
        return best == null ? null : best.route();
    }

    /** The first candidate of {@code list} that matches and comes before {@code best}, else {@code best}. */
    private static <R> Candidate<R> first(List<Candidate<R>> list, Candidate<R> best, String path, String method,
                                          RequestFields fields) {
        if (list == null) {
            return best;
        }
        int before = best == null ? Integer.MAX_VALUE : best.index();
        for (int i = 0; i < list.size(); i++) {
            Candidate<R> c = list.get(i);
            if (c.index() >= before) {
                break;
            }
            if (c.matches(path, method, fields)) {
                return c;
            }
        }
        return best;
    }

    /**
     * The host a host condition compares with: without its port, the brackets of an IPv6 literal
     * and a final dot ({@code example.com.} names the same host), in lower case. Null for none.
     */
    static String hostName(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        int start = 0;
        int end = host.length();
        if (host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 0) {
                return null;
            }
            start = 1;
            end = close;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0) {
                end = colon;
            }
        }
        if (end > start && host.charAt(end - 1) == '.') {
            end--;
        }
        return host.substring(start, end).toLowerCase(Locale.ROOT);
    }
}
