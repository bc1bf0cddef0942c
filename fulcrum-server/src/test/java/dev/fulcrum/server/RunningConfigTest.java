package dev.fulcrum.server;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.SimulatedRegistry;
import dev.fulcrum.server.net.StartException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A reload as one command on the control thread — pools, listeners, the config, its event — with
 * listeners that bind in memory (or fail to, as a taken address does): in simulated time, and once
 * on the real control thread for the caller's wait.
 */
class RunningConfigTest {

    private static final String CONFIG = """
            name: edge
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
              - {name: api, listen: 127.0.0.1:8081, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
                drain-timeout: 7s
            """;
    /** web unchanged, api moved to 8082, extra new; pool app has a second server. */
    private static final String NEXT = """
            name: edge
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
              - {name: api, listen: 127.0.0.1:8082, pool: app}
              - {name: extra, listen: 127.0.0.1:8083, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}, {address: 127.0.0.1:9102}]
                health-check: {type: none}
                drain-timeout: 7s
            """;

    private final SimulatedRegistry sim = new SimulatedRegistry(CONFIG);
    private final ManualScheduler time = sim.time;
    private final Registry registry = sim.registry;
    private final List<PoolEvent> events = sim.events;
    /** Addresses a bind fails on, as if another process held them. */
    private final Set<String> taken = new HashSet<>();
    /** Every listener built, in order. */
    private final List<FakeListener> built = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        sim.close();
    }

    private RunningConfig started(FulcrumConfig config, Registry registry) {
        return started(config, registry, AccessLog.OFF);
    }

    private RunningConfig started(FulcrumConfig config, Registry registry, AccessLog accessLog) {
        List<ListenerRuntime> listeners = new ArrayList<>();
        for (Listener entry : config.listeners()) {
            FakeListener l = new FakeListener(entry);
            l.start().join();
            listeners.add(l);
        }
        return new RunningConfig(config, registry, (entry, instance) -> {
            FakeListener l = new FakeListener(entry);
            built.add(l);
            return l;
        }, listeners, accessLog);
    }

    private static List<String> names(List<ListenerRuntime> listeners) {
        return listeners.stream().map(l -> l.name() + (l.isAccepting() ? "" : " (stopped)")).toList();
    }

    private List<String> wire() {
        return events.stream().map(e -> e.wireName() + ": " + e.detail()).toList();
    }

    @Test
    void aReloadReplacesPoolsListenersAndConfigInOneCommand() {
        RunningConfig running = started(sim.config, registry);
        List<ListenerRuntime> before = running.listeners();
        FulcrumConfig next = SimulatedRegistry.parse(NEXT);

        running.reload(next);

        assertThat(running.listeners().getFirst()).as("web unchanged: same socket").isSameAs(before.getFirst());
        assertThat(names(running.listeners())).containsExactly("web", "api", "extra");
        assertThat(running.listeners().get(1)).as("api changed: replaced").isNotSameAs(before.get(1));
        assertThat(before.get(1).isAccepting()).isFalse();
        assertThat(((FakeListener) before.get(1)).drainedFor).isEqualTo(Duration.ofSeconds(7));
        assertThat(running.config()).isSameAs(next);
        assertThat(wire()).containsExactly("server-added: weight 1", "config-reloaded: applied");
    }

    @Test
    void aListenerWhoseRoutesAloneChangedTakesThemInPlace() {
        RunningConfig running = started(sim.config, registry);
        List<ListenerRuntime> before = running.listeners();
        FulcrumConfig next = SimulatedRegistry.parse(CONFIG.replace(
                "- {name: web, listen: 127.0.0.1:8080, pool: app}",
                "- {name: web, listen: 127.0.0.1:8080, routes: [{name: all, pool: app}]}").replace(
                "- {name: api, listen: 127.0.0.1:8081, pool: app}",
                "- {name: api, listen: 127.0.0.1:8081, max-connections: 10, routes: [{name: all, pool: app}]}"));

        running.reload(next);

        assertThat(running.listeners().getFirst()).as("web: same socket, new routes").isSameAs(before.getFirst());
        assertThat(((FakeListener) before.getFirst()).reconfiguredTo).isEqualTo(next.listeners().getFirst());
        assertThat(before.getFirst().isAccepting()).isTrue();
        assertThat(running.listeners().get(1)).as("api changed more than its routes: replaced")
                .isNotSameAs(before.get(1));
        assertThat(built).extracting(FakeListener::name).containsExactly("api");
    }

    @Test
    void aListenerThatCannotBindFailsTheReloadInOneLineAndTheRestStaysApplied() {
        RunningConfig running = started(sim.config, registry);
        FulcrumConfig next = SimulatedRegistry.parse(NEXT);
        taken.add("127.0.0.1:8082");

        assertThatThrownBy(() -> running.reload(next)).isInstanceOf(StartException.class)
                .hasMessage("listener api: cannot listen on 127.0.0.1:8082: address already in use");

        assertThat(registry.pool("app").pool().servers()).extracting(Server::id)
                .as("the pools are applied").containsExactly("127.0.0.1:9101", "127.0.0.1:9102");
        assertThat(names(running.listeners())).as("the listeners that bound run").containsExactly("web", "extra");
        assertThat(running.config()).isSameAs(next);
        assertThat(wire()).last().isEqualTo(
                "config-reloaded: listener api: cannot listen on 127.0.0.1:8082: address already in use");
    }

    /** Certificates renewed in place under unchanged paths: a kept listener reads them again. */
    @Test
    void aReloadReReadsTheCertificatesOfTheListenersItKeeps() {
        RunningConfig running = started(sim.config, registry);
        List<ListenerRuntime> before = running.listeners();

        running.reload(SimulatedRegistry.parse(NEXT));

        assertThat(((FakeListener) before.getFirst()).certificateReloads).as("web, unchanged").isEqualTo(1);
        assertThat(((FakeListener) before.get(1)).certificateReloads).as("api, replaced").isZero();
        assertThat(built).as("new listeners load theirs when they start")
                .allSatisfy(l -> assertThat(l.certificateReloads).isZero());
    }

    @Test
    void aCertificateThatDoesNotLoadIsSaidInTheReloadsOneLineAndTheRestStaysApplied() {
        RunningConfig running = started(sim.config, registry);
        String problem = "listener web: cannot load the TLS certificate or key: /etc/fulcrum/cert.pem: no such file;"
                + " keeping the certificates loaded before";
        ((FakeListener) running.listeners().getFirst()).certificateProblem = problem;
        FulcrumConfig next = SimulatedRegistry.parse(NEXT);

        assertThatThrownBy(() -> running.reload(next)).isInstanceOf(StartException.class).hasMessage(problem);

        assertThat(names(running.listeners())).containsExactly("web", "api", "extra");
        assertThat(running.config()).isSameAs(next);
        assertThat(wire()).last().isEqualTo("config-reloaded: " + problem);
    }

    /** The access log follows the file: a section added turns it on, removed turns it off. */
    @Test
    void aReloadAppliesAChangedAccessLogSection(@TempDir Path dir) {
        AccessLog accessLog = AccessLog.start(null);
        try {
            RunningConfig running = started(sim.config, registry, accessLog);
            running.reload(SimulatedRegistry.parse(CONFIG + "access-log: {path: " + dir.resolve("a.log") + "}\n"));
            assertThat(accessLog.enabled()).isTrue();
            running.reload(SimulatedRegistry.parse(CONFIG));
            assertThat(accessLog.enabled()).isFalse();
        } finally {
            accessLog.close(Duration.ofSeconds(5));
        }
    }

    /** A removal queued before the reload runs first, and the reload's plan sees it: the server is kept. */
    @Test
    void aReloadQueuedBehindACommandRunsAfterItAndSeesWhatItDid() {
        RunningConfig running = started(sim.config, registry);
        sim.control.execute(() -> registry.removeServer("app", "127.0.0.1:9101"));
        CompletableFuture<String> answer = new CompletableFuture<>();
        sim.control.execute(() -> {
            running.reload(SimulatedRegistry.parse(CONFIG));
            answer.complete("applied");
        });
        assertThat(events).as("nothing runs before its turn").isEmpty();
        time.runDue();
        assertThat(answer).isCompletedWithValue("applied");
        assertThat(wire()).containsExactly(
                "server-draining: removal requested; in-flight 0",
                "server-enabled: listed again by the reloaded config",
                "config-reloaded: applied");
        time.advance(Registry.DRAIN_POLL);
        assertThat(registry.pool("app").pool().servers()).extracting(Server::id).containsExactly("127.0.0.1:9101");
    }

    /** Stopping refuses a reload still queued: it binds nothing once the listeners are being closed. */
    @Test
    void noReloadRunsOnceReloadsAreStopped() {
        RunningConfig running = started(sim.config, registry);
        CompletableFuture<Void> queued = new CompletableFuture<>();
        sim.control.execute(() -> {
            try {
                running.reload(SimulatedRegistry.parse(NEXT));
                queued.complete(null);
            } catch (RuntimeException e) {
                queued.completeExceptionally(e);
            }
        });
        running.stopReloads();
        time.runDue();
        assertThat(queued.exceptionNow()).isInstanceOf(IllegalStateException.class).hasMessage("stopping");
        assertThatThrownBy(() -> running.reload(SimulatedRegistry.parse(NEXT))).hasMessage("stopping");
        assertThat(built).isEmpty();
        assertThat(events).isEmpty();
    }

    /**
     * On the real control thread: a reload from another thread waits behind the command running
     * there, and runs whole before the command queued after it; one sent from the control thread
     * itself runs inline instead of waiting for itself.
     */
    @Test
    void aCallerWaitsForTheReloadWhichRunsInOrderOnTheControlThread() throws Exception {
        try (ControlPlane control = ControlPlane.onThread(Clock.systemUTC())) {
            Registry onThread = Registry.fromConfig(SimulatedRegistry.parse(CONFIG), control);
            List<String> seen = new CopyOnWriteArrayList<>();
            onThread.onEvent(e -> seen.add(e.wireName() + " on " + Thread.currentThread().getName()));
            RunningConfig running = started(SimulatedRegistry.parse(CONFIG), onThread);
            CountDownLatch busy = new CountDownLatch(1);
            control.execute(() -> await(busy));

            FulcrumConfig next = SimulatedRegistry.parse(NEXT);
            CompletableFuture<Void> reload = new CompletableFuture<>();
            Thread caller = Thread.ofPlatform().name("reloading").start(() -> {
                running.reload(next);
                reload.complete(null);
            });
            // sent, and waiting for its answer: the next command queues behind it
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> caller.getState() == Thread.State.TIMED_WAITING);
            CompletableFuture<List<String>> after = control.submit(() -> names(running.listeners()));
            assertThat(reload).as("waits for the control thread").isNotDone();
            busy.countDown();

            reload.get(5, TimeUnit.SECONDS);
            assertThat(after.get(5, TimeUnit.SECONDS)).as("the next command sees it whole")
                    .containsExactly("web", "api", "extra");
            assertThat(seen).containsExactly("server-added on fulcrum-control", "config-reloaded on fulcrum-control");

            control.run(() -> running.reload(SimulatedRegistry.parse(CONFIG)));
            assertThat(names(running.listeners())).containsExactly("web", "api");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A listener in memory: binds unless its address is {@link #taken}; records how it was closed. */
    private final class FakeListener implements ListenerRuntime {
        private final Listener entry;
        private volatile boolean accepting;
        private volatile Duration drainedFor;
        /** The entry a reload handed over in place, or null. */
        private volatile Listener reconfiguredTo;
        private volatile int certificateReloads;
        /** What {@link #reloadCertificates} answers: null = loaded. */
        private volatile String certificateProblem;

        FakeListener(Listener entry) {
            this.entry = entry;
        }

        @Override
        public String name() {
            return entry.name();
        }

        @Override
        public CompletableFuture<Void> start() {
            if (taken.contains(entry.listen().toString())) {
                return CompletableFuture.failedFuture(new IllegalStateException("listener " + entry.name()
                        + ": cannot listen on " + entry.listen() + ": address already in use"));
            }
            accepting = true;
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean reconfigure(Listener next) {
            if (!entry.differsOnlyInRoutes(next)) {
                return false;
            }
            reconfiguredTo = next;
            return true;
        }

        @Override
        public String reloadCertificates() {
            certificateReloads++;
            return certificateProblem;
        }

        @Override
        public void stopAccepting() {
            accepting = false;
        }

        @Override
        public CompletableFuture<Void> closeGracefully(Duration timeout) {
            accepting = false;
            drainedFor = timeout;
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public int activeConnections() {
            return 0;
        }

        @Override
        public boolean isAccepting() {
            return accepting;
        }
    }
}
