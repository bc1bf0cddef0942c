package dev.fulcrum.server.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** With {@code admin.token} set, mutations need {@code Authorization: Bearer <token>}; reads stay open. */
class AdminAuthIT {

    private static final String TOKEN = "s3cret-token";
    private AdminFixture f;

    @BeforeEach
    void start() {
        f = new AdminFixture(TOKEN);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    @Test
    void mutationsWithoutTheTokenAre401AndChangeNothing() throws Exception {
        String body = "{\"address\":\"127.0.0.1:9104\"}";
        for (HttpResponse<String> r : java.util.List.of(
                f.post("/api/v1/pools/app/servers", body),
                f.post("/api/v1/pools/app/servers", body, "wrong-token"),
                f.post("/api/v1/pools/app/servers", body, TOKEN + "x"),
                f.post("/api/v1/pools/app/servers/127.0.0.1:9101/drain", null),
                f.delete("/api/v1/pools/app/servers/127.0.0.1:9101", null),
                f.post("/api/v1/reload", null))) {
            assertThat(r.statusCode()).as(r.request().method() + " " + r.uri()).isEqualTo(401);
            assertThat(f.parse(r).get("error").asText()).contains("Bearer");
            assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
        }
        assertThat(f.pool.pool().servers()).hasSize(3);
        assertThat(f.pool.snapshot().serversInRotation()).isEqualTo(3);
    }

    @Test
    void mutationsWithTheTokenSucceed() throws Exception {
        assertThat(f.post("/api/v1/pools/app/servers", "{\"address\":\"127.0.0.1:9104\"}", TOKEN).statusCode())
                .isEqualTo(201);
        assertThat(f.post("/api/v1/pools/app/servers/127.0.0.1:9104/drain", null, TOKEN).statusCode()).isEqualTo(200);
        assertThat(f.delete("/api/v1/pools/app/servers/127.0.0.1:9104", TOKEN).statusCode()).isEqualTo(202);
    }

    @Test
    void aPageOfAnotherOriginCannotChangeTheBalancer() throws Exception {
        HttpResponse<String> foreign = f.send(f.request("/api/v1/pools/app/servers/127.0.0.1:9101/drain")
                .header("Authorization", "Bearer " + TOKEN)
                .header("Origin", "http://evil.example")
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(f.parse(foreign).get("error").asText()).contains("another origin");
        assertThat(f.pool.snapshot().serversInRotation()).isEqualTo(3);

        HttpResponse<String> own = f.send(f.request("/api/v1/pools/app/servers/127.0.0.1:9101/drain")
                .header("Authorization", "Bearer " + TOKEN)
                .header("Origin", "http://127.0.0.1:" + f.admin.localAddress().getPort())
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
        assertThat(own.statusCode()).isEqualTo(200);
    }

    @Test
    void readsStayOpen() throws Exception {
        for (String path : java.util.List.of("/api/v1/pools", "/api/v1/pools/app", "/healthz", "/metrics",
                "/api/v1/status", "/api/v1/stats", "/")) {
            assertThat(f.get(path).statusCode()).as(path).isEqualTo(200);
        }
    }
}
