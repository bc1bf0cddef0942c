package dev.fulcrum.server.registry;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.config.FulcrumConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Admin calls, reloads and health flaps from several threads at once, for a bounded time, on the
 * real control thread: every command is applied whole and in one order, so the final state is
 * what the last successful command of each kind implies, and nothing is logged as failed.
 * {@code AdminHammerIT} hammers the same way through the admin API's HTTP, with real servers and
 * reloads of a real file; this test keeps the ordering of the commands themselves quick to check.
 */
class RegistryHammerTest {

    private static final String CONFIG = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}, {address: 127.0.0.1:9102}, {address: 127.0.0.1:9103, weight: %d}]
                health-check: {type: none}
                drain-timeout: 1s
            """;
    private static final Duration RUN = Duration.ofMillis(1500);

    private final Registry registry = Registry.fromConfig(config(1), Clock.systemUTC());
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    /** Thousands of events: their INFO lines are left out, warnings still reach the appender. */
    private final Logger registryLog = (Logger) LoggerFactory.getLogger(Registry.class);
    private final Level registryLevel = registryLog.getLevel();

    private static FulcrumConfig config(int weight) {
        return SimulatedRegistry.parse(CONFIG.formatted(weight));
    }

    @AfterEach
    void close() {
        root.detachAppender(log);
        registryLog.setLevel(registryLevel);
        registry.close();
    }

    @Test
    void theFinalStateIsWhatTheLastCommandsImply() throws Exception {
        log.start();
        root.addAppender(log);
        registryLog.setLevel(Level.WARN);
        PoolRuntime pool = registry.pool("app");
        Server drained = registry.server(pool, "127.0.0.1:9101");
        Server flapping = registry.server(pool, "127.0.0.1:9102");
        AtomicReference<Boolean> lastDrain = new AtomicReference<>(false);
        AtomicReference<CheckState> lastCheck = new AtomicReference<>(CheckState.UP);
        AtomicReference<Integer> lastWeight = new AtomicReference<>(1);
        AtomicReference<Boolean> lastAdded = new AtomicReference<>(false);
        long end = System.nanoTime() + RUN.toNanos();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        Runnable[] workers = {
            () -> { // an operator draining and enabling
                boolean drain = ThreadLocalRandom.current().nextBoolean();
                if (drain) {
                    registry.drainServer("app", drained.id());
                } else {
                    registry.enableServer("app", drained.id());
                }
                lastDrain.set(drain);
            },
            () -> { // health checks flapping
                CheckState check = ThreadLocalRandom.current().nextBoolean() ? CheckState.UP : CheckState.DOWN;
                registry.setCheck(pool, flapping, check, "flap");
                lastCheck.set(check);
            },
            () -> { // reloads changing a weight
                int weight = ThreadLocalRandom.current().nextInt(1, 6);
                registry.applyPools(config(weight).pools());
                lastWeight.set(weight);
            },
            () -> { // servers added and removed through the API
                try {
                    if (ThreadLocalRandom.current().nextBoolean()) {
                        registry.addServer("app", HostPort.parse("127.0.0.1:9105"), 1);
                        lastAdded.set(true);
                    } else {
                        registry.removeServer("app", "127.0.0.1:9105");
                        lastAdded.set(false);
                    }
                } catch (IllegalStateException | NoSuchElementException conflict) {
                    // 409 / 404 as the API answers: already there (maybe draining), or not there
                }
            },
        };
        for (Runnable worker : workers) {
            // each kind of command from its own thread, so "last" is well defined per kind
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    while (System.nanoTime() < end) {
                        worker.run();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(RUN.toMillis() + 15_000);
        }
        assertThat(failures).isEmpty();

        assertThat(drained.isDraining()).isEqualTo(lastDrain.get());
        assertThat(flapping.check()).isEqualTo(lastCheck.get());
        assertThat(registry.server(pool, "127.0.0.1:9103").weight()).isEqualTo(lastWeight.get());
        // a removal ends at the drain timer's next poll
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            var extra = pool.pool().find("127.0.0.1:9105");
            if (lastAdded.get()) {
                assertThat(extra).hasValueSatisfying(s -> assertThat(s.isDraining()).isFalse());
            } else {
                assertThat(extra).isEmpty();
            }
        });
        // the published snapshot agrees with the flags
        assertThat(pool.snapshot().balancer().servers().stream().map(w -> w.server().id()))
                .containsExactlyInAnyOrderElementsOf(pool.pool().servers().stream()
                        .filter(s -> s.state() == ServerState.UP).map(Server::id).toList());
        assertThat(log.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }
}
