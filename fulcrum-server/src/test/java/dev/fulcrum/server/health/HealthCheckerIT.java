package dev.fulcrum.server.health;

import dev.fulcrum.server.metrics.ControlMetrics;
import com.sun.net.httpserver.HttpServer;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.RegistryEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Active checks against real servers on loopback. */
class HealthCheckerIT {

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();
    private final ControlMetrics metrics = ControlMetrics.unregistered();
    private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    /** An HTTP server whose /health answers {@code status}; counts hits, remembers the Host header. */
    private final class Backend {
        final AtomicInteger status = new AtomicInteger(200);
        final AtomicInteger hits = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicLong lastHitNanos = new java.util.concurrent.atomic.AtomicLong();
        final AtomicReference<String> host = new AtomicReference<>();
        final HttpServer http;

        Backend() throws IOException {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            http.createContext("/health", exchange -> {
                hits.incrementAndGet();
                lastHitNanos.set(System.nanoTime());
                host.set(exchange.getRequestHeaders().getFirst("Host"));
                exchange.sendResponseHeaders(status.get(), -1);
                exchange.close();
            });
            http.start();
            toClose.add(() -> http.stop(0));
        }

        HostPort address() {
            return new HostPort("127.0.0.1", http.getAddress().getPort());
        }
    }

    private Registry registry(dev.fulcrum.server.config.FulcrumConfig.PoolConfig pool) {
        Registry registry = new Registry(Clock.systemUTC());
        toClose.add(registry);
        registry.addPool(pool);
        registry.onEvent(e -> events.add(e.wire()));
        return registry;
    }

    private HealthChecker checker(Registry registry) {
        HealthChecker checker = new HealthChecker(registry, RandomGenerator.of("L64X128MixRandom"),
                metrics::healthCheck, Prober.netty(registry.control()));
        toClose.add(checker);
        return checker;
    }

    private RegistryEvent awaitEvent(String type, String server) {
        await().atMost(Duration.ofSeconds(10)).until(() -> find(type, server) != null);
        return find(type, server);
    }

    private RegistryEvent find(String type, String server) {
        return events.stream().filter(e -> e.type().equals(type) && e.server().equals(server)).findFirst().orElse(null);
    }

    @Test
    void serverAnswering503GoesDownAfterFallChecksThenComesBackAfterRisePasses() throws Exception {
        Backend backend = new Backend();
        // timeout well above what a loopback /health takes, so every failure below is the 503
        Registry registry = registry(Pools.pool("app", Pools.check(CheckType.HTTP, 300, 250, 2, 3), backend.address()));
        PoolRuntime pool = registry.pool("app");
        Server server = pool.pool().servers().getFirst();
        // Asserted inside the listener: when server-down is reported, the published snapshot
        // must already have left the server out of rotation.
        AtomicReference<Boolean> inRotationAtDownEvent = new AtomicReference<>();
        registry.onEvent(e -> {
            if (e instanceof PoolEvent.ServerDown) {
                inRotationAtDownEvent.set(pool.snapshot().balancer().servers().stream()
                        .anyMatch(w -> w.server() == server));
            }
        });
        HealthChecker checker = checker(registry);
        await().atMost(Duration.ofSeconds(5)).until(() -> checker.lastCheck(server).isPresent());
        assertThat(checker.lastCheck(server).orElseThrow().detail()).matches("200 in \\d+ms");
        assertThat(backend.host.get()).isEqualTo(backend.address().toString());

        backend.status.set(503);
        RegistryEvent down = awaitEvent("server-down", server.id());
        assertThat(down.detail()).isEqualTo("3 checks failed: status 503");
        assertThat(inRotationAtDownEvent.get()).isFalse();
        assertThat(server.state()).isEqualTo(ServerState.DOWN);
        assertThat(pool.snapshot().hasServerUp()).isFalse();
        CheckResult last = checker.lastCheck(server).orElseThrow();
        assertThat(last.ok()).isFalse();
        assertThat(last.detail()).isEqualTo("status 503");
        assertThat(metrics.checks("app", server.id()).failed()).isGreaterThanOrEqualTo(3);
        assertThat(checker.passing(server)).isFalse();

        backend.status.set(204);
        RegistryEvent up = awaitEvent("server-up", server.id());
        assertThat(up.detail()).isEqualTo("2 checks passed");
        assertThat(pool.snapshot().hasServerUp()).isTrue();
        assertThat(checker.passing(server)).isTrue();
        // exactly one event per transition
        assertThat(events).filteredOn(e -> e.type().startsWith("server-down") || e.type().equals("server-up"))
                .extracting(RegistryEvent::type).containsExactly("server-down", "server-up");
    }

    @Test
    void serverThatAcceptsButNeverAnswersGoesDownByTimeout() throws Exception {
        // The kernel completes the handshake from the backlog; nobody ever reads or answers.
        ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        toClose.add(silent);
        HostPort address = new HostPort("127.0.0.1", silent.getLocalPort());
        Registry registry = registry(Pools.pool("app", Pools.check(CheckType.HTTP, 250, 150, 2, 2), address));
        Server server = registry.pool("app").pool().servers().getFirst();
        checker(registry);
        RegistryEvent down = awaitEvent("server-down", server.id());
        assertThat(down.detail()).isEqualTo("2 checks failed: timeout after 150ms");
    }

    @Test
    void closedPortGoesDownWithConnectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HostPort address = new HostPort("127.0.0.1", port);
        Registry registry = registry(Pools.pool("app", Pools.check(CheckType.TCP, 200, 150, 2, 3), address));
        Server server = registry.pool("app").pool().servers().getFirst();
        HealthChecker checker = checker(registry);
        RegistryEvent down = awaitEvent("server-down", server.id());
        assertThat(down.detail()).isEqualTo("3 checks failed: connection refused");
        assertThat(checker.lastCheck(server).orElseThrow().detail()).isEqualTo("connection refused");

        // a tcp check passes as soon as something listens there again
        try (ServerSocket back = new ServerSocket()) {
            back.setReuseAddress(true);
            back.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            RegistryEvent up = awaitEvent("server-up", server.id());
            assertThat(up.detail()).isEqualTo("2 checks passed");
            assertThat(checker.lastCheck(server).orElseThrow().detail()).matches("connected in \\d+ms");
        }
    }

    @Test
    void newServerIsCheckedAtOnce() throws Exception {
        Backend backend = new Backend();
        // interval 2s: waiting for the first interval would take 1.8s or more
        Registry registry = registry(Pools.pool("app", Pools.check(CheckType.HTTP, 2000, 1000, 2, 3)));
        HealthChecker checker = checker(registry);
        Server server = registry.addServer("app", backend.address(), 1);
        assertThat(server.state()).isEqualTo(ServerState.CHECKING);
        assertThat(registry.pool("app").snapshot().hasServerUp()).isFalse();
        long added = System.nanoTime();
        await().atMost(Duration.ofMillis(1000)).pollInterval(Duration.ofMillis(5))
                .until(() -> server.state() == ServerState.UP);
        long tookMs = (System.nanoTime() - added) / 1_000_000;
        assertThat(tookMs).isLessThan(1000);
        System.out.printf("measured: added -> up %d ms (interval 2000 ms)%n", tookMs);
        assertThat(awaitEvent("server-up", server.id()).detail()).isEqualTo("1 check passed");
        assertThat(metrics.checks("app", server.id())).isEqualTo(new ControlMetrics.Checks(1, 0));
        assertThat(registry.pool("app").snapshot().hasServerUp()).isTrue();
    }

    @Test
    void removedServerIsNoLongerChecked() throws Exception {
        Backend backend = new Backend();
        Registry registry = registry(Pools.pool("app", Pools.check(CheckType.HTTP, 200, 150, 2, 3), backend.address()));
        checker(registry);
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.hits.get() >= 2);
        registry.removeServer("app", backend.address().toString());
        awaitEvent("server-removed", backend.address().toString());
        // a check already on the wire may still land; after it, five intervals (1s) without one
        await().atMost(Duration.ofSeconds(3))
                .until(() -> System.nanoTime() - backend.lastHitNanos.get() > 1_000_000_000L);
    }

    @Test
    void serversRegisteredBeforeTheCheckerStayUpAndTypeNoneIsNotChecked() throws Exception {
        Backend backend = new Backend();
        Registry registry = new Registry(Clock.systemUTC());
        toClose.add(registry);
        registry.addPool(Pools.pool("checked", Pools.check(CheckType.HTTP, 200, 150, 2, 3), backend.address()));
        registry.addPool(Pools.pool("unchecked", Pools.check(CheckType.NONE, 200, 150, 2, 3), backend.address()));
        HealthChecker checker = checker(registry);
        Server checked = registry.pool("checked").pool().servers().getFirst();
        Server unchecked = registry.pool("unchecked").pool().servers().getFirst();
        assertThat(checked.state()).isEqualTo(ServerState.UP);
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.checks("checked", checked.id()).passed() >= 2);
        assertThat(checker.lastCheck(unchecked)).isEmpty();
        assertThat(checker.passing(unchecked)).isTrue();
        // a server added to a pool without checks is up at once
        Server added = registry.addServer("unchecked", new HostPort("127.0.0.1", 1), 1);
        assertThat(added.state()).isEqualTo(ServerState.UP);
    }

    @Test
    void reloadApplyingNewChecksOrTurningThemOff() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HostPort address = new HostPort("127.0.0.1", port);
        Registry registry = registry(Pools.pool("app", Pools.check(CheckType.TCP, 200, 150, 2, 3), address));
        Server server = registry.pool("app").pool().servers().getFirst();
        checker(registry);
        assertThat(awaitEvent("server-down", server.id()).detail()).isEqualTo("3 checks failed: connection refused");

        // reload: checks off -> nothing would ever bring the server back, so it is up
        registry.applyPools(List.of(Pools.pool("app", Pools.check(CheckType.NONE, 200, 150, 2, 3), address)));
        assertThat(awaitEvent("server-up", server.id()).detail()).isEqualTo("health checks turned off");
        assertThat(server.state()).isEqualTo(ServerState.UP);

        // reload: checks on again (fall 1 now), picked up on config-reloaded
        registry.applyPools(List.of(Pools.pool("app", Pools.check(CheckType.TCP, 200, 150, 2, 1), address)));
        events.clear();
        registry.emit(new PoolEvent.ConfigReloaded(registry.now(), "test"));
        assertThat(awaitEvent("server-down", server.id()).detail()).isEqualTo("1 check failed: connection refused");
    }
}
