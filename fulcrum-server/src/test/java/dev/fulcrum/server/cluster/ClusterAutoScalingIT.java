package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.autoscale.PendingAction;
import dev.fulcrum.server.autoscale.ScaledServer;
import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static dev.fulcrum.server.cluster.ClusterFixture.get;
import static dev.fulcrum.server.cluster.ClusterFixture.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Single-writer auto-scaling (spec cluster.md) with real etcd (3 members), 3 Fulcrum processes and
 * real server processes started by the {@code process} provisioner. The load is each server's
 * {@code process_cpu_usage}, which the test sets for all of them ({@link MetricServer}), so every
 * node scrapes the same value past the threshold. Across the cluster exactly one scale-out per
 * cooldown; the leader killed with SIGKILL, a new one acts within lease-ttl + 1 s, takes over the
 * server processes the dead one started (they outlive it), stops one an operator removed through
 * another node's API, and once the load falls scales the rest in and stops them. Times are compressed: scrape every 500 ms, window 1 s, cooldown 2 s,
 * lease-ttl 2 s (the cooldown is no longer than the lease, so it never hides the election's delay).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterAutoScalingIT {

    private static final Duration COOLDOWN = Duration.ofSeconds(2);
    private static final Duration LEASE_TTL = Duration.ofSeconds(2);
    private static final Pattern OUT_ACTIONS =
            Pattern.compile("fulcrum_autoscale_actions_total\\{direction=\"out\",pool=\"app\"} (\\d+)");

    @RegisterExtension
    static final ClusterFixture fx = new ClusterFixture();

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @Test
    void oneScaleOutPerCooldownAcrossTheClusterAndANewLeaderActsTakesOverAndScalesInAfterTheLeaderDies()
            throws Exception {
        String prefix = "/it-autoscale";
        KeyLayout layout = new KeyLayout(prefix);
        Path load = fx.dir().resolve("load");
        Files.writeString(load, "0.85");
        closer.add(() -> stopServers(load)); // whatever a failed run leaves, the dead leader's orphans included
        int seedPort = Loopback.freePort();
        Process seed = new ProcessBuilder(MetricServer.command(Integer.toString(seedPort), load))
                .redirectErrorStream(true).redirectOutput(fx.dir().resolve("seed.log").toFile()).start();
        closer.add(seed::destroyForcibly);
        int ports = Loopback.freeConsecutivePortsBelowEphemeral(20);
        fx.writeShared(prefix, fx.etcd().endpoints(), """
                listeners:
                  - {name: web, listen: 127.0.0.1:1, pool: app}
                pools:
                  - name: app
                    health-check: {type: none}
                    drain-timeout: 1s
                    servers:
                      - {address: 127.0.0.1:%d}
                autoscale:
                  - pool: app
                    metric: {interval: 500ms}
                    window: 1s
                    scale-out-above: 0.8
                    scale-in-below: 0.3
                    cooldown: 2s
                    min-servers: 1
                    max-servers: 6
                    provisioner: {type: process, command: %s, ports: %d-%d}
                """.formatted(seedPort, JSON.writeValueAsString(MetricServer.command("{port}", load)), ports,
                ports + 19));
        List<Node> nodes = fx.startNodes(closer, prefix, 3, fx.etcd().endpoints(), "2s");
        for (Node n : nodes) {
            await(n.name() + " sees the load past the threshold").atMost(Duration.ofSeconds(15))
                    .until(() -> status(n).path("autoscale").path(0).path("value").asDouble(0) > 0.8);
        }

        // under load: scale-outs, one per cooldown, all by the leader, until it is killed after the third
        try (EtcdStore etcd = fx.store(prefix, fx.etcd().endpoints())) {
            await("three scale-outs").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> scaled(etcd, layout).size() >= 3);
            String leader = leader(nodes.getFirst());
            Node dead = nodes.stream().filter(n -> n.name().equals(leader)).findFirst().orElseThrow();
            List<Node> alive = nodes.stream().filter(n -> n != dead).toList();
            // counted once its own transaction returned, a moment after etcd holds the server
            long leaderOuts = await(leader + " counts its scale-outs").atMost(Duration.ofSeconds(2))
                    .pollInterval(Duration.ofMillis(20)).until(() -> outActions(dead), n -> n >= 3);
            for (Node n : alive) {
                assertThat(outActions(n)).as(n.name() + " scaled out (leader " + leader + ")").isZero();
            }
            Map<String, ScaledServer> before = scaled(etcd, layout);
            assertThat(before.values()).allSatisfy(s -> assertThat(s.node()).isEqualTo(leader));
            // the leader dies: its server processes outlive it; a new leader acts within lease-ttl + 1 s
            Instant killed = Instant.now();
            dead.process().kill();
            Instant acted = await("a new leader's scale-out").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(50)).until(() -> lastAction(etcd, layout, leader), a -> a != null);
            long millis = Duration.between(killed, acted).toMillis();
            String next = leader(alive.getFirst());
            System.out.printf("cluster auto-scaling: leader %s killed with -9; %s decided a scale-out %d ms later"
                    + " (lease-ttl 2 s)%n", leader, next, millis);
            assertThat(millis).isLessThanOrEqualTo(LEASE_TTL.plusSeconds(1).toMillis());

            Node newLeader = alive.stream().filter(n -> n.name().equals(next)).findFirst().orElseThrow();
            await("the new leader's server, and the dead one's taken over").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(100)).until(() -> {
                        Map<String, ScaledServer> now = scaled(etcd, layout);
                        return now.values().stream().anyMatch(s -> s.at().isAfter(killed))
                                && now.values().stream().allMatch(s -> s.node().equals(next));
                    });
            Map<String, ScaledServer> taken = scaled(etcd, layout);
            List<ScaledServer> decisions = byDecision(taken);
            // decided before the kill: the dead leader's (the new one's decisions come after it)
            List<ScaledServer> first = decisions.stream().filter(s -> !s.at().isAfter(killed)).toList();
            assertThat(first).hasSizeGreaterThanOrEqualTo(3);
            assertThat(leaderOuts).as(leader + "'s scale-outs").isBetween(3L, (long) first.size());
            for (int i = 1; i < decisions.size(); i++) {
                Duration gap = Duration.between(decisions.get(i - 1).at(), decisions.get(i).at());
                System.out.printf("cluster auto-scaling: scale-out %d decided %d ms after the previous one (cooldown 2 s)%n",
                        i + 1, gap.toMillis());
                assertThat(gap).as("at most one scale-out per cooldown, across the handover too").isGreaterThanOrEqualTo(COOLDOWN);
                if (i < first.size()) {
                    assertThat(gap).as("at least one per cooldown while the load lasts").isLessThan(COOLDOWN.plusSeconds(3));
                }
            }
            for (ScaledServer s : first) {
                ScaledServer was = before.get(s.address());
                if (was != null) {
                    assertThat(s.pid()).as("the same process, taken over").isEqualTo(was.pid());
                }
                assertThat(ProcessHandle.of(s.pid()).filter(ProcessHandle::isAlive)).as("pid %d outlives its node", s.pid())
                        .isPresent();
            }
            assertThat(outActions(newLeader)).isEqualTo(decisions.size() - first.size());

            // an operator removes one through another node's admin API: no scale-in, its node stops it all the same
            ScaledServer removed = first.getFirst();
            Node other = alive.stream().filter(n -> n != newLeader).findFirst().orElseThrow();
            HttpResponse<String> deleted = send(other, "DELETE", "/api/v1/pools/app/servers/" + removed.address(), "");
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(202);
            await(removed.address() + " stopped by its node").atMost(Duration.ofSeconds(10))
                    .until(() -> ProcessHandle.of(removed.pid()).filter(ProcessHandle::isAlive).isEmpty());
            await("its node says why").atMost(Duration.ofSeconds(2)).until(() -> newLeader.process().output()
                    .contains("stopped " + removed.address() + ": it left the shared pool without a scale-in"));

            // quiet: the new leader scales in every server, its predecessor's too, and they stop
            Files.writeString(load, "0.1");
            List<ScaledServer> all = List.copyOf(taken.values());
            await("back to the operator's server, nothing pending").atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> scaled(etcd, layout).isEmpty() && pending(etcd, layout).isEmpty());
            for (ScaledServer s : all) {
                await(s.address() + " (pid " + s.pid() + ") stopped").atMost(Duration.ofSeconds(10))
                        .until(() -> ProcessHandle.of(s.pid()).filter(ProcessHandle::isAlive).isEmpty());
            }
            for (Node n : alive) {
                await(n.name() + " serves the operator's server only").atMost(Duration.ofSeconds(5))
                        .until(() -> servers(n).findValuesAsText("address"), a -> a.equals(List.of("127.0.0.1:" + seedPort)));
            }
            assertThat(newLeader.process().output()).contains("took over 127.0.0.1:")
                    .contains("scale-in of " + first.get(1).address() + " finished: stopped");
            assertThat(seed.isAlive()).as("the operator's server is not Fulcrum's to stop").isTrue();
        }
    }

    /** The auto-scaled servers in etcd by address. */
    private static Map<String, ScaledServer> scaled(EtcdStore etcd, KeyLayout layout) {
        return new TreeMap<>(ScalingState.of(etcd.readAll(layout.root()).keys(), layout).scaled()
                .getOrDefault("app", Map.of()));
    }

    private static List<PendingAction> pending(EtcdStore etcd, KeyLayout layout) {
        return ScalingState.of(etcd.readAll(layout.root()).keys(), layout).pending().getOrDefault("app", List.of());
    }

    /** The pool's last action recorded in etcd when a node other than {@code not} decided it; null otherwise. */
    private static Instant lastAction(EtcdStore etcd, KeyLayout layout, String not) throws IOException {
        String value = etcd.readAll(layout.scaling("app")).keys().get(layout.scaling("app"));
        JsonNode record = value == null ? null : JSON.readTree(value);
        return record == null || record.path("node").asText().equals(not) ? null
                : Instant.parse(record.path("lastAction").asText());
    }

    private static List<ScaledServer> byDecision(Map<String, ScaledServer> scaled) {
        List<ScaledServer> list = new ArrayList<>(scaled.values());
        list.sort(Comparator.comparing(ScaledServer::at));
        return list;
    }

    private static String leader(Node n) throws IOException, InterruptedException {
        return JSON.readTree(get(n, "/api/v1/cluster").body()).path("leader").asText();
    }

    private static JsonNode status(Node n) throws IOException, InterruptedException {
        return JSON.readTree(get(n, "/api/v1/status").body());
    }

    private static JsonNode servers(Node n) throws IOException, InterruptedException {
        return JSON.readTree(get(n, "/api/v1/pools/app/servers").body());
    }

    /** The node's {@code fulcrum_autoscale_actions_total{direction="out"}}; 0 before its first. */
    private static long outActions(Node n) throws IOException, InterruptedException {
        Matcher m = OUT_ACTIONS.matcher(get(n, "/metrics").body());
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** Stops the metric servers of this test (their command line names its load file), by pid. */
    private static void stopServers(Path load) {
        Set<ProcessHandle> ours = new java.util.HashSet<>();
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(MetricServer.class.getName() + " ")
                        && p.info().commandLine().orElse("").contains(load.toString()))
                .forEach(ours::add);
        ours.forEach(ProcessHandle::destroyForcibly);
    }
}
