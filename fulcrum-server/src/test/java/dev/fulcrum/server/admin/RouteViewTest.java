package dev.fulcrum.server.admin;

import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.metrics.RouteMetrics;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code GET /api/v1/routes}' JSON: every key of a route as the config spells it, and its counts. */
class RouteViewTest {

    private static final FulcrumConfig CONFIG = ConfigLoader.parse("""
            listeners:
              - name: web
                listen: 127.0.0.1:8080
                routes:
                  - name: api-v1
                    match:
                      host: API.example.com
                      path-prefix: /v1/
                      methods: [GET, POST]
                      headers: {X-Canary: "1", X-Debug: "*"}
                    pool: api
                    strip-prefix: true
                    rate-limit: {requests-per-second: 100, burst: 200, key: "header:X-Tenant"}
                    response-timeout: 1500ms
                    retries: 1
                  - name: canary
                    match: {path-regex: '^/u/[0-9]+$'}
                    pools: [{pool: api, weight: 90}, {pool: app, weight: 10}]
                  - match: {path: /old}
                    redirect: {location: "https://example.com/new/", status: 308}
              - name: raw
                listen: 127.0.0.1:8081
                protocol: tcp
                pool: app
              - name: admin
                listen: 127.0.0.1:8082
                pool: app
            pools:
              - name: api
              - name: app
            """, "routes.yaml", Map.of());

    private final Registry registry = new Registry(Clock.systemUTC());
    private final FulcrumMetrics metrics = new FulcrumMetrics(registry);

    @AfterEach
    void close() {
        registry.close();
    }

    @Test
    void listsEachListenersRoutesInOrderWithEveryKeyAsTheConfigSpellsIt() throws Exception {
        String json = Json.mapper().writeValueAsString(RouteView.all(CONFIG.listeners(), metrics.routeResponses()));

        // no value here has a space: the layout below is only for reading
        assertThat(json).isEqualTo("""
                [{"listener":"web","name":"api-v1",
                  "match":{"host":"api.example.com","path":null,"pathPrefix":"/v1/","pathRegex":null,
                           "methods":["GET","POST"],"headers":{"x-canary":"1","x-debug":"*"}},
                  "pool":"api","pools":null,"redirect":null,"stripPrefix":true,
                  "rateLimit":{"requestsPerSecond":100.0,"burst":200,"key":"header:X-Tenant"},
                  "responseTimeout":"1500ms","retries":1,
                  "requests":0,"byStatus":{"1xx":0,"2xx":0,"3xx":0,"4xx":0,"5xx":0}},
                 {"listener":"web","name":"canary",
                  "match":{"host":null,"path":null,"pathPrefix":null,"pathRegex":"^/u/[0-9]+$",
                           "methods":[],"headers":{}},
                  "pool":null,"pools":[{"pool":"api","weight":90},{"pool":"app","weight":10}],"redirect":null,
                  "stripPrefix":false,"rateLimit":null,"responseTimeout":null,"retries":null,
                  "requests":0,"byStatus":{"1xx":0,"2xx":0,"3xx":0,"4xx":0,"5xx":0}},
                 {"listener":"web","name":"web#3",
                  "match":{"host":null,"path":"/old","pathPrefix":null,"pathRegex":null,"methods":[],"headers":{}},
                  "pool":null,"pools":null,"redirect":{"location":"https://example.com/new/","status":308},
                  "stripPrefix":false,"rateLimit":null,"responseTimeout":null,"retries":null,
                  "requests":0,"byStatus":{"1xx":0,"2xx":0,"3xx":0,"4xx":0,"5xx":0}},
                 {"listener":"admin","name":"admin#1",
                  "match":{"host":null,"path":null,"pathPrefix":null,"pathRegex":null,"methods":[],"headers":{}},
                  "pool":"app","pools":null,"redirect":null,
                  "stripPrefix":false,"rateLimit":null,"responseTimeout":null,"retries":null,
                  "requests":0,"byStatus":{"1xx":0,"2xx":0,"3xx":0,"4xx":0,"5xx":0}}]
                """.replaceAll("\\s+", ""));
    }

    @Test
    void countsAreTheRequestsSeriesOfTheRouteSummedOverPoolsAndServers() {
        ListenerMetrics web = metrics.proxy().listener("web");
        RouteMetrics canary = web.route("canary");
        canary.requestCompleted("api", null, 200, 1_000_000);
        canary.requestCompleted("app", null, 204, 1_000_000);
        canary.requestCompleted("app", null, 503, 1_000_000);
        web.route("web#3").requestCompleted("", null, 308, 0);
        web.route("").requestCompleted("", null, 404, 0); // no route: in no route's count
        metrics.proxy().listener("admin").route("canary") // same name, other listener
                .requestCompleted("app", null, 200, 0);

        var views = RouteView.all(CONFIG.listeners(), metrics.routeResponses());

        assertThat(views).extracting(RouteView::name).containsExactly("api-v1", "canary", "web#3", "admin#1");
        assertThat(views.get(0).requests()).isZero();
        assertThat(views.get(1).requests()).isEqualTo(3);
        assertThat(views.get(1).byStatus()).containsExactly(Map.entry("1xx", 0L), Map.entry("2xx", 2L),
                Map.entry("3xx", 0L), Map.entry("4xx", 0L), Map.entry("5xx", 1L));
        assertThat(views.get(2).byStatus()).containsEntry("3xx", 1L);
        assertThat(views.get(3).requests()).isZero();
    }
}
