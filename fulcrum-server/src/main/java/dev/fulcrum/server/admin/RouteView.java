package dev.fulcrum.server.admin;

import dev.fulcrum.core.route.HeaderMatch;
import dev.fulcrum.core.route.PathMatch;
import dev.fulcrum.core.route.RouteMatch;
import dev.fulcrum.core.text.Durations;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.server.metrics.RouteResponses;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of {@code GET /api/v1/routes}: a route of the config in force as the file spells it
 * (keys in camel case, like the rest of the API; a key the route leaves out is null) and what it
 * answered so far. Of {@code pool}, {@code pools} and {@code redirect} exactly one is set, as in
 * the config; {@code responseTimeout} and {@code retries} are null where the pool's apply.
 * Jackson writes the components in declaration order. Immutable.
 *
 * @param requests responses sent for the route so far (the sum of {@code byStatus})
 * @param byStatus the same by status class, {@code 1xx} ... {@code 5xx}, read from
 *                 {@code fulcrum_requests_total}
 */
record RouteView(String listener, String name, Match match, String pool, List<PoolWeight> pools,
                 Redirect redirect, boolean stripPrefix, RateLimit rateLimit, String responseTimeout,
                 Integer retries, long requests, Map<String, Long> byStatus) {

    /** {@code match}; {@code headers} maps a field name (lower case) to its value, {@code "*"} for present. */
    record Match(String host, String path, String pathPrefix, String pathRegex, List<String> methods,
                 Map<String, String> headers) {
    }

    record PoolWeight(String pool, int weight) {
    }

    record Redirect(String location, int status) {
    }

    record RateLimit(double requestsPerSecond, int burst, String key) {
    }

    /** Every route of {@code listeners}, listener by listener, each in its order (TCP listeners have none). */
    static List<RouteView> all(List<Listener> listeners, RouteResponses responses) {
        List<RouteView> out = new ArrayList<>();
        for (Listener l : listeners) {
            for (RouteConfig r : l.routes()) {
                out.add(of(l.name(), r, responses.of(l.name(), r.name())));
            }
        }
        return out;
    }

    /** @param byStatus responses by status class, {@code 1xx} ... {@code 5xx} */
    static RouteView of(String listener, RouteConfig r, Map<String, Long> byStatus) {
        long total = byStatus.values().stream().mapToLong(Long::longValue).sum();
        String pool = r.destination() instanceof RouteConfig.ToPool to ? to.pool() : null;
        List<PoolWeight> pools = r.destination() instanceof RouteConfig.Split split
                ? split.pools().stream().map(w -> new PoolWeight(w.pool(), w.weight())).toList() : null;
        Redirect redirect = r.destination() instanceof RouteConfig.Redirect to
                ? new Redirect(to.location(), to.status()) : null;
        RateLimit limit = r.rateLimit() == null ? null : new RateLimit(r.rateLimit().requestsPerSecond(),
                r.rateLimit().burst(), r.rateLimit().key().toString());
        return new RouteView(listener, r.name(), match(r.match()), pool, pools, redirect, r.stripPrefix(), limit,
                r.responseTimeout() == null ? null : Durations.format(r.responseTimeout()), r.retries(), total,
                byStatus);
    }

    private static Match match(RouteMatch m) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (HeaderMatch h : m.headers()) {
            headers.put(h.name(), h.value());
        }
        return new Match(m.host(),
                m.path() instanceof PathMatch.Exact e ? e.path() : null,
                m.path() instanceof PathMatch.Prefix p ? p.prefix() : null,
                m.path() instanceof PathMatch.Regex x ? x.pattern().pattern() : null,
                m.methods(), headers);
    }
}
