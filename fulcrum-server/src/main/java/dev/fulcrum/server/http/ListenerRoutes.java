package dev.fulcrum.server.http;

import dev.fulcrum.core.route.RequestFields;
import dev.fulcrum.core.route.RequestPath;
import dev.fulcrum.core.route.RouteMatch;
import dev.fulcrum.core.route.RouteTable;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.http.message.MessageHead;
import dev.fulcrum.server.registry.PoolRuntime;
import io.netty.util.AsciiString;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A listener's routes, built once per listener (a reload that changes them replaces the listener):
 * which {@link ProxyRoute} a request takes. A listener written with {@code pool:} has one route
 * that matches everything, and its requests skip matching altogether: no host, path or field is
 * read for them. Otherwise the request's path is normalised for matching ({@link RequestPath}:
 * the bytes forwarded stay the client's), and a {@link RouteTable} finds the first route that
 * matches its host, path, method and fields. Immutable; thread-safe.
 */
final class ListenerRoutes {

    private final List<ProxyRoute> routes;
    /** The only route, when it matches everything; null otherwise. */
    private final ProxyRoute everything;
    private final RouteTable<ProxyRoute> table;
    /** The field names the table asks about, as the head looks them up. */
    private final AsciiString[] fieldNames;

    private ListenerRoutes(List<ProxyRoute> routes) {
        this.routes = routes;
        this.everything = routes.size() == 1 && routes.getFirst().config().match().equals(RouteMatch.EVERYTHING)
                ? routes.getFirst() : null;
        this.table = RouteTable.of(routes, r -> r.config().match());
        this.fieldNames = table.fieldNames().stream().map(AsciiString::cached).toArray(AsciiString[]::new);
    }

    /**
     * The routes of {@code listener}, their pools looked up by name in {@code pools}, each counting
     * into its series of {@code stats}.
     */
    static ListenerRoutes of(Listener listener, Function<String, PoolRuntime> pools, ProxyStats stats) {
        return build(listener, pools, stats, Map.of());
    }

    /**
     * The routes of {@code next}, a reload of this listener, keeping the rate-limit buckets of each
     * route whose name and {@code rate-limit} are unchanged: a reload must not hand every client
     * that is over its limit a fresh burst.
     */
    ListenerRoutes reloaded(Listener next, Function<String, PoolRuntime> pools, ProxyStats stats) {
        Map<String, ProxyRoute> byName = new HashMap<>();
        routes.forEach(r -> byName.put(r.name(), r));
        return build(next, pools, stats, byName);
    }

    private static ListenerRoutes build(Listener listener, Function<String, PoolRuntime> pools, ProxyStats stats,
                                        Map<String, ProxyRoute> before) {
        long now = System.nanoTime();
        return new ListenerRoutes(listener.routes().stream().map(r -> {
            ProxyRoute old = before.get(r.name());
            RouteLimit limit = r.rateLimit() == null ? null
                    : old != null && r.rateLimit().equals(old.config().rateLimit()) ? old.limit()
                    : new RouteLimit(r.rateLimit(), now);
            return ProxyRoute.of(r, pools, stats.route(r.name()), limit);
        }).toList());
    }

    List<ProxyRoute> all() {
        return routes;
    }

    /** The route every request takes when the listener has one that matches everything, else null. */
    ProxyRoute everything() {
        return everything;
    }

    /**
     * The route of {@code request}, whose target normalised for matching is {@code path}
     * ({@link RequestPath#normalise}, not null); null when none matches.
     */
    ProxyRoute match(MessageHead request, String path) {
        RequestFields fields = fieldNames.length == 0 ? null : new HeadFields(request, fieldNames);
        int host = table.matchesHosts() ? request.hostIndex() : -1; // the decoder found it: no scan
        return table.match(host < 0 ? null : request.valueString(host), path, request.method().name(), fields);
    }

    /** A request's fields as the route table asks about them, read from the head's index. */
    private record HeadFields(MessageHead head, AsciiString[] names) implements RequestFields {

        @Override
        public int indexOf(int name, int from) {
            return head.indexOf(names[name], from);
        }

        @Override
        public boolean valueIs(int field, String value) {
            int start = head.valueStart(field);
            int end = head.valueEnd(field);
            if (end - start != value.length()) {
                return false;
            }
            for (int i = 0; i < value.length(); i++) {
                if ((head.byteAt(start + i) & 0xff) != value.charAt(i)) {
                    return false;
                }
            }
            return true;
        }
    }
}
