package dev.fulcrum.core.route;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class RouteTableTest {

    private record Route(String name, RouteMatch match) {
    }

    /** A request's fields as name/value pairs, answering by the table's name numbers. */
    private record Fields(List<String> tableNames, List<String[]> pairs) implements RequestFields {
        @Override
        public int indexOf(int name, int from) {
            for (int i = from; i < pairs.size(); i++) {
                if (pairs.get(i)[0].equalsIgnoreCase(tableNames.get(name))) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public boolean valueIs(int field, String value) {
            return pairs.get(field)[1].strip().equals(value);
        }
    }

    private static Route route(String name, String host, PathMatch path, List<String> methods,
                               List<HeaderMatch> headers) {
        return new Route(name, new RouteMatch(host, path, methods, headers));
    }

    private static Route host(String name, String host) {
        return route(name, host, null, List.of(), List.of());
    }

    private static Route path(String name, PathMatch path) {
        return route(name, null, path, List.of(), List.of());
    }

    private static RouteTable<Route> table(Route... routes) {
        return RouteTable.of(List.of(routes), Route::match);
    }

    private static String match(RouteTable<Route> table, String host, String path) {
        return match(table, host, path, "GET");
    }

    private static String match(RouteTable<Route> table, String host, String path, String method, String... fields) {
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < fields.length; i += 2) {
            pairs.add(new String[] {fields[i], fields[i + 1]});
        }
        Route r = table.match(host, path, method, new Fields(table.fieldNames(), pairs));
        return r == null ? null : r.name();
    }

    @Test
    void aTableWithoutHostConditionsNeedsNoHost() {
        RouteTable<Route> paths = table(path("v1", new PathMatch.Prefix("/v1/")), path("all", null));
        assertThat(paths.matchesHosts()).isFalse();
        assertThat(match(paths, null, "/v1/x")).isEqualTo(match(paths, "a.example", "/v1/x")).isEqualTo("v1");
        assertThat(table(host("a", "a.example"), path("all", null)).matchesHosts()).isTrue();
        assertThat(table(host("suffix", "*.example.com")).matchesHosts()).isTrue();
    }

    @Test
    void anExactHostMatchesThatNameOnly() {
        RouteTable<Route> t = table(host("api", "api.example.com"));
        assertThat(match(t, "api.example.com", "/")).isEqualTo("api");
        assertThat(match(t, "www.example.com", "/")).isNull();
        assertThat(match(t, "example.com", "/")).isNull();
        assertThat(match(t, null, "/")).as("no Host").isNull();
    }

    @Test
    void theHostComparesWithoutCaseAndPort() {
        RouteTable<Route> t = table(host("api", "API.Example.com"), host("v6", "::1"));
        assertThat(match(t, "api.example.com", "/")).isEqualTo("api");
        assertThat(match(t, "Api.EXAMPLE.com:8443", "/")).isEqualTo("api");
        assertThat(match(t, "api.example.com.", "/")).as("a final dot").isEqualTo("api");
        assertThat(match(t, "[::1]:8080", "/")).isEqualTo("v6");
        assertThat(match(t, "[::1]", "/")).isEqualTo("v6");
    }

    @Test
    void aWildcardMatchesEveryNameBelowItsSuffixButNotTheSuffix() {
        RouteTable<Route> t = table(host("star", "*.example.com"));
        assertThat(match(t, "www.example.com", "/")).isEqualTo("star");
        assertThat(match(t, "a.b.example.com:80", "/")).isEqualTo("star");
        assertThat(match(t, "WWW.Example.COM", "/")).isEqualTo("star");
        assertThat(match(t, "example.com", "/")).isNull();
        assertThat(match(t, "wwwexample.com", "/")).isNull();
        assertThat(match(t, "www.example.org", "/")).isNull();
    }

    @Test
    void pathExactPrefixAndRegex() {
        RouteTable<Route> t = table(
                path("exact", new PathMatch.Exact("/health")),
                path("v1", new PathMatch.Prefix("/v1/")),
                path("api", new PathMatch.Prefix("/api")),
                path("user", new PathMatch.Regex(Pattern.compile("^/u/[0-9]+$"))));
        assertThat(match(t, "h", "/health")).isEqualTo("exact");
        assertThat(match(t, "h", "/health/")).isNull();
        assertThat(match(t, "h", "/v1/")).isEqualTo("v1");
        assertThat(match(t, "h", "/v1/users")).isEqualTo("v1");
        assertThat(match(t, "h", "/v1")).isNull();
        assertThat(match(t, "h", "/V1/users")).as("case-sensitive").isNull();
        assertThat(match(t, "h", "/api")).isEqualTo("api");
        assertThat(match(t, "h", "/api/x")).isEqualTo("api");
        assertThat(match(t, "h", "/apix")).isNull();
        assertThat(match(t, "h", "/u/42")).isEqualTo("user");
        assertThat(match(t, "h", "/u/42/x")).isNull();
        assertThat(match(t, "h", "*")).as("OPTIONS *: no path condition holds").isNull();
    }

    @Test
    void aRegexIsSearchedUnanchored() {
        RouteTable<Route> t = table(path("img", new PathMatch.Regex(Pattern.compile("\\.(png|jpg)$"))));
        assertThat(match(t, "h", "/static/a/b.png")).isEqualTo("img");
        assertThat(match(t, "h", "/static/a/b.png.txt")).isNull();
    }

    @Test
    void methodsAreCaseSensitive() {
        RouteTable<Route> t = table(route("write", null, null, List.of("POST", "PUT"), List.of()));
        assertThat(match(t, "h", "/", "POST")).isEqualTo("write");
        assertThat(match(t, "h", "/", "PUT")).isEqualTo("write");
        assertThat(match(t, "h", "/", "GET")).isNull();
        assertThat(match(t, "h", "/", "post")).isNull();
    }

    @Test
    void headersExactValueOrPresent() {
        RouteTable<Route> t = table(
                route("canary", null, null, List.of(), List.of(new HeaderMatch("X-Canary", "1"))),
                route("debug", null, null, List.of(), List.of(new HeaderMatch("x-debug", "*"))));
        assertThat(t.fieldNames()).containsExactly("x-canary", "x-debug");
        assertThat(match(t, "h", "/", "GET", "x-canary", "1")).isEqualTo("canary");
        assertThat(match(t, "h", "/", "GET", "X-CANARY", " 1 ")).as("name without case, value trimmed")
                .isEqualTo("canary");
        assertThat(match(t, "h", "/", "GET", "X-Canary", "10")).isNull();
        assertThat(match(t, "h", "/", "GET", "X-Canary", "0", "X-Canary", "1")).as("any field of the name")
                .isEqualTo("canary");
        assertThat(match(t, "h", "/", "GET", "X-Debug", "")).isEqualTo("debug");
        assertThat(match(t, "h", "/", "GET", "X-Other", "1")).isNull();
    }

    @Test
    void allConditionsMustHold() {
        RouteTable<Route> t = table(route("all", "api.example.com", new PathMatch.Prefix("/v1/"), List.of("GET"),
                List.of(new HeaderMatch("X-Canary", "1"))));
        assertThat(match(t, "api.example.com", "/v1/x", "GET", "X-Canary", "1")).isEqualTo("all");
        assertThat(match(t, "www.example.com", "/v1/x", "GET", "X-Canary", "1")).isNull();
        assertThat(match(t, "api.example.com", "/v2/x", "GET", "X-Canary", "1")).isNull();
        assertThat(match(t, "api.example.com", "/v1/x", "POST", "X-Canary", "1")).isNull();
        assertThat(match(t, "api.example.com", "/v1/x", "GET")).isNull();
    }

    @Test
    void anEmptyMatchTakesEverything() {
        RouteTable<Route> t = table(new Route("all", RouteMatch.EVERYTHING));
        assertThat(match(t, null, "/")).isEqualTo("all");
        assertThat(match(t, "any.host", "*", "OPTIONS")).isEqualTo("all");
        assertThat(t.fieldNames()).isEmpty();
        assertThat(t.match("h", "/x", "GET", null).name()).as("no fields needed").isEqualTo("all");
    }

    @Test
    void theFirstMatchInConfigOrderWinsAcrossTheIndexes() {
        RouteTable<Route> t = table(
                path("old", new PathMatch.Prefix("/old/")),
                host("api-v1", "api.example.com"),
                host("star", "*.example.com"),
                route("api-post", "api.example.com", null, List.of("POST"), List.of()),
                host("deep-star", "*.api.example.com"),
                new Route("fallback", RouteMatch.EVERYTHING));
        assertThat(match(t, "api.example.com", "/old/x")).as("host-less route 0 before host route 1").isEqualTo("old");
        assertThat(match(t, "api.example.com", "/x", "POST")).as("route 1 before route 3").isEqualTo("api-v1");
        assertThat(match(t, "www.example.com", "/x")).isEqualTo("star");
        assertThat(match(t, "a.api.example.com", "/x")).as("star (2) before deep-star (4)").isEqualTo("star");
        assertThat(match(t, "www.example.org", "/x")).isEqualTo("fallback");
        assertThat(match(t, null, "/x")).isEqualTo("fallback");
    }

    @Test
    void aLaterHostLessRouteLosesToAnEarlierHostRoute() {
        RouteTable<Route> t = table(
                route("v1-api", "api.example.com", new PathMatch.Prefix("/v1/"), List.of(), List.of()),
                path("v1-any", new PathMatch.Prefix("/v1/")));
        assertThat(match(t, "api.example.com", "/v1/x")).isEqualTo("v1-api");
        assertThat(match(t, "www.example.com", "/v1/x")).isEqualTo("v1-any");
    }

    @Test
    void noMatchIsNull() {
        RouteTable<Route> t = table(host("api", "api.example.com"), path("v1", new PathMatch.Prefix("/v1/")));
        assertThat(match(t, "www.example.com", "/v2/")).isNull();
        assertThat(RouteTable.of(List.<Route>of(), Route::match).match("h", "/", "GET", null)).isNull();
    }

    @Test
    void manyHostsAreFoundByTheirName() {
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            routes.add(host("r" + i, "host" + i + ".example.com"));
        }
        RouteTable<Route> t = RouteTable.of(routes, Route::match);
        assertThat(match(t, "host499.example.com", "/")).isEqualTo("r499");
        assertThat(match(t, "host0.example.com", "/")).isEqualTo("r0");
        assertThat(match(t, "host500.example.com", "/")).isNull();
    }

    @Test
    void configuredPathsMustBeNormal() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PathMatch.Prefix("/v1/../x"))
                .hasMessage("requests are matched on their normalised path, which is never /v1/../x; write /x");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PathMatch.Exact("v1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(new PathMatch.Regex(Pattern.compile("^/a$"))).isEqualTo(new PathMatch.Regex(Pattern.compile("^/a$")));
    }
}
