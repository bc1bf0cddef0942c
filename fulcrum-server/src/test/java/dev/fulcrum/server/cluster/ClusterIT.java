package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.fulcrum.server.cluster.ClusterFixture.HTTP;
import static dev.fulcrum.server.cluster.ClusterFixture.JVM;
import static dev.fulcrum.server.cluster.ClusterFixture.awaitClusterView;
import static dev.fulcrum.server.cluster.ClusterFixture.getJson;
import static dev.fulcrum.server.cluster.ClusterFixture.status;
import static dev.fulcrum.server.cluster.ClusterFixture.yamlList;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cluster against real etcd (3 members on loopback, Debian's etcd-server) and real Fulcrum
 * processes: a pushed config is served by every node, changes reach every node in revision
 * order (apply latency measured), the etcd leader's kill -9 and a compaction are survived, a
 * node killed leaves the member list within lease-ttl + 1 s, and a node restarted while etcd is
 * down serves from its state-dir. Each test uses its own key prefix, so tests never see each
 * other's keys.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterIT {

    @RegisterExtension
    static final ClusterFixture fx = new ClusterFixture();

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    // ------------------------------------------------------------------ tests

    @Test
    void aPushedConfigIsServedByEveryNodeAndEveryChangeIsAppliedEverywhere() throws Exception {
        String prefix = "/it-propagation";
        Path shared = sharedFile(prefix, fx.etcd().endpoints());
        Pushed pushed = push(shared);
        assertThat(pushed.exitCode()).as(pushed.output()).isZero();
        assertThat(pushed.revision()).isPositive();

        List<Node> nodes = fx.startNodes(closer, prefix, 3, fx.etcd().endpoints(), "5s");
        for (Node n : nodes) {
            assertThat(status(n.listenPort())).isEqualTo(200);
            assertThat(cluster(n).path("revision").asLong()).isGreaterThanOrEqualTo(pushed.revision());
        }
        await("3 members").atMost(Duration.ofSeconds(10)).until(() -> cluster(nodes.get(0)).path("members").size() == 3);

        // 50 changes, one server key each, as 50 transactions: every node applies every one
        List<Long> revisions = new ArrayList<>();
        try (EtcdStore store = fx.store(prefix, fx.etcd().endpoints())) {
            KeyLayout layout = new KeyLayout(prefix);
            List<Long> latenciesMicros = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String address = "127.0.0.2:" + (20_000 + i);
                long revision = store.commit(Map.of(layout.server("app", address),
                        "{\"address\":\"" + address + "\",\"weight\":0}"), List.of());
                revisions.add(revision);
                long committed = System.nanoTime();
                for (Node n : nodes) {
                    await("node " + n.name() + " applies revision " + revision).atMost(Duration.ofSeconds(5))
                            .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                            .until(() -> cluster(n).path("revision").asLong() >= revision);
                    latenciesMicros.add((System.nanoTime() - committed) / 1000);
                }
            }
            latenciesMicros.sort(null);
            long p50 = latenciesMicros.get(latenciesMicros.size() / 2);
            long p99 = latenciesMicros.get((int) Math.ceil(latenciesMicros.size() * 0.99) - 1);
            System.out.printf("cluster apply latency over %d applies (50 changes x 3 nodes): p50 %.1f ms, p99 %.1f ms,"
                    + " max %.1f ms%n", latenciesMicros.size(), p50 / 1000.0, p99 / 1000.0,
                    latenciesMicros.getLast() / 1000.0);
            assertThat(p99).as("p99 apply latency (µs)").isLessThan(1_000_000);
        }
        for (Node n : nodes) {
            assertThat(servers(n, "app")).as(n.name()).hasSize(51);
            assertThat(status(n.listenPort())).isEqualTo(200);
            // each transaction applied once, in revision order
            List<Long> applied = new ArrayList<>();
            Matcher m = Pattern.compile("config-applied .*revision (\\d+) applied").matcher(n.process().output());
            while (m.find()) {
                applied.add(Long.parseLong(m.group(1)));
            }
            assertThat(applied).as(n.name()).containsExactlyElementsOf(revisions);
        }
    }

    @Test
    void theEtcdLeadersKillIsSurvivedAndNodesConvergeAfter() throws Exception {
        String prefix = "/it-leader";
        writeShared(prefix, fx.etcd().endpoints());
        List<Node> nodes = fx.startNodes(closer, prefix, 3, fx.etcd().endpoints(), "5s");
        int leader = fx.etcd().leader();
        assertThat(leader).isNotNegative();
        fx.etcd().kill(leader);
        try {
            for (int i = 0; i < 20; i++) {
                for (Node n : nodes) {
                    assertThat(status(n.listenPort())).as("request through " + n.name()).isEqualTo(200);
                }
            }
            try (EtcdStore store = fx.store(prefix, fx.etcd().endpoints())) {
                KeyLayout layout = new KeyLayout(prefix);
                long[] revision = new long[1];
                // the first write may meet the election: retried within the bound
                await("a write after the leader's kill").atMost(Duration.ofSeconds(15)).ignoreExceptions()
                        .until(() -> {
                            revision[0] = store.commit(Map.of(layout.server("app", "127.0.0.3:30000"),
                                    "{\"address\":\"127.0.0.3:30000\",\"weight\":0}"), List.of());
                            return true;
                        });
                for (Node n : nodes) {
                    await(n.name() + " converges").atMost(Duration.ofSeconds(15))
                            .until(() -> servers(n, "app").size() == 2
                                    && cluster(n).path("revision").asLong() >= revision[0]);
                }
            }
            for (Node n : nodes) {
                assertThat(status(n.listenPort())).isEqualTo(200);
            }
        } finally {
            fx.etcd().restart(leader);
        }
    }

    @Test
    void aNodeKilledLeavesTheMemberListWithinLeaseTtlPlusOneSecond() throws Exception {
        String prefix = "/it-lease";
        writeShared(prefix, fx.etcd().endpoints());
        List<Node> nodes = fx.startNodes(closer, prefix, 2, fx.etcd().endpoints(), "2s");
        await("2 members").atMost(Duration.ofSeconds(10)).until(() -> cluster(nodes.get(0)).path("members").size() == 2);
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
        writeShared(prefix, fx.etcd().endpoints());
        Node node = fx.startNodes(closer, prefix, 1, fx.etcd().endpoints(), "5s").getFirst();
        int moved = Loopback.freePort();
        Files.writeString(node.file(), Files.readString(node.file())
                .replace("listen: 127.0.0.1:" + node.listenPort() + "}", "listen: 127.0.0.1:" + moved + "}"));
        Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(node.process().pid())).start();
        assertThat(hup.waitFor(10, TimeUnit.SECONDS)).isTrue();
        node.process().awaitPort(moved, Duration.ofSeconds(15));
        assertThat(status(moved)).isEqualTo(200); // web and its pool still come from etcd
        assertThat(servers(node, "app")).hasSize(1);
    }

    @Test
    void aNodeStoppedLeavesAtOnceWithoutAnAlert() throws Exception {
        String prefix = "/it-stop";
        writeShared(prefix, fx.etcd().endpoints());
        List<Node> nodes = fx.startNodes(closer, prefix, 2, fx.etcd().endpoints(), "5s");
        await("2 members").atMost(Duration.ofSeconds(10)).until(() -> cluster(nodes.get(0)).path("members").size() == 2);
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
        writeShared(prefix, fx.etcd().endpoints());
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
                .until(() -> servers(node, "app").size() == 6 && cluster(node).path("revision").asLong() >= revision);
        // which re-read comes first depends on timing: the resumed watch meeting the compaction, or
        // the heartbeat finding etcd back after the outage; both read everything again
        assertThat(node.process().output()).containsAnyOf("compacted away", "read everything again");
    }

    @Test
    void aNodeRestartedWhileEtcdIsDownServesFromItsStateDir() throws Exception {
        try (EtcdCluster solo = EtcdCluster.start(1, fx.dir().resolve("solo"))) {
            String prefix = "/it-state";
            writeShared(prefix, solo.endpoints());
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
        Pushed badConfig = push(bad);
        assertThat(badConfig.exitCode()).as(badConfig.output()).isEqualTo(2);
        assertThat(badConfig.output()).contains("bad.yaml:3:3: cluster.lease-ttl: 1s is out of range");

        Path nowhere = sharedFile("/it-nowhere", List.of("http://127.0.0.1:" + Loopback.freePort()));
        long started = System.nanoTime();
        Pushed unreachable = push(nowhere);
        assertThat(unreachable.exitCode()).as(unreachable.output()).isEqualTo(1);
        assertThat(unreachable.output()).contains("fulcrum: etcd").doesNotContain("WARN");
        System.out.printf("cluster push with etcd unreachable: exit 1 after %d ms (JVM start included)%n",
                (System.nanoTime() - started) / 1_000_000);

        Path shared = sharedFile(prefix, fx.etcd().endpoints());
        assertThat(push(shared).exitCode()).isZero();
        Pushed again = push(shared);
        assertThat(again.output()).contains("(nothing to change)");
        Node node = fx.startNodes(closer, prefix, 1, fx.etcd().endpoints(), "5s").getFirst();
        Pushed nodeFile = push(node.file()); // only listen addresses: would delete the shared config
        assertThat(nodeFile.exitCode()).as(nodeFile.output()).isEqualTo(2);
        assertThat(nodeFile.output()).contains("has no shared section");
        assertThat(servers(node, "app")).hasSize(1);
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

    private record Pushed(int exitCode, String output, long revision) {
    }

    /** The shared config: listener web, pool app with the one backend, no health checks (faster, fewer moving parts). */
    private static Path sharedFile(String prefix, List<String> endpoints) throws IOException {
        Path file = fx.dir().resolve(prefix.substring(1) + "-shared.yaml");
        Files.writeString(file, """
                name: ops
                cluster:
                  etcd: %s
                  prefix: %s
                listeners:
                  - {name: web, listen: 127.0.0.1:1, pool: app}
                pools:
                  - name: app
                    health-check: {type: none}
                    servers:
                      - {address: 127.0.0.1:%d}
                alerts:
                  - type: log
                """.formatted(yamlList(endpoints), prefix, fx.backendPort()));
        return file;
    }

    /** Writes the shared config straight to etcd (as push does, without a process). */
    private static void writeShared(String prefix, List<String> endpoints) throws IOException {
        fx.writeShared(prefix, endpoints, Files.readString(sharedFile(prefix, endpoints)));
    }

    private Pushed push(Path file) throws Exception {
        FulcrumProcess push = FulcrumProcess.start("cluster-push", JVM, "cluster", "push", "-c", file.toString());
        assertThat(push.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        String output = push.output();
        Matcher m = Pattern.compile("revision (\\d+)").matcher(output);
        return new Pushed(push.process().exitValue(), output, m.find() ? Long.parseLong(m.group(1)) : -1);
    }

    private static JsonNode cluster(Node n) throws IOException, InterruptedException {
        return getJson(n.adminPort(), "/api/v1/cluster");
    }

    private static JsonNode servers(Node n, String pool) throws IOException, InterruptedException {
        return getJson(n.adminPort(), "/api/v1/pools/" + pool + "/servers");
    }

    private static String metrics(Node n) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminPort() + "/metrics"))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
