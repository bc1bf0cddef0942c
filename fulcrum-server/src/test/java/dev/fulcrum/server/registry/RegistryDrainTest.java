package dev.fulcrum.server.registry;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.control.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.fulcrum.server.registry.SimulatedRegistry.parse;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drains, removals and reloads on the control thread, in simulated time: a removal ends at the
 * first poll after the server is idle or at its {@code drain-timeout}, and a reload that lists a
 * server whose drain is finishing keeps it (or adds it again), never answers "applied" and then
 * loses it.
 */
class RegistryDrainTest {

    private static final String CONFIG = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}, {address: 127.0.0.1:9102, weight: 2}]
                health-check: {type: none}
                drain-timeout: 5s
            """;
    private static final String WITHOUT_9102 = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
                drain-timeout: 5s
            """;

    private final SimulatedRegistry sim = new SimulatedRegistry(CONFIG);
    private final ManualScheduler time = sim.time;
    private final Registry registry = sim.registry;
    private final List<PoolEvent> events = sim.events;
    private final PoolRuntime pool = registry.pool("app");
    private final Server server = registry.server(pool, "127.0.0.1:9102");

    @AfterEach
    void close() {
        sim.close();
    }

    private List<String> ids() {
        return pool.pool().servers().stream().map(Server::id).toList();
    }

    private void advanceMs(long ms) {
        time.advance(Duration.ofMillis(ms));
    }

    private List<String> wire() {
        return events.stream().map(e -> e.wireName() + " " + e.server().id() + ": " + e.detail()).toList();
    }

    @Test
    void anIdleServerIsRemovedAtTheNextPoll() {
        registry.removeServer("app", server.id());
        assertThat(server.state()).isEqualTo(ServerState.DRAINING);
        assertThat(pool.snapshot().balancer().servers()).noneMatch(w -> w.server() == server);
        advanceMs(Registry.DRAIN_POLL.toMillis() - 1);
        assertThat(ids()).contains(server.id());
        advanceMs(1);
        assertThat(ids()).containsExactly("127.0.0.1:9101");
        assertThat(server.isRemoved()).isTrue();
        assertThat(wire()).containsExactly(
                "server-draining 127.0.0.1:9102: removal requested; in-flight 0",
                "server-removed 127.0.0.1:9102: drained");
    }

    @Test
    void aBusyServerIsRemovedWhenItsLastRequestEnds() {
        server.requestStarted();
        registry.removeServer("app", server.id());
        advanceMs(2000);
        assertThat(ids()).contains(server.id());
        server.requestFinished();
        advanceMs(Registry.DRAIN_POLL.toMillis());
        assertThat(ids()).doesNotContain(server.id());
        assertThat(events.getLast().detail()).isEqualTo("drained");
    }

    @Test
    void aStuckServerIsRemovedWhenItsDrainTimeoutPasses() {
        server.requestStarted();
        registry.removeServer("app", server.id());
        advanceMs(4999);
        assertThat(ids()).as("before drain-timeout").contains(server.id());
        advanceMs(1);
        assertThat(ids()).as("at drain-timeout").doesNotContain(server.id());
        assertThat(events.getLast()).isInstanceOf(PoolEvent.ServerRemoved.class);
        assertThat(events.getLast().detail()).isEqualTo("drain-timeout passed with 1 in flight");
    }

    /** The reload is due at the same instant as the drain's end, and runs first: it keeps the server. */
    @Test
    void aReloadListingAServerAtTheMomentItsDrainEndsKeepsIt() {
        server.requestStarted();
        registry.applyPools(parse(WITHOUT_9102).pools()); // drops 9102: its removal starts, deadline 5s
        assertThat(server.isBeingRemoved()).isTrue();
        CompletableFuture<String> answer = new CompletableFuture<>();
        // scheduled now, so ahead of the drain timer's poll for the same instant
        time.schedule(Duration.ofSeconds(5), () -> answer.complete(reload(CONFIG)));
        advanceMs(5000);
        assertThat(answer).isCompletedWithValue("applied");
        assertThat(registry.server(pool, "127.0.0.1:9102")).as("the same server, kept").isSameAs(server);
        assertThat(server.state()).isEqualTo(ServerState.UP);
        assertThat(server.isBeingRemoved()).isFalse();
        advanceMs(60_000);
        assertThat(ids()).containsExactly("127.0.0.1:9101", "127.0.0.1:9102");
        assertThat(events).noneMatch(e -> e instanceof PoolEvent.ServerRemoved);
        assertThat(events.getLast().wireName()).isEqualTo("server-enabled");
        assertThat(events.getLast().detail()).isEqualTo("listed again by the reloaded config");
    }

    /** The reload is due at the same instant, after the drain ended: it registers the server again. */
    @Test
    void aReloadListingAServerJustAfterItsDrainEndedAddsItAgain() {
        server.requestStarted();
        registry.applyPools(parse(WITHOUT_9102).pools());
        advanceMs(4960); // the poll for 5.000 s is scheduled already
        CompletableFuture<String> answer = new CompletableFuture<>();
        time.schedule(Duration.ofMillis(40), () -> answer.complete(reload(CONFIG)));
        advanceMs(40);
        assertThat(answer).isCompletedWithValue("applied");
        assertThat(server.isRemoved()).isTrue();
        Server again = registry.server(pool, "127.0.0.1:9102");
        assertThat(again).isNotSameAs(server);
        assertThat(again.state()).isEqualTo(ServerState.UP);
        assertThat(again.weight()).isEqualTo(2);
        advanceMs(60_000);
        assertThat(ids()).containsExactly("127.0.0.1:9101", "127.0.0.1:9102");
        assertThat(events.stream().map(PoolEvent::wireName)).containsSubsequence("server-removed", "server-added");
    }

    /** What {@code POST /api/v1/reload} answers: the pools are applied in one command. */
    private String reload(String yaml) {
        registry.applyPools(parse(yaml).pools());
        return "applied";
    }

    @Test
    void aReloadChangingAWeightReportsIt() {
        registry.applyPools(parse(CONFIG.replace("weight: 2", "weight: 5")).pools());
        assertThat(server.weight()).isEqualTo(5);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e).isEqualTo(new PoolEvent.WeightChanged(time.now(), pool, server, 2, 5,
                    "weight 2 to 5 by the reloaded config"));
            assertThat(e.wire().type()).isEqualTo("server-weight-changed");
        });
        registry.applyPools(parse(CONFIG.replace("weight: 2", "weight: 5")).pools());
        assertThat(events).as("an unchanged weight says nothing").hasSize(1);
    }

    @Test
    void theRemovalIsTheServersFlagWithItsDeadlineUntilTheDrainEnds() {
        server.requestStarted();
        registry.removeServer("app", server.id());
        assertThat(server.removalDeadline()).isEqualTo(time.now().plusSeconds(5));
        advanceMs(1000);
        registry.removeServer("app", server.id());
        assertThat(server.removalDeadline()).as("asked again: the first deadline holds")
                .isEqualTo(time.now().plusSeconds(4));
        assertThat(events).as("and no second event").hasSize(1);
        server.requestFinished();
        advanceMs(Registry.DRAIN_POLL.toMillis());
        assertThat(server.isRemoved()).isTrue();
        assertThat(server.isBeingRemoved()).as("done, not pending").isFalse();
        assertThat(time.pending()).as("the drain timer stops with nothing pending").isZero();
    }

    @Test
    void theApiAddsAnAddressAgainOnlyOnceItsRemovalEnded() {
        registry.removeServer("app", server.id());
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> registry.addServer("app", server.address(), 2))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already in pool app");
        advanceMs(Registry.DRAIN_POLL.toMillis());
        Server again = registry.addServer("app", server.address(), 2);
        assertThat(again).isNotSameAs(server);
        assertThat(again.isBeingRemoved()).isFalse();
        assertThat(again.state()).isEqualTo(ServerState.UP);
        advanceMs(60_000);
        assertThat(ids()).containsExactly("127.0.0.1:9101", "127.0.0.1:9102");
    }

    @Test
    void enablingAServerBeingRemovedIsRefused() {
        registry.removeServer("app", server.id());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> registry.enableServer("app", server.id()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is being removed");
    }
}
