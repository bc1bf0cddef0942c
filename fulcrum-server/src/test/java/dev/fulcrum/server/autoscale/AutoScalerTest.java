package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.autoscale.Sample;
import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.config.FulcrumConfig.Metric;
import dev.fulcrum.server.config.FulcrumConfig.Provisioner;
import dev.fulcrum.server.config.FulcrumConfig.ProvisionerType;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.ManualScheduler;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.registry.Registry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The auto-scaler's steps in simulated time: a scripted metric, a provisioner that answers at
 * once, provisioning run inline. One step per {@code metric.interval}, the cooldown between
 * actions, and a scaled-in server stopped once its drain ends.
 */
class AutoScalerTest {

    private final ControlPlane control = ManualScheduler.controlPlane();
    private final ManualScheduler time = ManualScheduler.of(control);
    private final Instant start = time.now();
    private final Registry registry = Registry.fromConfig(ConfigLoader.parse("""
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
                servers: [{address: 127.0.0.1:9101}]
                health-check: {type: none}
                drain-timeout: 2s
            """, "fulcrum.yaml", Map.of()), control);
    private final List<String> events = new ArrayList<>();
    private final List<String> stopped = new ArrayList<>();
    /** The value every server reports at the next scrape. */
    private double load;
    private final List<Sample> samples = new ArrayList<>();

    private final MetricReadings readings = new MetricReadings() {
        @Override
        public void scrape(Collection<HostPort> servers) {
            servers.forEach(s -> samples.add(new Sample(s.toString(), time.now(), load)));
        }

        @Override
        public List<Sample> samples() {
            return List.copyOf(samples);
        }

        @Override
        public void close() {
        }
    };

    /** Process ids the provisioner finds running when asked to take one over. */
    private final java.util.Set<Long> running = new java.util.HashSet<>();
    /** Servers whose processes the provisioner runs (for the process provisioner's part). */
    private final java.util.Set<HostPort> processes = new java.util.HashSet<>();

    private final dev.fulcrum.server.autoscale.Provisioner provisioner = new dev.fulcrum.server.autoscale.Provisioner() {
        private int next = 9201;

        @Override
        public boolean adopt(HostPort address, long pid, Instant started) {
            return running.contains(pid);
        }

        @Override
        public java.util.Set<HostPort> running() {
            return java.util.Set.copyOf(processes);
        }

        @Override
        public HostPort provision() {
            return new HostPort("127.0.0.1", next++);
        }

        @Override
        public void deprovision(HostPort address) {
            processes.remove(address);
            stopped.add(ms() + "ms " + address);
        }

        @Override
        public void close() {
        }
    };

    /** Runs provisioning on the caller's thread, so the test stays on one thread and in order. */
    private static final class Inline extends AbstractExecutorService {
        private boolean shutdown;

        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }

    private AutoScaler scaler;

    @AfterEach
    void close() {
        if (scaler != null) {
            scaler.close();
        }
        registry.close();
        control.close();
    }

    private long ms() {
        return Duration.between(start, time.now()).toMillis();
    }

    private AutoScaler start() {
        Autoscale config = new Autoscale("app", new Metric("/metrics", "process_cpu_usage", 1, Duration.ofSeconds(1)),
                0.80, 0.30, Duration.ofSeconds(10), Duration.ofSeconds(10), 1, 4,
                new Provisioner(ProvisionerType.EXEC, List.of(), 0, 0, List.of("true"), List.of("true")));
        registry.onEvent(e -> events.add(ms() + "ms " + e.wireName() + " "
                + (e.server() == null ? "" : e.server().id())));
        scaler = new AutoScaler(config, registry, provisioner, new FulcrumMetrics(registry).control(),
                new Alerter("edge-1", control.clock(), List.of()), readings, new Inline()).start();
        return scaler;
    }

    @Test
    void scalesOutOnAStepAboveTheThresholdHoldsForTheCooldownAndScalesInWhenIdle() {
        load = 0.9;
        start();
        time.runDue(); // the first scrape, at once
        time.advance(Duration.ofMillis(999));
        assertThat(events).as("no step before one interval").isEmpty();
        time.advance(Duration.ofMillis(1));
        assertThat(events).containsExactly("1000ms server-added 127.0.0.1:9201", "1000ms scale-out 127.0.0.1:9201");

        load = 0.1;
        time.advance(Duration.ofMillis(9999));
        assertThat(events).as("cooldown: 10 s after the last action").hasSize(2);
        assertThat(registry.pool("app").pool().servers()).hasSize(2);
        time.advance(Duration.ofMillis(1));
        assertThat(events).containsExactly("1000ms server-added 127.0.0.1:9201", "1000ms scale-out 127.0.0.1:9201",
                "11000ms server-draining 127.0.0.1:9201", "11000ms scale-in 127.0.0.1:9201");
        time.advance(Registry.DRAIN_POLL);
        assertThat(events.getLast()).isEqualTo("11050ms server-removed 127.0.0.1:9201");
        assertThat(stopped).containsExactly("11050ms 127.0.0.1:9201");
        assertThat(scaler.status().servers()).isEqualTo(1);

        time.advance(Duration.ofSeconds(60));
        assertThat(events).as("the operator's server is never scaled in").hasSize(5);
        assertThat(registry.pool("app").pool().servers()).hasSize(1);
    }

    @Test
    void aPoolBelowMinServersGrowsAtTheFirstStep() {
        registry.removeServer("app", "127.0.0.1:9101");
        time.advance(Registry.DRAIN_POLL);
        start();
        time.advance(Duration.ofSeconds(1));
        assertThat(events).containsExactly("1050ms server-added 127.0.0.1:9201", "1050ms scale-out 127.0.0.1:9201");
    }

    /**
     * A cluster's election and scaling records as the auto-scaler sees them: a leader flag, the
     * cooldown, pending actions and who started which server "in etcd", and transactions that
     * apply only while leading — applied here straight to the registry, as the node's watch would
     * apply them.
     */
    private final class Election implements ScalingLeadership {
        boolean leading;
        /** Whether the add or removal finds the leadership still held (false: lost after the decision). */
        boolean stillLeadingAtCommit = true;
        String node = "n1";
        final java.util.Set<String> members = new java.util.HashSet<>(List.of("n1"));
        final Map<String, Instant> recorded = new java.util.HashMap<>();
        final Map<String, ScaledServer> scaled = new java.util.TreeMap<>();
        final Map<String, PendingAction> pending = new java.util.LinkedHashMap<>();

        @Override
        public boolean leading() {
            return leading;
        }

        @Override
        public String node() {
            return node;
        }

        @Override
        public java.util.Set<String> members() {
            return java.util.Set.copyOf(members);
        }

        @Override
        public Instant lastAction(String pool) {
            return recorded.get(pool);
        }

        @Override
        public Map<String, ScaledServer> scaled(String pool) {
            return Map.copyOf(scaled);
        }

        @Override
        public List<PendingAction> pending(String pool) {
            return List.copyOf(pending.values());
        }

        @Override
        public boolean beginScaleOut(String pool, String id, Instant at) {
            if (!leading) {
                return false;
            }
            pending.put(id, new PendingAction(id, true, node, at, null));
            recorded.put(pool, at);
            return true;
        }

        @Override
        public boolean scaleOut(String pool, ScaledServer server, String id) {
            if (!stillLeadingAtCommit || pending.remove(id) == null) {
                return false;
            }
            scaled.put(server.address(), server);
            registry.addServer(pool, HostPort.parse(server.address()), 1);
            return true;
        }

        @Override
        public boolean scaleIn(String pool, ScaledServer server, String id, Instant at) {
            if (!stillLeadingAtCommit) {
                return false;
            }
            pending.put(id, new PendingAction(id, false, node, at, server));
            recorded.put(pool, at);
            scaled.remove(server.address());
            registry.removeServer(pool, server.address());
            return true;
        }

        @Override
        public boolean abandon(String pool, String id) {
            return leading && pending.remove(id) != null;
        }

        @Override
        public void done(String pool, String id) {
            pending.remove(id);
        }

        @Override
        public boolean adopt(String pool, ScaledServer was) {
            scaled.put(was.address(), was.ownedBy(node));
            return leading;
        }

        @Override
        public boolean forget(String pool, ScaledServer server) {
            scaled.remove(server.address());
            registry.removeServer(pool, server.address());
            return leading;
        }
    }

    @Test
    void inAClusterOnlyTheLeaderActsThroughItsTransactionsAndHonoursTheCooldownInEtcd() {
        load = 0.9;
        Election election = new Election();
        start().inCluster(election);
        time.runDue();
        time.advance(Duration.ofSeconds(5));
        assertThat(events).as("not the auto-scaling leader: holds").isEmpty();

        // a former leader scaled out 4 s ago: the cooldown (10 s) holds this leader back 6 s more
        election.leading = true;
        election.recorded.put("app", time.now().minusSeconds(4));
        time.advance(Duration.ofSeconds(5));
        assertThat(events).isEmpty();
        time.advance(Duration.ofSeconds(1));
        assertThat(events).containsExactly("11000ms server-added 127.0.0.1:9201", "11000ms scale-out 127.0.0.1:9201");
        assertThat(election.recorded.get("app")).isEqualTo(start.plusSeconds(11));
    }

    @Test
    void aLeaderThatLostTheElectionBeforeItsTransactionStopsTheServerItStarted() {
        load = 0.9;
        Election election = new Election();
        election.leading = true;
        election.stillLeadingAtCommit = false; // paused past its lease, say: etcd refuses the write
        start().inCluster(election);
        time.runDue();
        time.advance(Duration.ofSeconds(1));
        assertThat(events).isEmpty();
        assertThat(registry.pool("app").pool().servers()).hasSize(1);
        assertThat(stopped).containsExactly("1000ms 127.0.0.1:9201");
    }

    @Test
    void aNewLeaderDropsTheScaleOutItsPredecessorLeftPendingAndDecidesAgainAfterTheCooldown() {
        load = 0.9;
        Election election = new Election();
        election.leading = true;
        // the former leader n0 decided a scale-out 4 s ago and died while provisioning
        election.pending.put("x", new PendingAction("x", true, "n0", start.minusSeconds(4), null));
        election.recorded.put("app", start.minusSeconds(4));
        start().inCluster(election);
        time.runDue();
        time.advance(Duration.ofSeconds(1));
        assertThat(election.pending).as("dropped: n0 can no longer add its server").isEmpty();
        assertThat(events).as("the cooldown n0 started holds").isEmpty();
        time.advance(Duration.ofSeconds(5));
        assertThat(events).containsExactly("6000ms server-added 127.0.0.1:9201", "6000ms scale-out 127.0.0.1:9201");
        assertThat(election.pending).isEmpty();
        assertThat(election.scaled.get("127.0.0.1:9201").node()).isEqualTo("n1");
        assertThat(election.recorded.get("app")).isEqualTo(start.plusSeconds(6));
    }

    @Test
    void aNewLeaderScalesInAServerItsPredecessorStartedAndRunsTheScaleInAfterTheDrainTimeout() {
        load = 0.1;
        Election election = new Election();
        election.leading = true;
        registry.addServer("app", new HostPort("127.0.0.1", 9150), 1);
        election.scaled.put("127.0.0.1:9150", new ScaledServer("127.0.0.1:9150", "n0", start.minusSeconds(60), 0, null));
        start().inCluster(election);
        time.runDue();
        time.advance(Duration.ofSeconds(1));
        assertThat(events).containsExactly("1000ms server-draining 127.0.0.1:9150", "1000ms scale-in 127.0.0.1:9150");
        assertThat(election.pending.values()).singleElement().satisfies(p -> assertThat(p.out()).isFalse());
        // seen pending at 2 s; every node drains it for at most drain-timeout (2 s): stopped at 4 s
        time.advance(Duration.ofSeconds(2));
        assertThat(stopped).isEmpty();
        time.advance(Duration.ofSeconds(1));
        assertThat(stopped).containsExactly("4000ms 127.0.0.1:9150");
        assertThat(election.pending).isEmpty();
        time.advance(Duration.ofSeconds(30));
        assertThat(stopped).as("stopped once; the operator's server stays").hasSize(1);
        assertThat(registry.pool("app").pool().servers()).hasSize(1);
    }

    @Test
    void theLeaderTakesOverTheProcessesOfANodeThatLeftAndRemovesThoseThatAreGone() {
        load = 0.5;
        Election election = new Election();
        election.leading = true;
        registry.addServer("app", new HostPort("127.0.0.1", 9150), 1);
        registry.addServer("app", new HostPort("127.0.0.1", 9151), 1);
        election.scaled.put("127.0.0.1:9150", new ScaledServer("127.0.0.1:9150", "n0", start, 41, start));
        election.scaled.put("127.0.0.1:9151", new ScaledServer("127.0.0.1:9151", "n0", start, 42, start));
        running.add(41L); // 42 died with n0
        start().inCluster(election);
        time.runDue();
        time.advance(Duration.ofSeconds(1));
        assertThat(election.scaled.keySet()).containsExactly("127.0.0.1:9150");
        assertThat(election.scaled.get("127.0.0.1:9150").node()).isEqualTo("n1");
        time.advance(Registry.DRAIN_POLL);
        assertThat(registry.pool("app").pool().servers()).extracting(s -> s.id())
                .containsExactlyInAnyOrder("127.0.0.1:9101", "127.0.0.1:9150");
    }

    @Test
    void theNodeThatOwnsAProcessStopsItWhenTheLeaderScaledItInAndNoOtherNodeDoes() {
        Election election = new Election();
        election.node = "n2";
        election.members.add("n2");
        Instant at = start.minusSeconds(10);
        election.pending.put("mine", new PendingAction("mine", false, "n1", at,
                new ScaledServer("127.0.0.1:9150", "n2", at, 41, at)));
        election.pending.put("theirs", new PendingAction("theirs", false, "n1", at,
                new ScaledServer("127.0.0.1:9151", "n1", at, 42, at)));
        election.pending.put("exec", new PendingAction("exec", false, "n1", at,
                new ScaledServer("127.0.0.1:9152", "n1", at, 0, null)));
        running.add(41L);
        running.add(42L);
        start().inCluster(election); // not the leader
        time.runDue();
        time.advance(Duration.ofSeconds(3));
        assertThat(stopped).containsExactly("3000ms 127.0.0.1:9150");
        assertThat(election.pending.keySet()).containsExactly("theirs", "exec");
    }

    @Test
    void aProcessServerRemovedFromTheSharedPoolWithoutAScaleInIsStoppedByItsNodeAfterTheDrainTimeout() {
        Election election = new Election();
        HostPort address = new HostPort("127.0.0.1", 9150);
        registry.addServer("app", address, 1);
        election.scaled.put("127.0.0.1:9150", new ScaledServer("127.0.0.1:9150", "n1", start, 41, start));
        processes.add(address);
        processes.add(new HostPort("127.0.0.1", 9151)); // provisioned, never in the shared pool yet: not a stray
        start().inCluster(election); // not the leader: it makes no difference
        time.runDue();
        time.advance(Duration.ofSeconds(1));
        assertThat(stopped).isEmpty();

        // an operator removes it through the admin API (or a push leaves it out): no pending scale-in
        election.scaled.remove("127.0.0.1:9150");
        registry.removeServer("app", "127.0.0.1:9150");
        time.advance(Duration.ofSeconds(2));
        assertThat(stopped).as("seen gone at 2 s; drain-timeout 2 s").isEmpty();
        time.advance(Duration.ofSeconds(1));
        assertThat(stopped).containsExactly("4000ms 127.0.0.1:9150");
        time.advance(Duration.ofSeconds(10));
        assertThat(stopped).as("once; the one never added stays").hasSize(1);
    }
}
