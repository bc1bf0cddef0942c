package dev.fulcrum.server.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** {@code listeners[].routes} with mistakes: each reported at its line, all of them, in file order. */
class RoutesConfigErrorsTest {

    private static final String POOLS = """
            pools:
              - name: app
              - name: api
            """;

    private static void assertErrors(String yaml, String... expected) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(yaml + POOLS, "fulcrum.yaml", Map.of()));
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(expected);
    }

    /** A listener {@code web} whose routes are {@code routes}, indented as list items under routes:. */
    private static String web(String routes) {
        return """
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    routes:
                """ + routes.indent(6);
    }

    @Test
    void aListenerHasPoolOrRoutesNotBoth() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    pool: app
                    routes:
                      - pool: api
                """,
                "fulcrum.yaml:5:5: listeners[0].routes: a listener has pool or routes, not both (pool alone is one"
                        + " route for everything)");
    }

    @Test
    void anHttpListenerNeedsPoolOrRoutes() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                """,
                "fulcrum.yaml:2:5: listeners[0].pool: required key is missing (or routes)");
    }

    @Test
    void aTcpListenerHasNoRoutes() {
        assertErrors("""
                listeners:
                  - name: db
                    listen: 127.0.0.1:5432
                    protocol: tcp
                    routes:
                      - pool: app
                """,
                "fulcrum.yaml:2:5: listeners[0].pool: required key is missing",
                "fulcrum.yaml:5:5: listeners[0].routes: not allowed for protocol tcp (only for http; a tcp listener"
                        + " sends to its pool)");
    }

    @Test
    void anEmptyRouteListIsAMistake() {
        assertErrors("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    routes: []
                """,
                "fulcrum.yaml:4:5: listeners[0].routes: at least one route is required (or pool instead of routes)");
    }

    @Test
    void aRouteHasExactlyOneDestination() {
        assertErrors(web("""
                - match: {path: /a}
                - pool: app
                  redirect: {location: /b}
                """),
                "fulcrum.yaml:5:9: listeners[0].routes[0].pool: a route needs one of pool, pools, redirect",
                "fulcrum.yaml:7:9: listeners[0].routes[1].redirect: a route has exactly one of pool, pools, redirect;"
                        + " this one also has pool");
    }

    @Test
    void pathConditionsAreMutuallyExclusive() {
        assertErrors(web("""
                - match:
                    path: /a
                    path-prefix: /a/
                  pool: app
                """),
                "fulcrum.yaml:7:11: listeners[0].routes[0].match.path-prefix: path, path-prefix and path-regex are"
                        + " mutually exclusive; this match also has path");
    }

    @Test
    void aRegexThatDoesNotCompileSaysWhyInOneLine() {
        assertErrors(web("""
                - match: {path-regex: '^/u/([0-9]+$'}
                  pool: app
                """),
                "fulcrum.yaml:5:17: listeners[0].routes[0].match.path-regex: invalid regex \"^/u/([0-9]+$\": Unclosed"
                        + " group at index 12");
    }

    @Test
    void weightsAreOneToAHundredAndEachPoolOnce() {
        assertErrors(web("""
                - pools:
                    - {pool: app, weight: 0}
                    - {pool: api, weight: 101}
                    - {pool: app}
                """),
                "fulcrum.yaml:6:25: listeners[0].routes[0].pools[0].weight: 0 is out of range; expected 1..100",
                "fulcrum.yaml:7:25: listeners[0].routes[0].pools[1].weight: 101 is out of range; expected 1..100",
                "fulcrum.yaml:8:14: listeners[0].routes[0].pools[2].pool: duplicate pool in pools \"app\"; first at"
                        + " line 6");
    }

    @Test
    void unknownPoolsAreReportedWhereTheyAreNamed() {
        assertErrors(web("""
                - pool: ap
                - pools: [{pool: app}, {pool: nope, weight: 5}]
                """),
                "fulcrum.yaml:5:9: listeners[0].routes[0].pool: no pool named \"ap\"; defined pools: app, api",
                "fulcrum.yaml:6:31: listeners[0].routes[1].pools[1].pool: no pool named \"nope\"; defined pools: app,"
                        + " api");
    }

    @Test
    void routeNamesAreUniqueInTheirListener() {
        assertErrors(web("""
                - name: api
                  pool: api
                - name: api
                  pool: app
                - name: "web#3"
                  pool: app
                """),
                "fulcrum.yaml:7:9: listeners[0].routes[1].name: duplicate route name \"api\"; first at line 5",
                "fulcrum.yaml:9:9: listeners[0].routes[2].name: invalid name \"web#3\"; expected letters, digits, '.',"
                        + " '_' or '-' (at most 63, starting with a letter or digit)");
    }

    @Test
    void stripPrefixNeedsAPathPrefix() {
        assertErrors(web("""
                - match: {path: /a}
                  strip-prefix: true
                  pool: app
                """),
                "fulcrum.yaml:6:9: listeners[0].routes[0].strip-prefix: only with match.path-prefix (there is no"
                        + " prefix to strip)");
    }

    @Test
    void aRedirectForwardsNothing() {
        assertErrors(web("""
                - redirect: {location: "ftp://example.com/", status: 300}
                  retries: 1
                  request-headers: {remove: [X-A]}
                """),
                "fulcrum.yaml:5:20: listeners[0].routes[0].redirect.location: expected an http:// or https:// URL"
                        + " with a host, got \"ftp://example.com/\"",
                "fulcrum.yaml:5:52: listeners[0].routes[0].redirect.status: 300 is not a redirect status; expected"
                        + " one of 301, 302, 303, 307, 308",
                "fulcrum.yaml:6:9: listeners[0].routes[0].retries: not allowed with redirect (nothing is forwarded)",
                "fulcrum.yaml:7:9: listeners[0].routes[0].request-headers: not allowed with redirect (nothing is"
                        + " forwarded)");
    }

    @Test
    void headerNamesAreTokensAndValuesHaveNoControlCharacters() {
        assertErrors(web("""
                - match:
                    headers: {"X Canary": "1", X-Env: "a\\rb", X-Empty: }
                  pool: app
                  request-headers:
                    set: {Content-Length: "0", X-A: "1", x-a: "2"}
                    remove: [X-A, "Bad:Name"]
                """),
                "fulcrum.yaml:6:21: listeners[0].routes[0].match.headers.X Canary: invalid header name \"X Canary\";"
                        + " expected letters, digits and !#$%&'*+-.^_`|~ only",
                "fulcrum.yaml:6:38: listeners[0].routes[0].match.headers.X-Env: a header value may have visible"
                        + " ASCII characters, spaces and tabs only; character 2 of \"a\\rb\" is not one",
                "fulcrum.yaml:6:53: listeners[0].routes[0].match.headers.X-Empty: expected a value, got an empty"
                        + " value",
                "fulcrum.yaml:9:17: listeners[0].routes[0].request-headers.set.Content-Length: Content-Length is the"
                        + " proxy's to manage (message framing or a per-hop field); a route can neither set nor"
                        + " remove it",
                "fulcrum.yaml:9:48: listeners[0].routes[0].request-headers.set.x-a: duplicate header \"x-a\"; first"
                        + " at line 9",
                "fulcrum.yaml:10:11: listeners[0].routes[0].request-headers.remove: duplicate header \"x-a\"; first at"
                        + " line 9",
                "fulcrum.yaml:10:25: listeners[0].routes[0].request-headers.remove[1]: invalid header name"
                        + " \"Bad:Name\"; expected letters, digits and !#$%&'*+-.^_`|~ only");
    }

    @Test
    void hostsMethodsAndPathsAsRequestsAreMatched() {
        assertErrors(web("""
                - match:
                    host: api.example.com:443
                    methods: [get]
                    path-prefix: /v1/../x
                  pool: app
                - match: {host: "*", path: "/a b"}
                  pool: app
                """),
                "fulcrum.yaml:6:11: listeners[0].routes[0].match.host: host \"api.example.com:443\" has a port; hosts"
                        + " are matched without their port",
                "fulcrum.yaml:7:21: listeners[0].routes[0].match.methods[0]: method \"get\" is not in upper case;"
                        + " methods are case-sensitive, write GET",
                "fulcrum.yaml:8:11: listeners[0].routes[0].match.path-prefix: requests are matched on their"
                        + " normalised path, which is never /v1/../x; write /x",
                "fulcrum.yaml:10:17: listeners[0].routes[1].match.host: \"*\" is every host: leave host out (or write"
                        + " *.example.com)",
                "fulcrum.yaml:10:28: listeners[0].routes[1].match.path: expected a path starting with / and without"
                        + " spaces, got \"/a b\"");
    }

    @Test
    void aRateLimitNeedsItsRateAndAKeyItCanRead() {
        assertErrors(web("""
                - pool: app
                  rate-limit: {burst: 0, key: "cookie:session"}
                """),
                "fulcrum.yaml:6:9: listeners[0].routes[0].rate-limit.requests-per-second: required key is missing",
                "fulcrum.yaml:6:22: listeners[0].routes[0].rate-limit.burst: 0 is out of range; expected at least 1",
                "fulcrum.yaml:6:32: listeners[0].routes[0].rate-limit.key: unknown value \"cookie:session\"; expected"
                        + " source-ip or header:NAME");
    }
}
