package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.route.HeaderMatch;
import dev.fulcrum.core.route.PathMatch;
import dev.fulcrum.core.route.RouteMatch;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.RouteConfig.HeaderEdits;
import dev.fulcrum.server.config.RouteConfig.PoolWeight;
import dev.fulcrum.server.config.RouteConfig.RateLimit;
import dev.fulcrum.server.config.RouteConfig.Redirect;
import dev.fulcrum.server.config.RouteConfig.Split;
import dev.fulcrum.server.config.RouteConfig.ToPool;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code listeners[].routes} that are right: read as written, defaults filled in. */
class RoutesConfigTest {

    /** The routes of spec config.md "Routes, TLS, HTTP/2, ...", as written there. */
    private static final String SPEC_ROUTES = """
            listeners:
              - name: web
                listen: 0.0.0.0:443
                protocol: http
                routes:                     # first match wins; `pool:` without routes = one route for everything
                  - name: api-v1                    # in logs, metrics and the API; default LISTENER#N (N from 1)
                    match:
                      host: api.example.com         # exact or "*.example.com"; case-insensitive; port ignored
                      path-prefix: /v1/             # or path: /exact, or path-regex: '^/u/[0-9]+$'
                      methods: [GET, POST]
                      headers: {X-Canary: "1"}      # exact value; "*" = present
                    pool: api                       # or a weighted split, e.g. for a canary:
                    # pools: [{pool: api-v1, weight: 90}, {pool: api-v2, weight: 10}]
                    strip-prefix: false             # true: drop path-prefix before forwarding (keeps one "/")
                    request-headers: {set: {X-Env: prod}, remove: [X-Debug]}
                    response-headers: {set: {Strict-Transport-Security: "max-age=31536000"}}
                    rate-limit: {requests-per-second: 100, burst: 200, key: source-ip}   # over it: 429 + Retry-After
                    response-timeout: 10s           # overrides the pool's for this route
                    retries: 1                      # overrides the pool's for this route
                  - match: {path-prefix: /old/}
                    redirect: {location: "https://example.com/new/", status: 308}   # 301 | 302 | 303 | 307 | 308
                  - match: {}               # matches everything; when no route matches: 404 "no route"
                    pool: app
            pools:
              - name: api
              - name: app
            """;

    private static FulcrumConfig parse(String yaml) {
        return ConfigLoader.parse(yaml, "fulcrum.yaml", Map.of());
    }

    private static RouteConfig toPool(String name, RouteMatch match, String pool) {
        return new RouteConfig(name, match, new ToPool(pool), false, HeaderEdits.NONE, HeaderEdits.NONE, null, null,
                null);
    }

    @Test
    void theSpecRoutesReadAsWritten() {
        Listener web = parse(SPEC_ROUTES).listeners().getFirst();

        assertThat(web.pool()).isNull();
        assertThat(web.routes()).containsExactly(
                new RouteConfig("api-v1",
                        new RouteMatch("api.example.com", new PathMatch.Prefix("/v1/"), List.of("GET", "POST"),
                                List.of(new HeaderMatch("x-canary", "1"))),
                        new ToPool("api"), false,
                        new HeaderEdits(Map.of("X-Env", "prod"), List.of("X-Debug")),
                        new HeaderEdits(Map.of("Strict-Transport-Security", "max-age=31536000"), List.of()),
                        new RateLimit(100, 200, HashKey.SOURCE_IP), Duration.ofSeconds(10), 1),
                new RouteConfig("web#2", new RouteMatch(null, new PathMatch.Prefix("/old/"), List.of(), List.of()),
                        new Redirect("https://example.com/new/", 308), false, HeaderEdits.NONE, HeaderEdits.NONE,
                        null, null, null),
                toPool("web#3", RouteMatch.EVERYTHING, "app"));
    }

    @Test
    void aListenerWithPoolHasOneRouteForEverything() {
        FulcrumConfig config = parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    pool: app
                  - name: db
                    listen: 127.0.0.1:5432
                    protocol: tcp
                    pool: app
                pools:
                  - name: app
                """);

        assertThat(config.listeners().get(0).pool()).isEqualTo("app");
        assertThat(config.listeners().get(0).routes()).containsExactly(
                toPool("web#1", RouteMatch.EVERYTHING, "app"));
        assertThat(config.listeners().get(1).routes()).as("tcp has no routes").isEmpty();
        assertThat(config.listeners().get(0)).as("as code that builds a listener by hand gets it")
                .isEqualTo(new Listener("web", new HostPort("127.0.0.1", 8080), Protocol.HTTP, "app", null,
                        100_000, Duration.ofSeconds(60), Duration.ofSeconds(10), 65_536));
    }

    @Test
    void otherMatchesAndDestinationsWithTheirDefaults() {
        FulcrumConfig config = parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    routes:
                      - name: canary
                        match:
                          host: "*.Example.COM"
                          path-regex: '^/u/[0-9]+$'
                          headers: {x-debug: "*"}
                        pools: [{pool: v1, weight: 90}, {pool: v2, weight: 10}, {pool: v3}]
                        rate-limit: {requests-per-second: 2.5, key: "header:X-Api-Key"}
                      - match: {path: /health, host: "[::1]"}
                        redirect: {location: /status}
                      - match: {path-prefix: /api}
                        strip-prefix: true
                        pool: v1
                        response-headers: {remove: [Server, X-Powered-By]}
                pools:
                  - name: v1
                  - name: v2
                  - name: v3
                """);

        List<RouteConfig> routes = config.listeners().getFirst().routes();
        assertThat(routes).containsExactly(
                new RouteConfig("canary",
                        new RouteMatch("*.example.com", new PathMatch.Regex(Pattern.compile("^/u/[0-9]+$")), List.of(),
                                List.of(new HeaderMatch("x-debug", "*"))),
                        new Split(List.of(new PoolWeight("v1", 90), new PoolWeight("v2", 10), new PoolWeight("v3", 1))),
                        false, HeaderEdits.NONE, HeaderEdits.NONE,
                        new RateLimit(2.5, 3, new HashKey(HashKey.Source.HEADER, "X-Api-Key")), null, null),
                new RouteConfig("web#2", new RouteMatch("::1", new PathMatch.Exact("/health"), List.of(), List.of()),
                        new Redirect("/status", 302), false, HeaderEdits.NONE, HeaderEdits.NONE, null, null, null),
                new RouteConfig("web#3", new RouteMatch(null, new PathMatch.Prefix("/api"), List.of(), List.of()),
                        new ToPool("v1"), true, HeaderEdits.NONE,
                        new HeaderEdits(Map.of(), List.of("Server", "X-Powered-By")), null, null, null));
        assertThat(routes.getFirst().match().headers().getFirst().isPresence()).isTrue();
    }

    /** The example of the reference's {@code listeners[].routes} is a valid listener's routes. */
    @Test
    void theReferencesExampleLoads() throws IOException {
        String reference = Files.readString(Path.of("../docs/configuration.md"));
        String section = reference.substring(reference.indexOf("### `listeners[].routes`"));
        int start = section.indexOf("```yaml\n") + 8;
        String routes = section.substring(start, section.indexOf("```\n", start));

        FulcrumConfig config = parse("listeners:\n  - name: web\n    listen: 127.0.0.1:8080\n" + routes + """
                pools:
                  - name: api
                  - name: app-v1
                  - name: app-v2
                """);

        assertThat(config.listeners().getFirst().routes()).extracting(RouteConfig::name)
                .containsExactly("api-v1", "web#2", "web#3");
    }

    @Test
    void theSameRoutesCompareEqualSoAReloadKeepsTheListener() {
        assertThat(parse(SPEC_ROUTES)).isEqualTo(parse(SPEC_ROUTES));
        assertThat(parse(SPEC_ROUTES).listeners())
                .isNotEqualTo(parse(SPEC_ROUTES.replace("/old/", "/older/")).listeners());
    }
}
