package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routes through a real {@code fulcrum run} process in front of real HTTP servers on loopback:
 * one listener, four pools, each route rule of the config reference exercised with raw requests
 * (so that the bytes sent — dot segments, encoded slashes, doubled slashes — are exactly the
 * test's, not what a client library would make of them).
 */
class RoutesIT {

    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;

    private static TestBackend a1;
    private static TestBackend a2;
    private static TestBackend b;
    private static TestBackend c;
    private static FulcrumProcess fulcrum;
    private static int port;

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @BeforeAll
    static void start() throws Exception {
        a1 = TestBackend.start("a");
        a2 = TestBackend.start("a");
        b = TestBackend.start("b");
        c = TestBackend.start("c");
        port = Loopback.freePort();
        int admin = Loopback.freePort();
        StringBuilder redirects = new StringBuilder();
        for (int status : List.of(301, 302, 303, 307, 308)) {
            redirects.append("""
                          - match: {path: /r%d}
                            redirect: {location: "https://example.com/new/%d", status: %d}
                    """.formatted(status, status, status));
        }
        Path config = Files.writeString(tmp.resolve("fulcrum.yaml"), """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    routes:
                      - name: api-v1
                        match: {host: api.example.com, path-prefix: /v1}
                        pool: api
                        strip-prefix: true
                        request-headers: {set: {X-Env: prod}, remove: [X-Debug]}
                        response-headers: {set: {X-Route: api-v1}, remove: [X-Server]}
                      - name: first
                        match: {host: first.example.com}
                        pool: static
                      - name: shadowed
                        match: {host: first.example.com}
                        pool: users
                      - name: wildcard
                        match: {host: "*.example.org"}
                        pool: static
                      - name: user-by-id
                        match: {path-regex: '^/u/[0-9]+$'}
                        pool: users
                      - name: submit
                        match: {path: /submit, methods: [POST]}
                        pool: users
                      - name: canary
                        match: {path-prefix: /shop, headers: {X-Canary: "1"}}
                        pool: static
                      - name: admin-pages
                        match: {path-prefix: /admin}
                        pool: users
                      - name: split
                        match: {path-prefix: /split}
                        pools: [{pool: api, weight: 90}, {pool: static, weight: 10}]
                      - name: never-no-retry
                        match: {path: /never, headers: {X-Retries: "0"}}
                        pool: api
                        response-timeout: 300ms
                        retries: 0
                      - name: never
                        match: {path: /never}
                        pool: api
                        response-timeout: 300ms
                        retries: 1
                      - name: limited
                        match: {path-prefix: /limited}
                        pool: static
                        rate-limit: {requests-per-second: 1, burst: 2, key: "header:X-Client"}
                %s
                pools:
                  - name: api
                    servers: [{address: %s}, {address: %s}]
                    retries: 2
                    health-check: {type: none}
                  - name: static
                    servers: [{address: %s}]
                    health-check: {type: none}
                  - name: users
                    servers: [{address: %s}]
                    health-check: {type: none}
                """.formatted(admin, port, redirects.toString().stripTrailing(), a1.address(), a2.address(),
                b.address(), c.address()));
        fulcrum = FulcrumProcess.start("routes", List.of("-Xmx256m"), "run", "-c", config.toString());
        fulcrum.awaitPort(port, BOUND);
    }

    @AfterAll
    static void stop() throws Exception {
        if (fulcrum != null) {
            fulcrum.close();
        }
        for (TestBackend backend : new TestBackend[]{a1, a2, b, c}) {
            if (backend != null) {
                backend.close();
            }
        }
    }

    /** One request on its own connection ({@code Connection: close}); the whole response as text. */
    private static String send(String method, String target, String host, String... fields) throws IOException {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String field : fields) {
            head.append(field).append("\r\n");
        }
        head.append("Content-Length: 0\r\nConnection: close\r\n\r\n");
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    private static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static String field(String response, String name) {
        Matcher m = Pattern.compile("(?im)^" + Pattern.quote(name) + ":[ \\t]*([^\r\n]*?)[ \\t]*$")
                .matcher(response.substring(0, response.indexOf("\r\n\r\n") + 2));
        return m.find() ? m.group(1) : null;
    }

    @ParameterizedTest(name = "{0} {1} Host: {2} -> {3}")
    @CsvSource(delimiter = '|', value = {
            // host and path, the port ignored, case-insensitive host
            "GET|/v1/x|api.example.com|server a",
            "GET|/v1/x|API.Example.COM:8080|server a",
            "GET|/v1|api.example.com|server a",
            // a wildcard host at any depth, not the bare domain
            "GET|/|x.example.org|server b",
            "GET|/|deep.x.example.org|server b",
            "GET|/|example.org|404",
            // first match wins
            "GET|/|first.example.com|server b",
            // regex
            "GET|/u/42|any.example.net|server c",
            "GET|/u/abc|any.example.net|404",
            // methods
            "POST|/submit|any.example.net|server c",
            "GET|/submit|any.example.net|404",
            // nothing matches
            "GET|/nothing|other.example.net|404",
            // paths are matched normalised, and a prefix is whole segments
            "GET|/v1/../admin|api.example.com|server c",
            "GET|/v1/%2e%2e/admin|api.example.com|server c",
            "GET|/v1/%2E%2E/admin|api.example.com|server c",
            "GET|//v1/x|api.example.com|server a",
            "GET|/V1/x|api.example.com|404",
            "GET|/v1%2Fadmin|api.example.com|404",
            "GET|/v1x|api.example.com|404",
            "GET|/../etc/passwd|api.example.com|400",
            "GET|/v1/%zz|api.example.com|400"})
    void requestsGoWhereTheirRouteSays(String method, String target, String host, String expected) throws Exception {
        String response = send(method, target, host);
        if (expected.startsWith("server")) {
            assertThat(status(response)).as(response).isEqualTo(200);
            assertThat(body(response)).isEqualTo(expected);
        } else {
            assertThat(status(response)).as(response).isEqualTo(Integer.parseInt(expected));
            assertThat(field(response, "X-Request-Id")).as("Fulcrum's own answers carry the request id").isNotBlank();
        }
    }

    @Test
    void aHeaderMatchTakesTheRequestOnlyWithThatValue() throws Exception {
        assertThat(body(send("GET", "/shop/cart", "any.example.net", "X-Canary: 1"))).isEqualTo("server b");
        assertThat(status(send("GET", "/shop/cart", "any.example.net", "X-Canary: 2"))).isEqualTo(404);
        assertThat(status(send("GET", "/shop/cart", "any.example.net"))).isEqualTo(404);
    }

    @Test
    void stripPrefixAndHeaderEditsChangeWhatTheServerAndTheClientSee() throws Exception {
        String response = send("GET", "/v1/headers?q=1", "api.example.com", "X-Debug: yes", "X-Env: test");
        assertThat(status(response)).isEqualTo(200);
        String seen = body(response);
        assertThat(seen).as("the server got the path without the prefix, the query kept").startsWith("GET /headers?q=1 ");
        assertThat(seen).contains("x-env: prod").doesNotContain("x-env: test").doesNotContain("x-debug");
        assertThat(field(response, "X-Route")).isEqualTo("api-v1");
        assertThat(field(response, "X-Server")).as("removed from the response").isNull();
        // the same path on a route without edits: the server's field stays
        assertThat(field(send("GET", "/", "x.example.org"), "X-Server")).isEqualTo("b");
    }

    @ParameterizedTest
    @CsvSource({"301", "302", "303", "307", "308"})
    void redirectsAnswerWithTheirStatusAndLocation(int status) throws Exception {
        String response = send("GET", "/r" + status, "any.example.net");
        assertThat(status(response)).as(response).isEqualTo(status);
        assertThat(field(response, "Location")).isEqualTo("https://example.com/new/" + status);
        assertThat(field(response, "Content-Length")).isEqualTo("0");
    }

    @Test
    void aWeightedSplitKeepsItsProportions() throws Exception {
        Map<String, Integer> byServer = new HashMap<>();
        int n = 10_000;
        try (RawHttp client = new RawHttp(port, 10_000)) {
            for (int i = 0; i < n; i++) {
                client.send("GET /split HTTP/1.1\r\nHost: s\r\n\r\n");
                String response = client.readResponse(false);
                byServer.merge(body(response), 1, Integer::sum);
            }
        }
        assertThat(byServer.keySet()).containsExactlyInAnyOrder("server a", "server b");
        double api = byServer.get("server a") / (double) n;
        assertThat(api).as("share of pool api, weight 90 of 100").isBetween(0.88, 0.92);
    }

    @Test
    void aRoutesTimeoutAndRetriesReplaceThePools() throws Exception {
        int before = a1.requests("/never") + a2.requests("/never");
        long t0 = System.nanoTime();
        String once = send("GET", "/never", "any.example.net", "X-Retries: 0");
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(status(once)).as(once).isEqualTo(504);
        assertThat(elapsedMs).as("the route's 300 ms, not the pool's 30 s").isLessThan(5_000);
        assertThat(a1.requests("/never") + a2.requests("/never") - before).as("retries: 0").isEqualTo(1);

        before = a1.requests("/never") + a2.requests("/never");
        String twice = send("GET", "/never", "any.example.net");
        assertThat(status(twice)).as(twice).isEqualTo(504);
        assertThat(a1.requests("/never") + a2.requests("/never") - before)
                .as("retries: 1 (the pool says 2, and has only 2 servers)").isEqualTo(2);
    }

    @Test
    void aClientOverItsRateLimitGets429WhileAnotherIsUnaffected() throws Exception {
        assertThat(status(send("GET", "/limited", "h", "X-Client: alice"))).isEqualTo(200);
        assertThat(status(send("GET", "/limited", "h", "X-Client: alice"))).isEqualTo(200);
        String third = send("GET", "/limited", "h", "X-Client: alice");
        assertThat(status(third)).as(third).isEqualTo(429);
        assertThat(field(third, "Retry-After")).isEqualTo("1");
        assertThat(status(send("GET", "/limited", "h", "X-Client: bob"))).as("another key").isEqualTo(200);
    }
}
