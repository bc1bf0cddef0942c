package dev.fulcrum.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Every call of admin-api.md's pools and servers table, over real HTTP against a real registry. */
class AdminApiIT {

    private AdminFixture f;

    @BeforeEach
    void start() {
        f = new AdminFixture("");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    @Test
    void looksUpWhereAKeyGoesInAHashingPoolAndRefusesAPoolThatDoesNotHash() throws Exception {
        HttpResponse<String> roundRobin = f.get("/api/v1/pools/app/lookup?key=10.0.0.1");
        assertThat(roundRobin.statusCode()).isEqualTo(409);
        assertThat(roundRobin.body()).contains("does not hash (algorithm round-robin)");

        f.pool.pool().setBalancing(dev.fulcrum.core.balance.Algorithm.MAGLEV, dev.fulcrum.core.balance.HashKey.SOURCE_IP);
        JsonNode one = f.parse(f.get("/api/v1/pools/app/lookup?key=10.0.0.1"));
        Server expected = f.pool.snapshot().pick(dev.fulcrum.core.balance.Pick.of(
                dev.fulcrum.core.balance.Hashing.hash64("10.0.0.1"), new java.util.SplittableRandom(1)));
        assertThat(one.get("key").asText()).isEqualTo("10.0.0.1");
        assertThat(one.get("server").asText()).isEqualTo(expected.id());
        assertThat(one.get("tableHash").asText()).matches("[0-9a-f]{16}");

        HttpResponse<String> many = f.post("/api/v1/pools/app/lookup", "{\"keys\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.1\"]}");
        assertThat(many.statusCode()).as(many.body()).isEqualTo(200);
        JsonNode answers = f.parse(many);
        assertThat(answers).hasSize(3);
        assertThat(answers.get(0)).isEqualTo(one);
        assertThat(answers.get(2)).isEqualTo(one);

        assertThat(f.get("/api/v1/pools/app/lookup").statusCode()).isEqualTo(400);
        assertThat(f.post("/api/v1/pools/app/lookup", "{\"keys\":3}").statusCode()).isEqualTo(400);
        for (String address : AdminFixture.SERVERS) {
            f.registry.drainServer("app", address);
        }
        HttpResponse<String> none = f.get("/api/v1/pools/app/lookup?key=10.0.0.1");
        assertThat(none.statusCode()).isEqualTo(503);
        assertThat(none.body()).contains("no server in rotation");
    }

    @Test
    void listsPoolsWithTheirServersInTheSpecShape() throws Exception {
        HttpResponse<String> r = f.get("/api/v1/pools");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode pools = f.parse(r);
        assertThat(pools).hasSize(1);
        assertThat(pools.get(0).get("name").asText()).isEqualTo("app");
        assertThat(pools.get(0).get("algorithm").asText()).isEqualTo("round-robin");
        assertThat(pools.get(0).get("protocol").asText()).isEqualTo("http/1.1");
        assertThat(pools.get(0).get("tls").asBoolean()).as("plain text to the servers").isFalse();
        JsonNode servers = pools.get(0).get("servers");
        assertThat(servers).hasSize(3);
        assertThat(servers.findValuesAsText("address")).containsExactlyElementsOf(AdminFixture.SERVERS);
        JsonNode first = servers.get(0);
        List<String> fields = new ArrayList<>();
        first.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("address", "weight", "state", "activeConnections", "activeRequests",
                "requests", "failures", "lastCheck");
        assertThat(first.get("state").asText()).isEqualTo("up");
        assertThat(first.get("weight").asInt()).isEqualTo(1);
        assertThat(first.get("lastCheck").isNull()).isTrue();
    }

    @Test
    void showsOnePoolAndItsLiveCounters() throws Exception {
        Server server = f.pool.pool().servers().get(1);
        server.requestStarted();
        server.connectionOpened();

        JsonNode pool = f.parse(f.get("/api/v1/pools/app"));

        JsonNode s = pool.get("servers").get(1);
        assertThat(s.get("address").asText()).isEqualTo("127.0.0.1:9102");
        assertThat(s.get("activeRequests").asInt()).isEqualTo(1);
        assertThat(s.get("activeConnections").asInt()).isEqualTo(1);
        assertThat(s.get("requests").asLong()).isEqualTo(1);
    }

    @Test
    void addsAServerThenRefusesTheSameAddressWith409() throws Exception {
        HttpResponse<String> added = f.post("/api/v1/pools/app/servers", "{\"address\":\"127.0.0.1:9104\",\"weight\":3}");

        assertThat(added.statusCode()).isEqualTo(201);
        JsonNode server = f.parse(added);
        assertThat(server.get("address").asText()).isEqualTo("127.0.0.1:9104");
        assertThat(server.get("weight").asInt()).isEqualTo(3);
        assertThat(server.get("state").asText()).isEqualTo("up");
        assertThat(f.pool.snapshot().balancer().servers()).hasSize(4);

        HttpResponse<String> again = f.post("/api/v1/pools/app/servers", "{\"address\":\"127.0.0.1:9104\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(f.parse(again).get("error").asText()).contains("127.0.0.1:9104").contains("already");
    }

    @Test
    void refusesABadBodyWith400AndOneSentence() throws Exception {
        for (String body : List.of("{\"address\":\"not-an-address\"}", "{\"address\":\"127.0.0.1:70000\"}",
                "{\"address\":\"127.0.0.1:9104\",\"weight\":300}", "{\"address\":\"127.0.0.1:9104\",\"weight\":\"x\"}",
                "{\"address\":\"127.0.0.1:9104\",\"wieght\":1}", "{\"weight\":1}", "[]", "{not json")) {
            HttpResponse<String> r = f.post("/api/v1/pools/app/servers", body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            String error = f.parse(r).get("error").asText();
            assertThat(error).as(body).isNotBlank().doesNotContain("\n").doesNotContain("Exception");
        }
        assertThat(f.pool.pool().servers()).hasSize(3);
    }

    /** Issue 12, item 8: what an adversarial pass sent as an address; none becomes a server. */
    @Test
    void refusesAddressesThatAreNotHostAndPortWith400() throws Exception {
        for (String address : List.of("evil.example\r\nINFO forged:80", "nul\u0000:80", "<img src=x onerror=alert(1)>:80",
                "host/path:80", "user@host:80", "my host:80", "under_score:80", "[::1]:80x", "10.0.0.256:80")) {
            HttpResponse<String> r = f.post("/api/v1/pools/app/servers",
                    f.json.writeValueAsString(java.util.Map.of("address", address)));
            assertThat(r.statusCode()).as(address).isEqualTo(400);
            String error = f.parse(r).get("error").asText();
            assertThat(error).as(address).doesNotContain("\r", "\n", "\u0000").containsAnyOf("host", "port", "IPv4");
        }
        HttpResponse<String> r = f.post("/api/v1/pools/app/servers", "{\"address\":\"127.0.0.1:9104\",\"x\\r\\ny\":1}");
        assertThat(f.parse(r).get("error").asText()).isEqualTo("unknown field \"x\\r\\ny\" (expected address and weight)");
        assertThat(f.pool.pool().servers()).hasSize(3);
    }

    /** An error that quotes the request (a path, an address in it) quotes it escaped. */
    @Test
    void errorsQuoteThePathEscaped() throws Exception {
        HttpResponse<String> r = f.get("/api/v1/x%0d%0aINFO%20forged");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(f.parse(r).get("error").asText()).isEqualTo("no such path: \"/api/v1/x\\r\\nINFO forged\"");
        r = f.delete("/api/v1/pools/app/servers/a%0d%0ab%1b", null);
        assertThat(f.parse(r).get("error").asText()).isEqualTo("no server \"a\\r\\nb\\u001b\" in pool app");
        r = f.get("/api/v1/pools/%3Cscript%3E");
        assertThat(f.parse(r).get("error").asText()).isEqualTo("no pool named \"<script>\"");
    }

    @Test
    void deleteDrainsAndTheServerGoesOnlyWhenItsInFlightRequestEnds() throws Exception {
        Server server = f.pool.pool().find("127.0.0.1:9101").orElseThrow();
        server.requestStarted(); // one slow request in flight

        HttpResponse<String> r = f.delete("/api/v1/pools/app/servers/127.0.0.1%3A9101", null);

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(f.parse(r).get("state").asText()).isEqualTo("draining");
        assertThat(f.pool.snapshot().balancer().servers()).extracting(w -> w.server().id())
                .doesNotContain("127.0.0.1:9101");
        // still registered (draining) for as long as the request runs
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2))
                .until(() -> f.get("/api/v1/pools/app").body().contains("127.0.0.1:9101"));

        server.requestFinished();

        await().atMost(Duration.ofSeconds(2))
                .until(() -> !f.get("/api/v1/pools/app").body().contains("127.0.0.1:9101"));
        assertThat(f.get("/api/v1/pools/app/servers/127.0.0.1:9101").statusCode()).isEqualTo(404);
    }

    @Test
    void drainsAndEnablesAServerWithAPlainOrEncodedAddress() throws Exception {
        HttpResponse<String> drained = f.post("/api/v1/pools/app/servers/127.0.0.1:9102/drain", null);

        assertThat(drained.statusCode()).isEqualTo(200);
        assertThat(f.parse(drained).get("state").asText()).isEqualTo("draining");
        assertThat(f.pool.pool().servers()).hasSize(3);
        assertThat(f.pool.snapshot().serversInRotation()).isEqualTo(2);

        HttpResponse<String> enabled = f.post("/api/v1/pools/app/servers/127.0.0.1%3A9102/enable", null);

        assertThat(enabled.statusCode()).isEqualTo(200);
        assertThat(f.parse(enabled).get("state").asText()).isEqualTo("up");
        assertThat(f.pool.snapshot().serversInRotation()).isEqualTo(3);
    }

    @Test
    void answers404ForUnknownPoolsServersAndPaths() throws Exception {
        assertError(f.get("/api/v1/pools/nope"), 404, "nope");
        assertError(f.post("/api/v1/pools/nope/servers", "{\"address\":\"127.0.0.1:9104\"}"), 404, "nope");
        assertError(f.post("/api/v1/pools/app/servers/127.0.0.1:9999/drain", null), 404, "127.0.0.1:9999");
        assertError(f.delete("/api/v1/pools/app/servers/127.0.0.1:9999", null), 404, "127.0.0.1:9999");
        assertError(f.get("/api/v1/nothing"), 404, "/api/v1/nothing");
        assertError(f.send(f.request("/api/v1/pools").PUT(HttpRequest.BodyPublishers.noBody()).build()), 405, "PUT");
    }

    @Test
    void routesAreReadOnlyAndEmptyWithoutAConfig() throws Exception {
        HttpResponse<String> routes = f.get("/api/v1/routes");
        assertThat(routes.statusCode()).isEqualTo(200);
        assertThat(routes.body()).isEqualTo("[]");
        assertError(f.post("/api/v1/routes", "{}"), 405, "POST");
        assertError(f.get("/api/v1/routes/web"), 404, "/api/v1/routes/web");
    }

    @Test
    void enablingAServerBeingRemovedIsAConflict() throws Exception {
        f.pool.pool().find("127.0.0.1:9103").orElseThrow().requestStarted();
        f.delete("/api/v1/pools/app/servers/127.0.0.1:9103", null);

        assertError(f.post("/api/v1/pools/app/servers/127.0.0.1:9103/enable", null), 409, "being removed");
    }

    @Test
    void healthzIsOkWhileEachPoolHasAServerUp() throws Exception {
        HttpResponse<String> ok = f.get("/healthz");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body().strip()).isEqualTo("ok");

        for (Server s : f.pool.pool().servers()) {
            f.registry.setCheck(f.pool, s, CheckState.DOWN, "test");
        }

        HttpResponse<String> down = f.get("/healthz");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("pool app has no server up");
    }

    @Test
    void statusAndStatsDescribeTheInstance() throws Exception {
        f.metrics.proxy().listener("web").route("web#1")
                .requestCompleted("app", f.pool.pool().servers().getFirst(), 200, 2_000_000);

        JsonNode status = f.parse(f.get("/api/v1/status"));
        assertThat(status.get("name").asText()).isEqualTo("edge-test");
        assertThat(status.get("version").asText()).isNotBlank();
        assertThat(status.get("uptimeSeconds").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(status.get("autoscale").isNull()).isTrue();
        assertThat(status.get("ha").isNull()).isTrue();
        assertThat(status.get("cluster").isNull()).isTrue(); // no cluster section

        JsonNode stats = f.parse(f.get("/api/v1/stats"));
        assertThat(stats.get("requests").asLong()).isEqualTo(1);
        assertThat(stats.get("listeners").get(0).get("name").asText()).isEqualTo("web");
        assertThat(stats.get("listeners").get(0).get("requests").asLong()).isEqualTo(1);

        HttpResponse<String> history = f.get("/api/v1/stats/history");
        assertThat(history.statusCode()).isEqualTo(200);
        assertThat(f.parse(history).isArray()).isTrue();
    }

    @Test
    void aTakenAddressFailsTheStartWithOneLine() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            var config = new dev.fulcrum.server.config.FulcrumConfig.Admin(
                    new dev.fulcrum.core.HostPort("127.0.0.1", taken.getLocalPort()), "");
            AdminServer second = new AdminServer(config, f.registry, f.metrics, AdminHooks.basic("x", f.registry));

            org.assertj.core.api.Assertions.assertThatThrownBy(second::start)
                    .isInstanceOf(dev.fulcrum.server.net.StartException.class)
                    .hasMessageStartingWith("admin: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": ")
                    .message().doesNotContain("\n");
        }
    }

    private void assertError(HttpResponse<String> r, int status, String mentions) throws Exception {
        assertThat(r.statusCode()).as(r.uri().toString()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(f.parse(r).get("error").asText()).contains(mentions);
    }
}
