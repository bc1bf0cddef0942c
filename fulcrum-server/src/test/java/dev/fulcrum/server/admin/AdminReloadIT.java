package dev.fulcrum.server.admin;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code POST /api/v1/reload} answers what the runtime's reload hook says. */
class AdminReloadIT {

    @Test
    void answersAppliedOrTheConfigErrorAs400() throws Exception {
        AtomicReference<Outcome> next = new AtomicReference<>(Outcome.success());
        AtomicInteger calls = new AtomicInteger();
        try (AdminFixture f = new AdminFixture("", registry -> new AdminHooks() {
            @Override
            public String instanceName() {
                return "edge-test";
            }

            @Override
            public Outcome reload() {
                calls.incrementAndGet();
                return next.get();
            }

            @Override
            public Outcome healthz() {
                return Outcome.success();
            }

            @Override
            public CheckResult lastCheck(Server server) {
                return null;
            }
        })) {
            HttpResponse<String> applied = f.post("/api/v1/reload", null);
            assertThat(applied.statusCode()).isEqualTo(200);
            assertThat(applied.body()).isEqualTo("{\"applied\":true}");

            next.set(Outcome.failed("fulcrum.yaml:12:7: pools[0].servers[1]: expected host:port"));
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
}
