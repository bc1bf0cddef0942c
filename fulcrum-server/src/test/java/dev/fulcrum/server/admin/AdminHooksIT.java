package dev.fulcrum.server.admin;

import dev.fulcrum.server.health.CheckResult;
import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** What the runtime's hooks say shows through the API: reload answers, last checks, auto-scaling and HA state. */
class AdminHooksIT {

    @Test
    void answersAppliedOrTheConfigErrorAs400() throws Exception {
        AtomicReference<HookResult> next = new AtomicReference<>(HookResult.success());
        AtomicInteger calls = new AtomicInteger();
        try (AdminFixture f = new AdminFixture("", registry -> new AdminHooks() {
            @Override
            public String instanceName() {
                return "edge-test";
            }

            @Override
            public HookResult reload() {
                calls.incrementAndGet();
                return next.get();
            }

            @Override
            public HookResult healthz() {
                return HookResult.success();
            }

            @Override
            public CheckResult lastCheck(Server server) {
                return null;
            }
        })) {
            HttpResponse<String> applied = f.post("/api/v1/reload", null);
            assertThat(applied.statusCode()).isEqualTo(200);
            assertThat(applied.body()).isEqualTo("{\"applied\":true}");

            next.set(HookResult.failed("fulcrum.yaml:12:7: pools[0].servers[1]: expected host:port"));
            HttpResponse<String> refused = f.post("/api/v1/reload", null);
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(f.parse(refused).get("error").asText())
                    .isEqualTo("fulcrum.yaml:12:7: pools[0].servers[1]: expected host:port");
            assertThat(calls).hasValue(2);
        }
    }

    @Test
    void withoutAReloadHookItIsRefusedClearly() throws Exception {
        try (AdminFixture f = new AdminFixture("")) {
            HttpResponse<String> r = f.post("/api/v1/reload", null);
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(f.parse(r).get("error").asText()).isEqualTo("reload is not available in this process");
        }
    }

    @Test
    void showsLastChecksAutoscalingAndHaFromTheRuntime() throws Exception {
        CheckResult check = new CheckResult(java.time.Instant.parse("2026-11-24T03:00:00Z"), true, "200 in 2ms");
        try (AdminFixture f = new AdminFixture("", registry -> new AdminHooks() {
            @Override
            public String instanceName() {
                return "edge-1";
            }

            @Override
            public HookResult reload() {
                return HookResult.success();
            }

            @Override
            public HookResult healthz() {
                return HookResult.failed("listener web is not accepting");
            }

            @Override
            public CheckResult lastCheck(Server server) {
                return server.id().equals("127.0.0.1:9101") ? check : null;
            }

            @Override
            public java.util.List<AutoscaleStatus> autoscale() {
                return java.util.List.of(new AutoscaleStatus("app", 3, 2, 6, "queue_depth", 12.5, 20, 5, "scale-out"));
            }

            @Override
            public HaStatus ha() {
                return new HaStatus("master", 51, 150, java.util.List.of("192.0.2.10/24"), "eth0");
            }
        })) {
            String pool = f.get("/api/v1/pools/app").body();
            assertThat(pool).contains("{\"address\":\"127.0.0.1:9101\",\"weight\":1,\"state\":\"up\","
                    + "\"activeConnections\":0,\"activeRequests\":0,\"requests\":0,\"failures\":0,"
                    + "\"lastCheck\":{\"at\":\"2026-11-24T03:00:00Z\",\"ok\":true,\"detail\":\"200 in 2ms\"}}");
            assertThat(pool).contains("\"address\":\"127.0.0.1:9102\"").contains("\"lastCheck\":null");

            var status = f.parse(f.get("/api/v1/status"));
            assertThat(status.get("name").asText()).isEqualTo("edge-1");
            assertThat(status.get("autoscale").get(0).get("metric").asText()).isEqualTo("queue_depth");
            assertThat(status.get("autoscale").get(0).get("value").asDouble()).isEqualTo(12.5);
            assertThat(status.get("ha").get("state").asText()).isEqualTo("master");
            assertThat(status.get("ha").get("virtualRouterId").asInt()).isEqualTo(51);

            HttpResponse<String> health = f.get("/healthz");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body().strip()).isEqualTo("listener web is not accepting");
        }
    }
}
