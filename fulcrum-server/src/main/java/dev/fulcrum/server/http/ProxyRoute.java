package dev.fulcrum.server.http;

import dev.fulcrum.core.route.PathMatch;
import dev.fulcrum.core.route.WeightedSplit;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.RouteConfig;
import dev.fulcrum.server.metrics.RouteMetrics;
import dev.fulcrum.server.registry.PoolRuntime;

import java.time.Duration;
import java.util.function.Function;

/**
 * One route of a listener as the proxy runs it ({@link RouteConfig} with its pools looked up and
 * its edits and limit compiled): where a matched request goes — one pool, a weighted split over
 * several ({@link WeightedSplit}: smooth, exact proportions over each cycle), or a redirect Fulcrum
 * answers itself — and what changes on the way: the path prefix stripped, header fields set and
 * removed both ways, the rate limit, the response timeout and retries that replace the pool's —
 * and the route's request series, bound once ({@link RouteMetrics}). Immutable apart from the
 * split's position and the limiter's buckets; thread-safe.
 */
final class ProxyRoute {

    private final RouteConfig config;
    /** One of pool / split / redirect is set, as the route's destination says. */
    private final PoolRuntime pool;
    private final WeightedSplit<Weighted> split;
    private final RouteConfig.Redirect redirect;
    /** The {@code path-prefix} to drop from forwarded targets; null unless {@code strip-prefix}. */
    private final String stripPrefix;
    private final FieldEdits requestEdits;
    private final FieldEdits responseEdits;
    private final RouteLimit limit;
    private final RouteMetrics metrics;

    /** A pool of a split and its weight. */
    private record Weighted(PoolRuntime pool, int weight) {
    }

    private ProxyRoute(RouteConfig config, PoolRuntime pool, WeightedSplit<Weighted> split, RouteMetrics metrics,
                       RouteLimit limit) {
        this.config = config;
        this.metrics = metrics;
        this.pool = pool;
        this.split = split;
        this.redirect = config.destination() instanceof RouteConfig.Redirect r ? r : null;
        this.stripPrefix = config.stripPrefix() && config.match().path() instanceof PathMatch.Prefix p
                ? p.prefix() : null;
        this.requestEdits = new FieldEdits(config.requestHeaders());
        this.responseEdits = new FieldEdits(config.responseHeaders());
        this.limit = limit;
    }

    /**
     * @param pools the running pool of each name the config references (the config check made sure
     *              each exists)
     * @param metrics the route's request series
     * @param limit   the route's rate limit (its buckets), null when it has none
     */
    static ProxyRoute of(RouteConfig config, Function<String, PoolRuntime> pools, RouteMetrics metrics,
                         RouteLimit limit) {
        return switch (config.destination()) {
            case RouteConfig.ToPool to -> new ProxyRoute(config, pool(pools, to.pool(), config), null, metrics,
                    limit);
            case RouteConfig.Split split -> new ProxyRoute(config, null, WeightedSplit.of(split.pools().stream()
                    .map(w -> new Weighted(pool(pools, w.pool(), config), w.weight())).toList(), Weighted::weight),
                    metrics, limit);
            case RouteConfig.Redirect _ -> new ProxyRoute(config, null, null, metrics, limit);
        };
    }

    private static PoolRuntime pool(Function<String, PoolRuntime> pools, String name, RouteConfig route) {
        PoolRuntime p = pools.apply(name);
        if (p == null) {
            throw new IllegalStateException("route " + route.name() + ": no pool " + name);
        }
        return p;
    }

    String name() {
        return config.name();
    }

    RouteConfig config() {
        return config;
    }

    /** Where this route's requests are counted. */
    RouteMetrics metrics() {
        return metrics;
    }

    /** The redirect Fulcrum answers for this route, or null when it forwards. */
    RouteConfig.Redirect redirect() {
        return redirect;
    }

    /** The pool of the next request: the route's one pool, or the split's next. Not for a redirect. */
    PoolRuntime nextPool() {
        return pool != null ? pool : split.next().pool();
    }

    /** The route's rate limit, or null for none. */
    RouteLimit limit() {
        return limit;
    }

    /** The path prefix dropped from forwarded targets, or null. */
    String stripPrefix() {
        return stripPrefix;
    }

    FieldEdits requestEdits() {
        return requestEdits;
    }

    FieldEdits responseEdits() {
        return responseEdits;
    }

    /** The route's {@code response-timeout}, else the pool's. */
    Duration responseTimeout(PoolConfig pool) {
        return config.responseTimeout() != null ? config.responseTimeout() : pool.responseTimeout();
    }

    /** The route's {@code retries}, else the pool's. */
    int retries(PoolConfig pool) {
        return config.retries() != null ? config.retries() : pool.retries();
    }
}
