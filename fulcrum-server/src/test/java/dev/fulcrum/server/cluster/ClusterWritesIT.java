package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EpochNanos;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static dev.fulcrum.server.cluster.ClusterFixture.awaitMembers;
import static dev.fulcrum.server.cluster.ClusterFixture.cluster;
import static dev.fulcrum.server.cluster.ClusterFixture.get;
import static dev.fulcrum.server.cluster.ClusterFixture.send;
import static dev.fulcrum.server.cluster.ClusterFixture.servers;
import static dev.fulcrum.server.cluster.ClusterFixture.signal;
import static dev.fulcrum.server.cluster.ClusterFixture.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cluster's second slice (spec cluster.md) against real etcd (3 members on loopback) and real
 * Fulcrum processes; each test has its own prefix. The admin API of any node writes through etcd:
 * a change made on one node is served by every node, answers its revision, waits for every member
 * with {@code ?wait=applied} (latency measured; 504 with the revision when a live member does not
 * apply within 5 s), never applies twice. With 2 of 3 etcd members down for 10 s, clients are
 * served by every node, writes answer 503 within 2 s, and a write after recovery is applied
 * everywhere within 2 s of it. A write whose etcd connection is lost mid-transaction answers 504
 * "outcome unknown", whether it landed or not, and its retry applies it once. Every node
 * maps 10 000 keys to the same server, within 1 s of a change. One node leads auto-scaling: a new
 * one within lease-ttl + 1 s of its death; only it scales; paused past its lease, it cannot act.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterWritesIT {

    /** How long 2 of the 3 etcd members stay down (issue 17: 10 s). */
    private static final Duration OUTAGE = Duration.ofSeconds(10);

    @RegisterExtension
    static final ClusterFixture fx = new ClusterFixture();

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @Test
    void aChangeThroughAnyNodeIsAppliedByEveryNodeOnceAndAnswersItsRevision() throws Exception {
        String prefix = "/it-writes";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 3);
        awaitMembers(nodes);

        // 60 additions through node 1, each answered once every member applied it
        List<Long> micros = new ArrayList<>();
        long last = 0;
        for (int i = 0; i < 60; i++) {
            String address = "127.0.0.2:" + (21_000 + i);
            long started = System.nanoTime();
            HttpResponse<String> added = send(nodes.get(0), "POST", "/api/v1/pools/app/servers?wait=applied",
                    "{\"address\":\"" + address + "\",\"weight\":0}");
            micros.add((System.nanoTime() - started) / 1000);
            assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
            JsonNode body = JSON.readTree(added.body());
            assertThat(body.path("address").asText()).isEqualTo(address); // the SERVER fields, as before
            assertThat(body.path("revision").asLong()).isGreaterThan(last);
            last = body.path("revision").asLong();
        }
        micros.sort(null);
        System.out.printf("cluster admin write to applied on 3 nodes (?wait=applied, %d writes): p50 %.1f ms,"
                        + " p99 %.1f ms, max %.1f ms%n", micros.size(), micros.get(micros.size() / 2) / 1000.0,
                micros.get((int) Math.ceil(micros.size() * 0.99) - 1) / 1000.0, micros.getLast() / 1000.0);
        for (Node n : nodes) {
            assertThat(servers(n)).as(n.name() + " right after the last ?wait=applied answer").hasSize(61);
        }

        // a retried add finds it there: it never applies twice
        HttpResponse<String> again = send(nodes.get(1), "POST", "/api/v1/pools/app/servers",
                "{\"address\":\"127.0.0.2:21000\",\"weight\":0}");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(409);

        // drain on node 2, seen by node 3; enable on node 3, seen by node 1
        String target = "/api/v1/pools/app/servers/127.0.0.2:21001";
        HttpResponse<String> drained = send(nodes.get(1), "POST", target + "/drain?wait=applied", "");
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        assertThat(JSON.readTree(drained.body()).path("state").asText()).isEqualTo("draining");
        assertThat(JSON.readTree(get(nodes.get(2), target).body()).path("state").asText()).isEqualTo("draining");
        HttpResponse<String> enabled = send(nodes.get(2), "POST", target + "/enable?wait=applied", "");
        assertThat(enabled.statusCode()).as(enabled.body()).isEqualTo(200);
        assertThat(JSON.readTree(enabled.body()).path("revision").asLong())
                .isGreaterThan(JSON.readTree(drained.body()).path("revision").asLong());
        assertThat(JSON.readTree(get(nodes.get(0), target).body()).path("state").asText()).isNotEqualTo("draining");

        // removed through node 3: gone everywhere (weight 0, no connections: the drain ends at once)
        HttpResponse<String> removed = send(nodes.get(2), "DELETE", target + "?wait=applied", "");
        assertThat(removed.statusCode()).as(removed.body()).isEqualTo(202);
        for (Node n : nodes) {
            await(n.name() + " forgets it").atMost(Duration.ofSeconds(5)).until(() -> servers(n).size() == 60);
        }
        assertThat(send(nodes.get(0), "DELETE", target, "").statusCode()).isEqualTo(404);
        assertThat(send(nodes.get(0), "POST", target + "/drain", "").statusCode()).isEqualTo(404);
        for (Node n : nodes) {
            assertThat(status(n.listenPort())).isEqualTo(200);
        }
    }

    @Test
    void withTwoOfThreeEtcdMembersDownForTenSecondsClientsAreServedWritesAnswer503AndAllConvergeWithinTwoSeconds()
            throws Exception {
        String prefix = "/it-noquorum";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 3);
        awaitMembers(nodes);
        List<AppliedRevisions> applied = AppliedRevisions.followAll(closer, nodes);
        int leader = fx.etcd().leader();
        List<Integer> stopped = List.of((leader + 1) % 3, (leader + 2) % 3);
        List<Integer> served = java.util.Collections.synchronizedList(new ArrayList<>());
        List<HttpResponse<String>> refused = new ArrayList<>();
        List<Long> refusedMillis = new ArrayList<>();
        try {
            for (int member : stopped) {
                fx.etcd().kill(member);
            }
            long end = System.nanoTime() + OUTAGE.toNanos();
            // clients through every node's listener for the whole outage; a write every 2 s meanwhile
            Thread clients = Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    for (Node n : nodes) {
                        try {
                            served.add(status(n.listenPort()));
                        } catch (IOException | InterruptedException e) {
                            served.add(0);
                        }
                    }
                    LockSupport.parkNanos(20_000_000);
                }
            });
            for (int i = 0; System.nanoTime() < end - 2_000_000_000L; i++) {
                long started = System.nanoTime();
                refused.add(send(nodes.get(i % 3), "POST", "/api/v1/pools/app/servers",
                        "{\"address\":\"127.0.0.2:" + (22_000 + i) + "\",\"weight\":0}"));
                refusedMillis.add((System.nanoTime() - started) / 1_000_000);
                LockSupport.parkNanos(Math.max(0, started + 2_000_000_000L - System.nanoTime()));
            }
            clients.join(OUTAGE.toMillis() + 10_000);
        } finally {
            fx.etcd().restart(stopped); // both at once; returns once both are healthy: quorum answers
        }
        long recovered = EpochNanos.now();
        System.out.printf("cluster: 2 of 3 etcd members down for %d s: %d client requests through 3 nodes, %d answered"
                        + " 200; %d writes answered %s after %s ms%n", OUTAGE.toSeconds(), served.size(),
                served.stream().filter(s -> s == 200).count(), refused.size(),
                refused.stream().map(HttpResponse::statusCode).toList(), refusedMillis);
        assertThat(served).as("client requests through the nodes").hasSizeGreaterThan(30).containsOnly(200);
        assertThat(refused).hasSizeGreaterThanOrEqualTo(3).allSatisfy(r -> {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat(r.body()).contains("no quorum");
        });
        assertThat(refusedMillis).allSatisfy(ms -> assertThat(ms).isLessThan(2_000));

        // a write after recovery (retried while it answers 503: etcd may still be electing) is applied
        // by every node within 2 s of recovery
        HttpResponse<String> added = null;
        for (long until = System.nanoTime() + 2_000_000_000L; System.nanoTime() < until; ) {
            added = send(nodes.getFirst(), "POST", "/api/v1/pools/app/servers",
                    "{\"address\":\"127.0.0.2:22100\",\"weight\":0}");
            if (added.statusCode() != 503) {
                break;
            }
        }
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        long revision = JSON.readTree(added.body()).path("revision").asLong();
        List<Double> millis = new ArrayList<>();
        for (AppliedRevisions a : applied) {
            a.awaitApplied(revision, Duration.ofSeconds(10));
            millis.add(EpochNanos.millisBetween(recovered, a.appliedAt(revision).orElseThrow()));
        }
        System.out.printf("cluster: a write after quorum returned was applied by n1, n2, n3 %s ms after recovery%n",
                millis);
        assertThat(millis).allSatisfy(ms -> assertThat(ms).isLessThan(2_000.0));
        for (Node n : nodes) {
            // the refused writes wrote nothing
            assertThat(servers(n).findValuesAsText("address")).as(n.name())
                    .containsExactlyInAnyOrder("127.0.0.1:" + fx.backendPort(), "127.0.0.2:22100");
            await(n.name() + " sees etcd up").atMost(Duration.ofSeconds(2))
                    .until(() -> cluster(n).path("etcd").asText().equals("up"));
        }
    }

    @Test
    void aWriteWhoseAnswerIsLostAnswers504OutcomeUnknownAndItsRetryNeverAppliesTwice() throws Exception {
        String prefix = "/it-unknown";
        fx.writeShared(prefix);
        // the node reaches etcd only through the relay, which loses the network mid-write
        EtcdRelay relay = closer.add(EtcdRelay.to(fx.etcd().endpoint(0)));
        Node node = fx.startNodes(closer, prefix, 1, List.of(relay.endpoint()), "5s").getFirst();
        KeyLayout layout = new KeyLayout(prefix);
        try (EtcdStore store = fx.store(prefix, fx.etcd().endpoints())) {
            // 1. etcd commits the transaction; its answer never reaches the node
            relay.withholdAnswersAfter("{\"address\":\"127.0.0.2:27000\"");
            HttpResponse<String> landed = timedAdd(node, "127.0.0.2:27000");
            assertThat(relay.withholding()).as("the write's transaction went by").isTrue();
            assertThat(landed.statusCode()).as(landed.body()).isEqualTo(504);
            assertThat(landed.body()).contains("outcome unknown");
            assertThat(store.get(layout.server("app", "127.0.0.2:27000"), Duration.ofSeconds(5)).value())
                    .as("it landed all the same").isNotNull();
            relay.resume();
            HttpResponse<String> retried = retried(node, "127.0.0.2:27000");
            assertThat(retried.statusCode()).as("the retry finds it there: " + retried.body()).isEqualTo(409);

            // 2. the transaction never reaches etcd: the connection is cut while it is held
            relay.withholdRequestAt("{\"address\":\"127.0.0.2:27001\"");
            HttpResponse<String> lost = timedAdd(node, "127.0.0.2:27001");
            assertThat(relay.withholding()).as("the write's transaction was held").isTrue();
            assertThat(lost.statusCode()).as(lost.body()).isEqualTo(504);
            assertThat(lost.body()).contains("outcome unknown");
            relay.cut();
            String key = layout.server("app", "127.0.0.2:27001");
            assertThat(store.get(key, Duration.ofSeconds(5)).value()).as("it never landed").isNull();
            HttpResponse<String> again = retried(node, "127.0.0.2:27001");
            assertThat(again.statusCode()).as("the retry writes it: " + again.body()).isEqualTo(201);
            assertThat(store.get(key, Duration.ofSeconds(5)).modRevision())
                    .isEqualTo(JSON.readTree(again.body()).path("revision").asLong());
        }
        await("the node serves each server once").atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(servers(node).findValuesAsText("address")).containsExactlyInAnyOrder(
                        "127.0.0.1:" + fx.backendPort(), "127.0.0.2:27000", "127.0.0.2:27001"));
    }

    /** Adds {@code address} through {@code node}, printing how long the answer took. */
    private static HttpResponse<String> timedAdd(Node node, String address) throws Exception {
        long started = System.nanoTime();
        HttpResponse<String> r = send(node, "POST", "/api/v1/pools/app/servers",
                "{\"address\":\"" + address + "\",\"weight\":0}");
        System.out.printf("cluster admin write %s with its etcd connection lost mid-write: %d after %d ms: %s%n",
                address, r.statusCode(), (System.nanoTime() - started) / 1_000_000, r.body());
        return r;
    }

    /** The same addition again, as an operator retries: again while etcd is not reachable yet (503/504), for 10 s. */
    private static HttpResponse<String> retried(Node node, String address) throws Exception {
        HttpResponse<String>[] last = new HttpResponse[1];
        await("a retry of " + address + " that etcd answers").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(200)).until(() -> {
                    last[0] = send(node, "POST", "/api/v1/pools/app/servers",
                            "{\"address\":\"" + address + "\",\"weight\":0}");
                    return last[0].statusCode() != 503 && last[0].statusCode() != 504;
                });
        return last[0];
    }

    @Test
    void waitAppliedAnswers504WithTheRevisionWhenALiveMemberDoesNotApplyWithinFiveSeconds() throws Exception {
        String prefix = "/it-wait";
        fx.writeShared(prefix);
        // a 10 s lease: the paused node stays a live member for longer than the 5 s wait
        List<Node> nodes = fx.startNodes(closer, prefix, 2, fx.etcd().endpoints(), "10s");
        awaitMembers(nodes);
        signal("STOP", nodes.get(1));
        HttpResponse<String> late;
        long millis;
        try {
            long started = System.nanoTime();
            late = send(nodes.get(0), "POST", "/api/v1/pools/app/servers?wait=applied",
                    "{\"address\":\"127.0.0.2:26000\",\"weight\":0}");
            millis = (System.nanoTime() - started) / 1_000_000;
        } finally {
            signal("CONT", nodes.get(1));
        }
        assertThat(late.statusCode()).as(late.body()).isEqualTo(504);
        assertThat(late.body()).contains("not applied by every live member within 5 s");
        long revision = JSON.readTree(late.body()).path("revision").asLong();
        assertThat(revision).isPositive();
        assertThat(millis).isBetween(5_000L, 7_000L);
        // written all the same: the resumed node catches up
        await("n2 applies it after all").atMost(Duration.ofSeconds(10))
                .until(() -> cluster(nodes.get(1)).path("revision").asLong() >= revision && servers(nodes.get(1)).size() == 2);
    }

    @Test
    void everyNodeMapsTenThousandKeysToTheSameServerWithinOneSecondOfAChange() throws Exception {
        String prefix = "/it-lookup";
        // five servers listed out of address order; only the table matters, nothing is sent to them
        fx.writeShared(prefix, """
                listeners:
                  - {name: web, listen: 127.0.0.1:1, pool: app}
                pools:
                  - name: app
                    algorithm: maglev
                    hash-key: header:x-user
                    health-check: {type: none}
                    servers:
                      - {address: 127.0.0.2:23005}
                      - {address: 127.0.0.2:23001, weight: 2}
                      - {address: 127.0.0.2:23003}
                      - {address: 127.0.0.2:23002}
                      - {address: 127.0.0.2:23004}
                """);
        List<Node> nodes = fx.startNodes(closer, prefix, 3);
        List<String> keys = java.util.stream.IntStream.range(0, 10_000).mapToObj(i -> "user-" + i).toList();
        List<String> before = agreedServers(nodes, keys);
        HttpResponse<String> one = get(nodes.get(2), "/api/v1/pools/app/lookup?key=user-7");
        assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
        assertThat(JSON.readTree(one.body()).path("server").asText()).isEqualTo(before.get(7));

        // a change through node 2: every node holds the new table within 1 s of its answer
        HttpResponse<String> added = send(nodes.get(1), "POST", "/api/v1/pools/app/servers",
                "{\"address\":\"127.0.0.2:23000\",\"weight\":1}");
        long answered = System.nanoTime();
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        String table = JSON.readTree(get(nodes.get(1), "/api/v1/pools/app/lookup?key=x").body()).path("tableHash").asText();
        for (Node n : nodes) {
            await(n.name() + " holds the new table").atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(5))
                    .until(() -> JSON.readTree(get(n, "/api/v1/pools/app/lookup?key=x").body()).path("tableHash")
                            .asText().equals(table));
        }
        System.out.printf("cluster lookup: all 3 nodes on the new table %.1f ms after the change's answer%n",
                (System.nanoTime() - answered) / 1e6);
        List<String> after = agreedServers(nodes, keys);
        long moved = java.util.stream.IntStream.range(0, keys.size()).filter(i -> !before.get(i).equals(after.get(i))).count();
        System.out.printf("cluster lookup: 10000 keys agree on 3 nodes; the sixth server took %d of them%n", moved);
        // about its share (1/7 of the weight); Maglev moves little besides
        assertThat(moved).isBetween(1_000L, 2_000L);
        assertThat(java.util.stream.IntStream.range(0, keys.size())
                .filter(i -> !before.get(i).equals(after.get(i)) && !after.get(i).equals("127.0.0.2:23000")).count())
                .as("keys that moved to an old server").isLessThan(200L);
    }

    @Test
    void oneNodeLeadsAutoScalingAndANewOneLeadsWithinLeaseTtlPlusOneSecondOfItsDeath() throws Exception {
        String prefix = "/it-leader";
        fx.writeShared(prefix);
        List<Node> nodes = fx.startNodes(closer, prefix, 3, fx.etcd().endpoints(), "2s");
        await("one leader, seen by all").atMost(Duration.ofSeconds(10)).until(() -> {
            String first = cluster(nodes.get(0)).path("leader").asText("");
            for (Node n : nodes) {
                if (first.isEmpty() || !cluster(n).path("leader").asText("").equals(first)) {
                    return false;
                }
            }
            return true;
        });
        String leader = cluster(nodes.get(0)).path("leader").asText();
        Node dead = nodes.stream().filter(n -> n.name().equals(leader)).findFirst().orElseThrow();
        List<Node> alive = nodes.stream().filter(n -> n != dead).toList();
        long killed = System.nanoTime();
        dead.process().kill();
        await("a new leader").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
            String a = cluster(alive.get(0)).path("leader").asText("");
            return !a.isEmpty() && !a.equals(leader) && cluster(alive.get(1)).path("leader").asText("").equals(a);
        });
        long millis = (System.nanoTime() - killed) / 1_000_000;
        String next = cluster(alive.get(0)).path("leader").asText();
        System.out.printf("cluster: leader %s killed with -9; %s leads after %d ms (lease-ttl 2 s)%n", leader, next, millis);
        assertThat(millis).isLessThanOrEqualTo(3_000);
        Node newLeader = alive.stream().filter(n -> n.name().equals(next)).findFirst().orElseThrow();
        assertThat(newLeader.process().output()).contains("this node leads auto-scaling");
    }

    @Test
    void onlyTheLeaderScalesOutOnceForTheWholeClusterThroughEtcd() throws Exception {
        String prefix = "/it-scaling";
        Path runs = fx.dir().resolve("scaling-runs");
        Path out = scaleOutScript("scale-out.sh", runs, "", 24000);
        // one listed server and min-servers 2: the leader (only it) adds one at its first step
        writeAutoscaledShared(prefix, out);
        List<Node> nodes = fx.startNodes(closer, prefix, 3);
        for (Node n : nodes) {
            await(n.name() + " serves the scaled-out server").atMost(Duration.ofSeconds(15))
                    .until(() -> servers(n).size() == 2);
        }
        // past several steps and cooldowns, still exactly one scale-out across the cluster
        await("no second scale-out").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> Files.readAllLines(runs).size() == 1 && servers(nodes.get(2)).size() == 2);
        String leader = cluster(nodes.get(0)).path("leader").asText();
        for (Node n : nodes) {
            assertThat(n.process().output().contains("scale-out")).as(n.name() + " scaled out (leader " + leader + ")")
                    .isEqualTo(n.name().equals(leader));
        }
    }

    @Test
    void aLeaderPausedPastItsLeaseCannotActWhenItResumes() throws Exception {
        String prefix = "/it-paused";
        Path runs = fx.dir().resolve("paused-runs");
        // the first run is slow: the leader is paused while its provisioning is under way
        Path out = scaleOutScript("paused-scale-out.sh", runs, "if [ \"$n\" = 1 ]; then sleep 3; fi\n", 25000);
        writeAutoscaledShared(prefix, out);
        List<Node> nodes = fx.startNodes(closer, prefix, 2, fx.etcd().endpoints(), "2s");
        await("the first scale-out starts").atMost(Duration.ofSeconds(15))
                .until(() -> Files.exists(runs) && Files.readAllLines(runs).size() == 1);
        String leader = cluster(nodes.get(0)).path("leader").asText();
        Node paused = nodes.stream().filter(n -> n.name().equals(leader)).findFirst().orElseThrow();
        Node other = nodes.stream().filter(n -> n != paused).findFirst().orElseThrow();
        signal("STOP", paused);
        try {
            await("the other node leads and scales out").atMost(Duration.ofSeconds(15))
                    .until(() -> cluster(other).path("leader").asText("").equals(other.name()) && servers(other).size() == 2);
        } finally {
            signal("CONT", paused);
        }
        await("the resumed node's attempt is refused").atMost(Duration.ofSeconds(15))
                .until(() -> paused.process().output().contains("not applied: this node no longer leads"));
        for (Node n : nodes) {
            await(n.name() + " serves only the new leader's server").atMost(Duration.ofSeconds(5))
                    .until(() -> servers(n).size() == 2);
            assertThat(servers(n).findValuesAsText("address")).doesNotContain("127.0.0.3:25001");
        }
    }

    /**
     * A scale-out script that appends a line to {@code runs} and prints 127.0.0.3:(base + the number
     * of runs so far), running {@code before} (shell lines, {@code n} holding that number) first.
     */
    private static Path scaleOutScript(String name, Path runs, String before, int base) throws IOException {
        Path out = fx.dir().resolve(name);
        Files.writeString(out, """
                #!/bin/sh
                echo run >> '%s'
                n=$(wc -l < '%s')
                %secho "127.0.0.3:$((%d + n))"
                """.formatted(runs, runs, before, base));
        assertThat(out.toFile().setExecutable(true)).isTrue();
        return out;
    }

    /** One listed server (the backend), auto-scaled by {@code scaleOut} to exactly 2 servers. */
    private static void writeAutoscaledShared(String prefix, Path scaleOut) throws IOException {
        fx.writeShared(prefix, """
                listeners:
                  - {name: web, listen: 127.0.0.1:1, pool: app}
                pools:
                  - name: app
                    health-check: {type: none}
                    servers:
                      - {address: 127.0.0.1:%d}
                autoscale:
                  - pool: app
                    metric: {interval: 1s}
                    cooldown: 2s
                    min-servers: 2
                    max-servers: 2
                    provisioner: {type: exec, scale-out: ["%s"], scale-in: ["true"]}
                """.formatted(fx.backendPort(), scaleOut));
    }

    /** Each node's server for every key, from one POST lookup each; asserts all nodes and their tables agree. */
    private static List<String> agreedServers(List<Node> nodes, List<String> keys) throws Exception {
        String body = JSON.writeValueAsString(Map.of("keys", keys));
        List<String> first = null;
        String firstTable = null;
        for (Node n : nodes) {
            HttpResponse<String> r = send(n, "POST", "/api/v1/pools/app/lookup", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode answers = JSON.readTree(r.body());
            List<String> servers = new ArrayList<>();
            answers.forEach(a -> servers.add(a.path("server").asText()));
            String table = answers.get(0).path("tableHash").asText();
            if (first == null) {
                first = servers;
                firstTable = table;
            } else {
                assertThat(table).as(n.name() + "'s table").isEqualTo(firstTable);
                assertThat(servers).as(n.name() + "'s servers for 10000 keys").isEqualTo(first);
            }
        }
        return first;
    }
}
