package dev.fulcrum.server.health;

import dev.fulcrum.server.metrics.ControlMetrics;
import com.sun.net.httpserver.HttpServer;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.alert.LogAlertSink;
import dev.fulcrum.server.alert.WebhookAlertSink;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.AlertReceiver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Health checks, registry and alerts together, without the proxy: a backend stops, leaves rotation
 * within {@code interval × fall + timeout} (plus margin), and the firing alert reaches an HTTP
 * receiver; it comes back after {@code rise} passes and the resolution is delivered.
 */
class HealthAlertsIT {

    private static final long INTERVAL_MS = 250;
    private static final long TIMEOUT_MS = 200;
    private static final int RISE = 2;
    private static final int FALL = 3;

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private HttpServer backend(int port) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        http.createContext("/health", ex -> {
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        http.start();
        return http;
    }

    @Test
    void stoppedServerLeavesRotationAndAlertsThenComesBackResolved() throws Exception {
        AlertReceiver receiver = AlertReceiver.start();
        toClose.add(receiver);

        HttpServer a = backend(0);
        HttpServer b = backend(0);
        toClose.add(() -> a.stop(0));
        int portB = b.getAddress().getPort();
        HostPort addressB = new HostPort("127.0.0.1", portB);

        Registry registry = new Registry(Clock.systemUTC());
        toClose.add(registry);
        registry.addPool(Pools.pool("app", Pools.check(CheckType.HTTP, INTERVAL_MS, TIMEOUT_MS, RISE, FALL),
                new HostPort("127.0.0.1", a.getAddress().getPort()), addressB));
        WebhookAlertSink webhook = new WebhookAlertSink(URI.create(receiver.url()),
                Duration.ofSeconds(2), "http://127.0.0.1:9901/", 64, Duration.ofMillis(100), Duration.ofSeconds(1),
                Duration.ofMinutes(5), Clock.systemUTC());
        Alerter alerter = new Alerter("edge-1", Clock.systemUTC(), List.of(new LogAlertSink(), webhook)).attach(registry);
        toClose.add(alerter);
        ControlMetrics metrics = ControlMetrics.unregistered();
        HealthChecker checker = new HealthChecker(registry, metrics::healthCheck);
        toClose.add(checker);
        PoolRuntime pool = registry.pool("app");
        Server serverB = registry.server(pool, addressB.toString());
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.checks("app", serverB.id()).passed() >= 1);

        long stopped = System.nanoTime();
        b.stop(0);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> pool.snapshot().balancer().servers().stream().noneMatch(w -> w.server() == serverB));
        long outOfRotationMs = (System.nanoTime() - stopped) / 1_000_000;
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> receiver.first(Alerter.SERVER_DOWN, addressB.toString(), false).isPresent());
        AlertReceiver.Received firing = receiver.first(Alerter.SERVER_DOWN, addressB.toString(), false).orElseThrow();
        long alertedMs = (firing.atNanos() - stopped) / 1_000_000;
        assertThat(firing.description()).isEqualTo("3 checks failed: connection refused");
        // the other server is still up: no pool-down alert
        assertThat(receiver.all()).noneMatch(r -> r.name().equals(Alerter.POOL_DOWN));
        // bound: interval × fall (+ jitter) + timeout, with a generous margin for a loaded machine
        long bound = (long) (INTERVAL_MS * 1.1) * FALL + TIMEOUT_MS + 2000;
        assertThat(outOfRotationMs).isLessThan(bound);
        System.out.printf("measured: stop -> out of rotation %d ms, stop -> alert delivered %d ms (bound %d ms)%n",
                outOfRotationMs, alertedMs, bound);

        HttpServer again = backend(portB);
        toClose.add(() -> again.stop(0));
        long restarted = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                .until(() -> pool.snapshot().balancer().servers().stream().anyMatch(w -> w.server() == serverB));
        long backMs = (System.nanoTime() - restarted) / 1_000_000;
        await().atMost(Duration.ofSeconds(10))
                .until(() -> receiver.first(Alerter.SERVER_DOWN, addressB.toString(), true).isPresent());
        AlertReceiver.Received resolved = receiver.first(Alerter.SERVER_DOWN, addressB.toString(), true).orElseThrow();
        assertThat(resolved.alert().path("labels")).isEqualTo(firing.alert().path("labels"));
        assertThat(resolved.description()).isEqualTo("2 checks passed");
        System.out.printf("measured: restart -> back in rotation %d ms (rise %d, interval %d ms)%n",
                backMs, RISE, INTERVAL_MS);
    }
}
