package dev.fulcrum.server.cluster;

import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EpochNanos;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static dev.fulcrum.server.cluster.ClusterFixture.JVM;
import static dev.fulcrum.server.cluster.ClusterFixture.awaitClusterView;
import static dev.fulcrum.server.cluster.ClusterFixture.awaitMembers;
import static dev.fulcrum.server.cluster.ClusterFixture.cluster;
import static dev.fulcrum.server.cluster.ClusterFixture.metrics;
import static dev.fulcrum.server.cluster.ClusterFixture.push;
import static dev.fulcrum.server.cluster.ClusterFixture.send;
import static dev.fulcrum.server.cluster.ClusterFixture.servers;
import static dev.fulcrum.server.cluster.ClusterFixture.signal;
import static dev.fulcrum.server.cluster.ClusterFixture.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cluster against real etcd (3 members on loopback, Debian's etcd-server) and real Fulcrum
 * processes: a pushed config is served by every node; 200 additions through one node's API reach
 * every node once, in revision order (request to applied measured against the spec's p50 50 ms /
 * p99 500 ms, figures printed); the etcd leader's kill -9 during 50 additions a second loses none,
 * applies none twice and stops writes for less than 5 s; a compaction is survived; a node killed
 * leaves the member list within lease-ttl + 1 s; a node restarted while etcd is down serves from
 * its state-dir. Each test uses its own key prefix, so tests never see each other's keys.
 *
 * <p>Propagation on a machine shared by several builds (load average 8-20 on 2 cores): p50
 * 23-35 ms and p99 110-280 ms (one node's p99 456 ms once). The spec's bounds (50 ms, 500 ms)
 * held every time, but within 1.4x and 1.8x, too close for a loaded CI machine: twice them is
 * asserted, and the output says whether the spec's own held.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterIT {

    /** The spec's propagation bounds (issue 17), from a request's start to a node serving it. */
    static final Duration SPEC_P50 = Duration.ofMillis(50);
    static final Duration SPEC_P99 = Duration.ofMillis(500);
    /**
     * What is asserted: twice the spec's bounds, which held on a loaded machine, but within 1.4x
     * (p50) and 1.8x (p99), too close for a CI machine running several forks (see the class
     * comment); the output says whether the spec's own held.
     */
    static final Duration PROPAGATION_P50 = SPEC_P50.multipliedBy(2);
    static final Duration PROPAGATION_P99 = SPEC_P99.multipliedBy(2);

    @RegisterExtension
    static final ClusterFixture fx = new ClusterFixture();

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    // ------------------------------------------------------------------ tests

    @Test
    void aPushedConfigIsServedByEveryNodeAndEveryChangeIsAppliedEverywhere() throws Exception {
        String prefix = "/it-propagation";
        Path shared = fx.sharedFile(prefix, fx.etcd().endpoints(), "");
        ClusterFixture.Pushed pushed = push(shared);
        assertThat(pushed.exitCode()).as(pushed.output()).isZero();
        assertThat(pushed.revision()).isPositive();

        List<Node> nodes = fx.startNodes(closer, prefix, 3);
        for (Node n : nodes) {
            assertThat(status(n.listenPort())).isEqualTo(200);
            assertThat(cluster(n).path("revision").asLong()).isGreaterThanOrEqualTo(pushed.revision());
        }
        awaitMembers(nodes);

        // 200 additions through node 1's admin API, one after the other: every node applies each one,
        // once, in revision order. Latency: from just before the request to the node's config-applied
        // event for that revision (its own clock, this machine's): what a client of that node sees
        List<AppliedRevisions> applied = AppliedRevisions.followAll(closer, nodes);
        List<Long> revisions = new ArrayList<>();
        List<Long> started = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String address = "127.0.0.2:" + (20_000 + i);
            started.add(EpochNanos.now());
            HttpResponse<String> added = send(nodes.getFirst(), "POST", "/api/v1/pools/app/servers",
                    "{\"address\":\"" + address + "\",\"weight\":0}");
            assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
            revisions.add(JSON.readTree(added.body()).path("revision").asLong());
        }
        List<Long> all = new ArrayList<>();
        for (int k = 0; k < nodes.size(); k++) {
            AppliedRevisions node = applied.get(k).awaitApplied(revisions.getLast(), Duration.ofSeconds(10));
            List<Long> micros = new ArrayList<>();
            for (int i = 0; i < revisions.size(); i++) {
                micros.add((node.appliedAt(revisions.get(i)).orElseThrow() - started.get(i)) / 1000);
            }
            System.out.printf("cluster propagation to %s (200 additions through n1's API): %s%n", nodes.get(k).name(),
                    quantiles(micros));
            all.addAll(micros);
        }
        all.sort(null);
        System.out.printf("cluster propagation, request start to applied, 600 applies (200 x 3 nodes): %s (spec: p50"
                + " under 50 ms %s, p99 under 500 ms %s)%n", quantiles(all),
                quantile(all, 0.50) < SPEC_P50.toNanos() / 1000 ? "held" : "NOT held",
                quantile(all, 0.99) < SPEC_P99.toNanos() / 1000 ? "held" : "NOT held");
        assertThat(quantile(all, 0.50)).as("p50 (µs)").isLessThan(PROPAGATION_P50.toNanos() / 1000);
        assertThat(quantile(all, 0.99)).as("p99 (µs)").isLessThan(PROPAGATION_P99.toNanos() / 1000);
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            assertThat(servers(n).findValuesAsText("address")).as(n.name()).hasSize(201).doesNotHaveDuplicates();
            assertThat(status(n.listenPort())).isEqualTo(200);
            // once each, in revision order: revisions that arrived together (a member record's
            // too) are applied as one, so the events may skip some; each addition was covered above
            assertThat(applied.get(k).revisions()).as(n.name()).isSorted().doesNotHaveDuplicates();
        }
    }

    /** "p50 X ms, p99 Y ms, max Z ms" of latencies in microseconds. */
    static String quantiles(List<Long> micros) {
        List<Long> sorted = micros.stream().sorted().toList();
        return "p50 %.1f ms, p99 %.1f ms, max %.1f ms".formatted(quantile(sorted, 0.5) / 1000.0,
                quantile(sorted, 0.99) / 1000.0, sorted.getLast() / 1000.0);
    }

    /** The nearest-rank quantile of sorted values. */
    static long quantile(List<Long> sorted, double q) {
        return sorted.get((int) Math.ceil(sorted.size() * q) - 1);
    }

    @Test
    void theEtcdLeadersKillDuringFiftyChangesASecondLosesNoneAppliesNoneTwiceAndStopsWritesUnderFiveSeconds()
            throws Exception {
        String prefix = "/it-leader";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 3);
        awaitMembers(nodes);
        List<AppliedRevisions> applied = AppliedRevisions.followAll(closer, nodes);
        int leader = fx.etcd().leader();
        assertThat(leader).isNotNegative();
        List<Integer> served = new ArrayList<>();
        PacedAdditions.Result run;
        try {
            // 50 additions a second through the 3 nodes for 6 s; the etcd leader is killed after 2 s,
            // and clients keep asking through every node meanwhile
            run = PacedAdditions.run(nodes, 40_000, Duration.ofMillis(20), Duration.ofSeconds(6), () -> {
                Thread.sleep(2_000);
                fx.etcd().kill(leader);
                for (long end = System.nanoTime() + 4_000_000_000L; System.nanoTime() < end; ) {
                    for (Node n : nodes) {
                        served.add(status(n.listenPort()));
                    }
                    Thread.sleep(10);
                }
            });
        } finally {
            fx.etcd().restart(leader);
        }
        List<PacedAdditions.Write> accepted = run.withStatus(201);
        List<PacedAdditions.Write> unknown = run.withStatus(504);
        System.out.printf("cluster: etcd leader killed with -9 during %d additions (50/s, %d ticks skipped):"
                        + " %d accepted, %d answered 503, %d answered 504; no write accepted for %d ms at most; accepted writes"
                        + " answered in %s%n",
                run.writes().size(), run.skipped(), accepted.size(), run.withStatus(503).size(), unknown.size(),
                run.longestOutage().toMillis(), quantiles(run.acceptedMicros()));
        assertThat(served).as("client requests through the nodes").isNotEmpty().containsOnly(200);
        assertThat(run.writes()).as("every write answered 201, or 503/504 while etcd elects")
                .allSatisfy(w -> assertThat(w.status()).as(w.address() + ": " + w.body()).isIn(201, 503, 504));
        assertThat(run.skipped()).as("ticks that found every slot busy").isLessThan(run.writes().size() / 10);
        assertThat(accepted.size()).as("accepted writes").isGreaterThan(run.writes().size() / 2);
        assertThat(run.longestOutage()).isLessThan(Duration.ofSeconds(5));

        // what etcd holds: every accepted addition at the revision answered (written once, never again),
        // no 503 (nothing written), and each 504 either way; that is what every node must serve
        KeyLayout layout = new KeyLayout(prefix);
        java.util.Set<String> expected = new java.util.TreeSet<>(List.of("127.0.0.1:" + fx.backendPort()));
        try (EtcdStore store = fx.store(prefix, fx.etcd().endpoints())) {
            for (PacedAdditions.Write w : run.writes()) {
                EtcdStore.Entry entry = store.get(layout.server("app", w.address()), Duration.ofSeconds(5));
                switch (w.status()) {
                    case 201 -> assertThat(entry.modRevision()).as(w.address()).isEqualTo(w.revision());
                    case 503 -> assertThat(entry.value()).as(w.address() + " answered 503").isNull();
                    default -> { } // 504: outcome unknown, either way
                }
                if (entry.value() != null) {
                    expected.add(w.address());
                }
            }
        }
        long last = accepted.stream().mapToLong(PacedAdditions.Write::revision).max().orElseThrow();
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            applied.get(k).awaitApplied(last, Duration.ofSeconds(15));
            await(n.name() + " serves exactly what etcd holds").atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(servers(n).findValuesAsText("address"))
                            .containsExactlyInAnyOrderElementsOf(expected));
            assertThat(applied.get(k).revisions()).as(n.name() + ": no revision applied twice, none out of order")
                    .isSorted().doesNotHaveDuplicates();
            assertThat(status(n.listenPort())).isEqualTo(200);
        }
    }

    @Test
    void aNodeKilledLeavesTheMemberListWithinLeaseTtlPlusOneSecond() throws Exception {
        String prefix = "/it-lease";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 2, fx.etcd().endpoints(), "2s");
        awaitMembers(nodes);
        long killed = System.nanoTime();
        nodes.get(1).process().kill();
        await("node-2 leaves").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> cluster(nodes.get(0)).path("members").size() == 1);
        long millis = (System.nanoTime() - killed) / 1_000_000;
        System.out.printf("cluster: a node killed with -9 left the member list after %d ms (lease-ttl 2 s)%n", millis);
        assertThat(millis).isLessThanOrEqualTo(3_000);
        assertThat(cluster(nodes.get(0)).path("members").get(0).path("node").asText()).isEqualTo("n1");
        assertThat(nodes.get(0).process().output()).contains("node n2 left the member list: its lease expired",
                "FulcrumClusterMemberLost");
    }

    @Test
    void sighupRereadsTheNodesFileAndKeepsEtcdsSharedConfig() throws Exception {
        String prefix = "/it-hup";
        fx.writeShared(prefix);
        Node node = fx.startNodes(closer, prefix, 1).getFirst();
        int moved = Loopback.freePort();
        Files.writeString(node.file(), Files.readString(node.file())
                .replace("listen: 127.0.0.1:" + node.listenPort() + "}", "listen: 127.0.0.1:" + moved + "}"));
        signal("HUP", node);
        node.process().awaitPort(moved, Duration.ofSeconds(15));
        assertThat(status(moved)).isEqualTo(200); // web and its pool still come from etcd
        assertThat(servers(node)).hasSize(1);
    }

    @Test
    void aNodeStoppedLeavesAtOnceWithoutAnAlert() throws Exception {
        String prefix = "/it-stop";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 2);
        awaitMembers(nodes);
        long stopped = System.nanoTime();
        assertThat(nodes.get(1).process().terminate(Duration.ofSeconds(20))).isZero();
        await("node-2 leaves").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> cluster(nodes.get(0)).path("members").size() == 1);
        long millis = (System.nanoTime() - stopped) / 1_000_000;
        assertThat(millis).as("left before its 5 s lease could expire").isLessThan(5_000);
        assertThat(nodes.get(0).process().output()).contains("node n2 stopped and left the member list")
                .doesNotContain("FulcrumClusterMemberLost");
    }

    @Test
    void afterACompactionANodeReadsEverythingAgain() throws Exception {
        String prefix = "/it-compact";
        fx.writeShared(prefix);
        int follower = (fx.etcd().leader() + 1) % fx.etcd().size();
        // the node talks to one member only: while that member is down, it misses what the others write
        List<String> only = List.of(fx.etcd().endpoint(follower));
        List<Node> nodes = fx.startNodes(closer, prefix, 1, only, "5s");
        Node node = nodes.getFirst();
        fx.etcd().kill(follower);
        int other = (follower + 1) % fx.etcd().size();
        long revision;
        try {
            try (EtcdStore store = fx.store(prefix, List.of(fx.etcd().endpoint(other)))) {
                KeyLayout layout = new KeyLayout(prefix);
                for (int i = 0; i < 5; i++) {
                    String address = "127.0.0.4:" + (31_000 + i);
                    store.commit(Map.of(layout.server("app", address), "{\"address\":\"" + address + "\",\"weight\":0}"),
                            List.of());
                }
                revision = fx.etcd().revision(other);
                fx.etcd().compact(other, revision);
            }
            assertThat(status(node.listenPort())).isEqualTo(200); // serving its last state meanwhile
        } finally {
            fx.etcd().restart(follower);
        }
        await("the node reads everything again").atMost(Duration.ofSeconds(20))
                .until(() -> servers(node).size() == 6 && cluster(node).path("revision").asLong() >= revision);
        // which re-read comes first depends on timing: the resumed watch meeting the compaction, or
        // the heartbeat finding etcd back after the outage; both read everything again
        assertThat(node.process().output()).containsAnyOf("compacted away", "read everything again");
    }

    @Test
    void aNodeRestartedWhileEtcdIsDownServesFromItsStateDir() throws Exception {
        try (EtcdCluster solo = EtcdCluster.start(1, fx.dir().resolve("solo"))) {
            String prefix = "/it-state";
            fx.writeShared(prefix, solo.endpoints(), fx.sharedYaml());
            Node node = fx.startNodes(closer, prefix, 1, solo.endpoints(), "2s").getFirst();
            assertThat(cluster(node).path("etcd").asText()).isEqualTo("up");
            assertThat(node.process().terminate(Duration.ofSeconds(20))).isZero();
            solo.kill(0);

            FulcrumProcess again = closer.add(FulcrumProcess.start(node.name() + "-again", JVM, "run", "-c",
                    node.file().toString()));
            again.awaitPort(node.listenPort(), Duration.ofSeconds(30));
            awaitClusterView(node);
            assertThat(status(node.listenPort())).isEqualTo(200);
            assertThat(cluster(node).path("etcd").asText()).isEqualTo("down");
            assertThat(again.output()).contains("starting from the state saved", "FulcrumEtcdUnavailable");
            assertThat(metrics(node)).contains("fulcrum_cluster_etcd_up 0.0");

            solo.restart(0);
            await("etcd up again").atMost(Duration.ofSeconds(15)).until(() -> cluster(node).path("etcd").asText()
                    .equals("up"));
            await("registered again").atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(metrics(node))
                    .contains("fulcrum_cluster_etcd_up 1.0", "fulcrum_cluster_members 1.0"));
        }
    }

    @Test
    void pushAndStatusExitCodes() throws Exception {
        String prefix = "/it-cli";
        Path bad = fx.dir().resolve("bad.yaml");
        Files.writeString(bad, "cluster:\n  etcd: [http://127.0.0.1:2379]\n  lease-ttl: 1s\n");
        ClusterFixture.Pushed badConfig = push(bad);
        assertThat(badConfig.exitCode()).as(badConfig.output()).isEqualTo(2);
        assertThat(badConfig.output()).contains("bad.yaml:3:3: cluster.lease-ttl: 1s is out of range");

        Path nowhere = fx.sharedFile("/it-nowhere", List.of("http://127.0.0.1:" + Loopback.freePort()), "");
        long started = System.nanoTime();
        ClusterFixture.Pushed unreachable = push(nowhere);
        assertThat(unreachable.exitCode()).as(unreachable.output()).isEqualTo(1);
        assertThat(unreachable.output()).contains("fulcrum: etcd").doesNotContain("WARN");
        System.out.printf("cluster push with etcd unreachable: exit 1 after %d ms (JVM start included)%n",
                (System.nanoTime() - started) / 1_000_000);

        Path shared = fx.sharedFile(prefix, fx.etcd().endpoints(), "");
        assertThat(push(shared).exitCode()).isZero();
        ClusterFixture.Pushed again = push(shared);
        assertThat(again.output()).contains("(nothing to change)");
        Node node = fx.startNodes(closer, prefix, 1).getFirst();
        ClusterFixture.Pushed nodeFile = push(node.file()); // only listen addresses: would delete the shared config
        assertThat(nodeFile.exitCode()).as(nodeFile.output()).isEqualTo(2);
        assertThat(nodeFile.output()).contains("has no shared section");
        assertThat(servers(node)).hasSize(1);
        FulcrumProcess status = FulcrumProcess.start("cluster-status", JVM, "cluster", "status", "-c", shared.toString());
        assertThat(status.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(status.process().exitValue()).as(status.output()).isZero();
        assertThat(status.output()).contains("1 member(s)", "n1 ", "auto-scaling leader: n1", ": up, etcd 3.");

        FulcrumProcess down = FulcrumProcess.start("cluster-status-down", JVM, "cluster", "status", "-c",
                nowhere.toString());
        assertThat(down.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(down.process().exitValue()).as(down.output()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ helpers
}
