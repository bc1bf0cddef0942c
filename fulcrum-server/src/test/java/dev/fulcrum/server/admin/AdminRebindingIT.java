package dev.fulcrum.server.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12, item 5: DNS rebinding. A page of {@code rebind.evil.example} whose name now resolves to
 * the admin address makes the operator's browser send it same-origin requests: {@code Host} and
 * {@code Origin} both name the attacker. Without a token such a request must neither change the
 * balancer nor read it; the admin address itself, {@code localhost} and the names of
 * {@code admin.allowed-hosts} keep working, as does the dashboard's own same-origin call.
 */
class AdminRebindingIT {

    private static final String DRAIN = "/api/v1/pools/app/servers/127.0.0.1:9101/drain";
    private AdminFixture f;

    @AfterEach
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    private RawClient.Response request(String method, String path, String host, String origin) throws Exception {
        try (RawClient c = f.raw()) {
            return c.send(method + " " + path + " HTTP/1.1\r\n"
                    + (host == null ? "" : "Host: " + host + "\r\n")
                    + (origin == null ? "" : "Origin: " + origin + "\r\n")
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n").read();
        }
    }

    @Test
    void aRebindingPageCannotDrainAServerWithoutAToken() throws Exception {
        f = new AdminFixture("");
        String evil = "rebind.evil.example:" + f.port();
        RawClient.Response r = request("POST", DRAIN, evil, "http://" + evil);
        assertThat(r.status()).isEqualTo(403);
        assertThat(f.json.readTree(r.body()).get("error").asText())
                .isEqualTo("Host \"" + evil + "\" is not a name of this admin API; list it in admin.allowed-hosts"
                        + " to reach the API by that name");
        assertThat(f.pool.snapshot().serversInRotation()).isEqualTo(3);
        assertThat(request("DELETE", "/api/v1/pools/app/servers/127.0.0.1:9101", evil, "http://" + evil).status())
                .isEqualTo(403);
        assertThat(request("POST", "/api/v1/reload", evil, null).status()).isEqualTo(403);
        assertThat(f.pool.pool().servers()).hasSize(3);
    }

    /** Reads too: pools, status and metrics name internal addresses, worth a rebinding page's while. */
    @Test
    void aRebindingPageCannotReadTheBalancer() throws Exception {
        f = new AdminFixture("");
        for (String path : List.of("/api/v1/status", "/api/v1/pools", "/metrics", "/api/v1/events", "/")) {
            assertThat(request("GET", path, "rebind.evil.example:" + f.port(), null).status()).as(path).isEqualTo(403);
        }
    }

    @Test
    void theAdminAddressLocalhostAndNoHostAreAnswered() throws Exception {
        f = new AdminFixture("");
        for (String host : List.of("127.0.0.1:" + f.port(), "127.0.0.1", "localhost:" + f.port(), "LocalHost")) {
            assertThat(request("GET", "/api/v1/status", host, null).status()).as(host).isEqualTo(200);
        }
        try (RawClient c = f.raw()) {
            assertThat(c.send("GET /healthz HTTP/1.0\r\n\r\n").read().status()).as("HTTP/1.0, no Host").isEqualTo(200);
        }
        String own = "127.0.0.1:" + f.port();
        assertThat(request("POST", DRAIN, own, "http://" + own).status()).as("the dashboard's own call").isEqualTo(200);
    }

    @Test
    void aNameInAllowedHostsIsAnswered() throws Exception {
        f = new AdminFixture("", List.of("admin.example.org"), AdminLimits.DEFAULT);
        String named = "Admin.Example.org:" + f.port();
        assertThat(request("GET", "/api/v1/pools", named, null).status()).isEqualTo(200);
        assertThat(request("POST", DRAIN, named, "http://" + named).status()).isEqualTo(200);
        assertThat(request("GET", "/api/v1/pools", "other.example.org:" + f.port(), null).status()).isEqualTo(403);
    }

    @Test
    void anotherOriginIsRefusedWithoutATokenToo() throws Exception {
        f = new AdminFixture("");
        String own = "127.0.0.1:" + f.port();
        for (String origin : List.of("http://evil.example", "null", "http://127.0.0.1:1", "not a url")) {
            assertThat(request("POST", DRAIN, own, origin).status()).as(origin).isEqualTo(403);
        }
        assertThat(f.pool.snapshot().serversInRotation()).isEqualTo(3);
    }

    @Test
    void aMalformedHostIsRefused() throws Exception {
        f = new AdminFixture("");
        for (String host : List.of("127.0.0.1:x", "a:b:c", "[::1", "evil/..", "127.0.0.1:" + f.port() + "@evil.example")) {
            RawClient.Response r = request("GET", "/api/v1/status", host, null);
            assertThat(r.status()).as(host).isEqualTo(403);
        }
    }
}
