package dev.fulcrum.server.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The webhook sink against a real Alertmanager (Debian package {@code prometheus-alertmanager}),
 * started on loopback with a temporary config and data directory, stopped by PID after.
 */
class AlertmanagerIT {

    private static final Path BINARY = Path.of("/usr/bin/prometheus-alertmanager");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private Process alertmanager;
    private String base;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private Registry registry;
    private Alerter alerter;

    @BeforeEach
    void startAlertmanager() throws Exception {
        assumeTrue(Files.isExecutable(BINARY),
                "skipped: " + BINARY + " not found (apt-get install prometheus-alertmanager)");
        Files.writeString(tmp.resolve("am.yml"), """
                route:
                  receiver: blackhole
                  group_wait: 0s
                receivers:
                  - name: blackhole
                """);
        Files.createDirectories(tmp.resolve("data"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        base = "http://127.0.0.1:" + port;
        alertmanager = new ProcessBuilder(BINARY.toString(),
                "--config.file=" + tmp.resolve("am.yml"),
                "--storage.path=" + tmp.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--cluster.listen-address=")
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("alertmanager.log").toFile())
                .start();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(alertmanager.isAlive()).as("alertmanager exited: %s", log()).isTrue();
            return status("/-/ready") == 200;
        });
    }

    @AfterEach
    void stop() throws Exception {
        if (alerter != null) {
            alerter.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (alertmanager != null) {
            alertmanager.destroy(); // SIGTERM to this PID only
            if (!alertmanager.waitFor(10, TimeUnit.SECONDS)) {
                alertmanager.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private String log() {
        try {
            return Files.readString(tmp.resolve("alertmanager.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private int status(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Alertmanager's alerts named FulcrumServerDown, as it reports them. */
    private List<JsonNode> serverDownAlerts() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v2/alerts"))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        List<JsonNode> found = new ArrayList<>();
        for (JsonNode alert : JSON.readTree(response.body())) {
            if (alert.path("labels").path("alertname").asText().equals("FulcrumServerDown")) {
                found.add(alert);
            }
        }
        return found;
    }

    @Test
    void serverDownAppearsInAlertmanagerAndIsResolved() throws Exception {
        registry = new Registry(Clock.systemUTC());
        PoolRuntime pool = registry.addPool(new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                List.of(new ServerEntry(new HostPort("127.0.0.1", 9101), 1),
                        new ServerEntry(new HostPort("127.0.0.1", 9102), 1)),
                Duration.ofSeconds(2), Duration.ofSeconds(30), 2, Duration.ZERO, Duration.ofSeconds(30), 0,
                null, null));
        WebhookAlertSink sink = new WebhookAlertSink(URI.create(base + "/api/v2/alerts"), Duration.ofSeconds(2),
                "http://127.0.0.1:9901/", 64, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofMinutes(5),
                Clock.systemUTC());
        alerter = new Alerter("edge-1", Clock.systemUTC(), List.of(sink)).attach(registry);
        Server server = registry.server(pool, "127.0.0.1:9102");

        registry.setCheck(pool, server, CheckState.DOWN, "3 checks failed: connection refused");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> !serverDownAlerts().isEmpty());
        JsonNode alert = serverDownAlerts().getFirst();
        assertThat(alert.path("labels").path("severity").asText()).isEqualTo("critical");
        assertThat(alert.path("labels").path("instance").asText()).isEqualTo("edge-1");
        assertThat(alert.path("labels").path("pool").asText()).isEqualTo("app");
        assertThat(alert.path("labels").path("server").asText()).isEqualTo("127.0.0.1:9102");
        assertThat(alert.path("annotations").path("description").asText())
                .isEqualTo("3 checks failed: connection refused");
        assertThat(alert.path("status").path("state").asText()).isEqualTo("active");
        assertThat(alert.path("generatorURL").asText()).isEqualTo("http://127.0.0.1:9901/");

        registry.setCheck(pool, server, CheckState.UP, "2 checks passed");
        // resolved: Alertmanager drops it from its active alerts (or reports it as no longer active)
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() ->
                serverDownAlerts().stream().noneMatch(a -> a.path("status").path("state").asText().equals("active")));
    }
}
