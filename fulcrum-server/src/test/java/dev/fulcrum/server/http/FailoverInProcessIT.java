package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.RegistryEvent;
import dev.fulcrum.server.testing.AlertReceiver;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The failover cases where a separate process makes no difference, with {@link FulcrumServer} in
 * this JVM (health checks, outlier detection, alerts to an in-test webhook receiver) in front of
 * test backends: a hung server, servers that reset every request while their health check passes,
 * and a pool with no server left. Every client request goes through the real listener.
 */
class FailoverInProcessIT {

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();
    private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private AlertReceiver alerts;
    private FulcrumServer fulcrum;
    private int port;

    @AfterEach
    void closeAll() throws Exception {
        if (fulcrum != null) {
            fulcrum.stop(Duration.ZERO);
        }
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    @Test
    void hungServerIsMarkedDownByTheCheckTimeoutWhileItsRequestsAreRetriedElsewhere() throws Exception {
        HangingServer hung = closing(new HangingServer());
        TestBackend a = closing(TestBackend.start("a"));
        TestBackend b = closing(TestBackend.start("b"));
        start(List.of(hung.address(), a.address(), b.address()), """
                    response-timeout: 1s
                    retries: 2
                    health-check:
                      type: http
                      interval: 500ms
                      timeout: 300ms
                      fall: 3
                      rise: 2
                """);
        Server hungServer = server(hung.address());
        int requests = 0;
        Instant start = Instant.now();
        // requests until the health checks take the hung server down (bounded), then some more
        while (!hasEvent("server-down", hung.address()) && requests < 200) {
            expectServedByAOrB(get("/"));
            requests++;
        }
        assertThat(hasEvent("server-down", hung.address())).as("hung server down").isTrue();
        RegistryEvent downEvent = event("server-down", hung.address());
        assertThat(downEvent.detail()).isEqualTo("3 checks failed: timeout after 300ms");
        long downMs = Duration.between(start, downEvent.at()).toMillis();
        // interval × fall + timeout (+ jitter), with a margin for a noisy machine
        assertThat(downMs).isLessThan(550 * 3 + 300 + 2000);
        long triedOnHung = hungServer.failures();
        assertThat(triedOnHung).as("requests that went to the hung server first").isPositive();
        assertThat(listener().stats().retries("app")).as("each retried on another server").isEqualTo(triedOnHung);
        for (int i = 0; i < 20; i++) {
            expectServedByAOrB(get("/"));
        }
        assertThat(hungServer.failures()).as("requests sent to it after it went down").isEqualTo(triedOnHung);
        await("FulcrumServerDown").atMost(Duration.ofSeconds(5))
                .until(() -> alerts.first(Alerter.SERVER_DOWN, hung.address().toString(), false).isPresent());
        System.out.printf("FailoverInProcessIT hung server: down %d ms after the first request; %d requests, %d of "
                + "them retried after the 1s response timeout, 0 failed%n", downMs, requests + 20, triedOnHung);
    }

    @Test
    void serverThatResetsFiveRequestsInARowIsEjectedWhileItsHealthCheckPasses() throws Exception {
        TestBackend bad = closing(TestBackend.resetting("bad"));
        TestBackend a = closing(TestBackend.start("a"));
        TestBackend b = closing(TestBackend.start("b"));
        start(List.of(bad.address(), a.address(), b.address()), """
                    retries: 2
                    health-check:
                      type: http
                      interval: 500ms
                      timeout: 300ms
                    outlier-detection:
                      consecutive-gateway-failures: 5
                      consecutive-5xx: 100
                      base-ejection: 30s
                      max-ejection-percent: 50
                """);
        Server badServer = server(bad.address());
        for (int i = 0; i < 100 && !hasEvent("server-ejected", bad.address()); i++) {
            expectServedByAOrB(get("/"));
        }
        assertThat(event("server-ejected", bad.address()).detail())
                .isEqualTo("5 consecutive gateway failures, ejected for 30s");
        // the ejection is decided off the request path, so a request or two more may reach it meanwhile
        int resetBeforeEjection = bad.requests("/");
        assertThat(resetBeforeEjection).as("requests it reset before it was ejected").isGreaterThanOrEqualTo(5);
        await("FulcrumServerEjected").atMost(Duration.ofSeconds(5))
                .until(() -> alerts.first(Alerter.SERVER_EJECTED, bad.address().toString(), false).isPresent());

        // out of rotation while its active checks keep passing
        int healthChecks = bad.requests("/health");
        for (int i = 0; i < 30; i++) {
            expectServedByAOrB(get("/"));
        }
        await("two more health checks of the ejected server").atMost(Duration.ofSeconds(5))
                .until(() -> bad.requests("/health") >= healthChecks + 2);
        assertThat(fulcrum.healthChecker().lastCheck(badServer)).hasValueSatisfying(c -> assertThat(c.ok()).isTrue());
        assertThat(badServer.health()).isEqualTo(ServerState.EJECTED);
        assertThat(bad.requests("/")).as("requests that reached it after its ejection").isEqualTo(resetBeforeEjection);
        System.out.printf("FailoverInProcessIT resetting server: ejected after %d resets, then 0 of 30 requests%n",
                resetBeforeEjection);
    }

    @Test
    void maxEjectionPercentKeepsTheSecondOutlierInRotation() throws Exception {
        TestBackend bad1 = closing(TestBackend.resetting("bad1"));
        TestBackend bad2 = closing(TestBackend.resetting("bad2"));
        TestBackend good = closing(TestBackend.start("good"));
        start(List.of(bad1.address(), bad2.address(), good.address()), """
                    retries: 2
                    health-check:
                      type: http
                      interval: 500ms
                      timeout: 300ms
                    outlier-detection:
                      consecutive-gateway-failures: 5
                      base-ejection: 30s
                      max-ejection-percent: 50
                """);
        for (int i = 0; i < 100 && events.stream().noneMatch(e -> e.type().equals("server-ejected")); i++) {
            expectServedBy(get("/"), "good");
        }
        List<RegistryEvent> ejected = ejections();
        assertThat(ejected).as("one ejection").hasSize(1);
        TestBackend kept = ejected.getFirst().server().equals(bad1.address().toString()) ? bad2 : bad1;
        int keptBefore = kept.requests("/");
        // the second outlier trips again and again, but 50% of 3 servers is 1: it stays in rotation
        for (int i = 0; i < 30; i++) {
            expectServedBy(get("/"), "good");
        }
        assertThat(ejections()).as("still one ejection").hasSize(1);
        assertThat(server(kept.address()).health()).isEqualTo(ServerState.UP);
        assertThat(kept.requests("/")).as("requests the kept outlier still got (and reset)")
                .isGreaterThanOrEqualTo(keptBefore + 5);
        await("FulcrumServerEjected").atMost(Duration.ofSeconds(5))
                .until(() -> alerts.all().stream().anyMatch(r -> r.name().equals(Alerter.SERVER_EJECTED)));
        assertThat(alerts.all().stream().filter(r -> r.name().equals(Alerter.SERVER_EJECTED))).hasSize(1);
    }

    @Test
    void noServerUpGives503WithRetryAfterAtOnceAndAPoolDownAlert() throws Exception {
        TestBackend a = closing(TestBackend.start("a"));
        TestBackend b = closing(TestBackend.start("b"));
        start(List.of(a.address(), b.address()), """
                    health-check:
                      type: http
                      interval: 200ms
                      timeout: 100ms
                      fall: 2
                """);
        expectServedBy(get("/"), "a", "b");
        a.close();
        b.close();
        await("FulcrumPoolDown").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> alerts.all().stream().anyMatch(r -> r.name().equals(Alerter.POOL_DOWN) && !r.resolved()));
        get("/"); // warm-up: the 503 path's first run loads its classes
        long[] ms = new long[11];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = get("/");
            ms[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.headers().firstValue("retry-after")).hasValue("1");
            assertThat(r.body()).isEqualTo("503 service unavailable: no server of pool app is up\n");
        }
        Arrays.sort(ms);
        // the median, so that one scheduling hiccup of a shared machine does not decide
        assertThat(ms[ms.length / 2]).as("median 503 latency, ms").isLessThan(50);
        System.out.printf("FailoverInProcessIT no server up: 503 in %d ms median, %d ms max (%d requests)%n",
                ms[ms.length / 2], ms[ms.length - 1], ms.length);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private <T extends AutoCloseable> T closing(T c) {
        toClose.add(c);
        return c;
    }

    /** Starts Fulcrum from YAML: listener web -> pool app with these servers and pool settings. */
    private void start(List<HostPort> servers, String poolSettings) throws Exception {
        alerts = closing(AlertReceiver.start());
        port = Loopback.freePort();
        String yaml = """
                name: failover-in-process
                admin:
                  listen: 127.0.0.1:%d
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    protocol: http
                    pool: app
                pools:
                  - name: app
                    algorithm: round-robin
                    servers:
                %s
                %s
                alerts:
                  - type: webhook
                    url: %s
                """.formatted(Loopback.freePort(), port, servers.stream().map(s -> "      - address: " + s)
                .collect(Collectors.joining("\n")), poolSettings.stripTrailing(), alerts.url());
        fulcrum = FulcrumServer.start(ConfigLoader.parse(yaml, "failover.yaml", Map.of()));
        fulcrum.registry().onEvent(e -> events.add(e.wire()));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void expectServedByAOrB(HttpResponse<String> r) {
        expectServedBy(r, "a", "b");
    }

    private static void expectServedBy(HttpResponse<String> r, String... names) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isIn(Arrays.stream(names).map(n -> "server " + n).toList());
    }

    private PoolRuntime pool() {
        return fulcrum.registry().pool("app");
    }

    private Server server(HostPort address) {
        return fulcrum.registry().server(pool(), address.toString());
    }

    private HttpListener listener() {
        return (HttpListener) fulcrum.listeners().getFirst();
    }

    private boolean hasEvent(String type, HostPort server) {
        return events.stream().anyMatch(e -> e.type().equals(type) && e.server().equals(server.toString()));
    }

    private RegistryEvent event(String type, HostPort server) {
        return events.stream().filter(e -> e.type().equals(type) && e.server().equals(server.toString()))
                .findFirst().orElseThrow(() -> new AssertionError("no " + type + " for " + server + " in " + events));
    }

    private List<RegistryEvent> ejections() {
        return events.stream().filter(e -> e.type().equals("server-ejected")).toList();
    }
}
