package dev.fulcrum.server.config;

import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.route.RouteMatch;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code listeners[].routes[]} entry (spec config.md "Routes"): which requests it takes
 * ({@code match}), where they go ({@code destination}: one pool, a weighted split or a redirect)
 * and what changes on the way. A listener's routes are tried in order, the first match wins; a
 * listener written with {@code pool:} has one route for everything, {@code LISTENER#1}.
 * Immutable; equal when the config text means the same, so a reload can tell a changed listener.
 *
 * @param rateLimit       null for none
 * @param responseTimeout null for the pool's
 * @param retries         null for the pool's
 */
public record RouteConfig(String name, RouteMatch match, Destination destination, boolean stripPrefix,
                          HeaderEdits requestHeaders, HeaderEdits responseHeaders, RateLimit rateLimit,
                          Duration responseTimeout, Integer retries) {

    /** The statuses a {@code redirect} may answer with. */
    public static final List<Integer> REDIRECT_STATUSES = List.of(301, 302, 303, 307, 308);
    /** When {@code redirect.status} is left out (the spec names none): 302, as nginx's and HAProxy's default. */
    public static final int DEFAULT_REDIRECT_STATUS = 302;
    public static final int MAX_WEIGHT = 100;

    /** The name of a listener's {@code n}th route (from 1) when the file gives it none: {@code LISTENER#N}. */
    public static String defaultName(String listener, int n) {
        return listener + "#" + n;
    }

    /** The route of a listener written with {@code pool:}: everything to that pool, named {@code LISTENER#1}. */
    public static RouteConfig everything(String listener, String pool) {
        return new RouteConfig(defaultName(listener, 1), RouteMatch.EVERYTHING, new ToPool(pool), false, HeaderEdits.NONE,
                HeaderEdits.NONE, null, null, null);
    }

    /** Where a route's requests go: exactly one of {@code pool}, {@code pools}, {@code redirect}. */
    public sealed interface Destination permits ToPool, Split, Redirect {
    }

    /** {@code pool: NAME}. */
    public record ToPool(String pool) implements Destination {
    }

    /** {@code pools: [{pool, weight}]}: a weighted split, weights 1..100. */
    public record Split(List<PoolWeight> pools) implements Destination {
        public Split {
            pools = List.copyOf(pools);
        }
    }

    public record PoolWeight(String pool, int weight) {
    }

    /** {@code redirect: {location, status}}: answered by Fulcrum, nothing is forwarded. */
    public record Redirect(String location, int status) implements Destination {
    }

    /**
     * {@code request-headers} or {@code response-headers}: fields to set (replacing any of that
     * name) and names to remove. {@code set} keeps the file's order.
     */
    public record HeaderEdits(Map<String, String> set, List<String> remove) {
        public static final HeaderEdits NONE = new HeaderEdits(Map.of(), List.of());

        public HeaderEdits {
            set = Collections.unmodifiableMap(new LinkedHashMap<>(set));
            remove = List.copyOf(remove);
        }
    }

    /**
     * {@code rate-limit}: a token bucket per {@code key} ({@code source-ip} or {@code header:NAME})
     * refilled at {@code requestsPerSecond}, holding at most {@code burst}; over it, 429.
     */
    public record RateLimit(double requestsPerSecond, int burst, HashKey key) {
    }
}
