package dev.fulcrum.server.cluster;

import dev.fulcrum.server.cluster.FlowClientProcess.Flow;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Netns;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static dev.fulcrum.server.cluster.ClusterFixture.JVM;
import static dev.fulcrum.server.cluster.ClusterFixture.yamlList;
import static dev.fulcrum.server.cluster.EcmpNetwork.INFRA;
import static dev.fulcrum.server.cluster.EcmpNetwork.NODES;
import static dev.fulcrum.server.cluster.EcmpNetwork.VIRTUAL_IP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cluster behind a router, as in production: a client namespace, a router namespace whose
 * route to the virtual IP is a resilient multipath next-hop group over 3 node namespaces, each
 * running a real Fulcrum node (cluster section, a 3-member etcd and 2 demo servers in an
 * infrastructure namespace) listening on the virtual IP. 600 keep-alive flows from the client
 * spread about evenly over the nodes; the router then drops one node, and every flow of the other
 * two keeps its node (a request on each still succeeds on the same TCP connection — a moved flow
 * would be reset by a node that never saw it, as the dropped node's flows are) and new flows
 * land on the two left. Which node holds a flow is read from each node's socket table ({@code ss}),
 * and each node's own request counter must have grown by exactly the requests it was seen to serve.
 * Needs root and {@code ip netns}; skipped with the reason otherwise. See {@link EcmpNetwork}.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class EcmpIT {

    private static final int FLOWS = 600;
    private static final int NEW_FLOWS = 60;
    private static final int PORT = 80;
    private static final int DROPPED = 3;
    private static final Duration COMMAND_BOUND = Duration.ofSeconds(60);

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @TempDir
    Path dir;

    @BeforeAll
    static void needsNetnsEtcdAndKernel() {
        assumeTrue(Netns.unavailableReason().isEmpty(), () -> "skipped: " + Netns.unavailableReason().orElse(""));
        assumeTrue(EtcdCluster.available(), "skipped: no etcd binary: apt-get install etcd-server");
        assumeTrue(EcmpNetwork.unsupportedReason().isEmpty(),
                () -> "skipped: " + EcmpNetwork.unsupportedReason().orElse(""));
    }

    @AfterAll
    static void noNamespaceLeft() throws IOException {
        if (Netns.unavailableReason().isEmpty()) {
            assertThat(Netns.leftovers()).as("network namespaces left behind").isEmpty();
        }
    }

    @Test
    void flowsSpreadOverTheNodesAndANodeLeavingMovesNoneOfTheOthersFlows() throws Exception {
        EcmpNetwork net = closer.add(EcmpNetwork.create());
        EtcdCluster etcd = closer.add(EtcdCluster.startIn(net.infra(), INFRA, 3, dir.resolve("etcd")));
        startCluster(net, etcd.endpoints());
        FlowClientProcess client = closer.add(FlowClientProcess.start(net.client(), VIRTUAL_IP, PORT));
        Map<Integer, Long> served = served(net);

        List<Flow> first = client.open(FLOWS, COMMAND_BOUND);
        assertThat(first).as("first request of each flow").hasSize(FLOWS).allMatch(Flow::ok);
        Map<Integer, Integer> nodeOf = nodeOfEachFlow(net);
        Map<Integer, Integer> perNode = perNode(first, nodeOf);
        System.out.printf("ECMP: %d flows per node %s; buckets per node %s%n", FLOWS, perNode, net.bucketsPerNode());
        for (int i = 1; i <= NODES; i++) {
            // a third is 200; 20%..47% leaves room for a fair hash's spread over 600 flows, none for a skew
            assertThat(perNode.getOrDefault(i, 0)).as("flows on node " + i + " of " + perNode)
                    .isBetween(FLOWS * 20 / 100, FLOWS * 47 / 100);
        }
        served = awaitServed(net, served, perNode);

        net.leaveGroup(Set.of(DROPPED));
        System.out.printf("ECMP: node %d left the group; buckets per node %s%n", DROPPED, net.bucketsPerNode());
        List<Flow> second = client.again(COMMAND_BOUND);
        assertThat(second).hasSize(FLOWS);
        // a flow moved to another node is reset there (that node never saw the connection), as
        // every flow of the node that left is: its requests fail, the others' must not
        assertThat(second.stream().filter(f -> nodeOf.get(f.port()) != DROPPED && !f.ok()).toList())
                .as("requests on the flows of the nodes that stay (port, status, answer)").isEmpty();
        assertThat(second.stream().filter(f -> nodeOf.get(f.port()) == DROPPED && f.ok()).toList())
                .as("requests on the flows of the node that left, answered").isEmpty();
        served = awaitServed(net, served, perNode(second.stream().filter(Flow::ok).toList(), nodeOf));
        Map<Integer, Integer> nodeAfter = nodeOfEachFlow(net);
        for (Flow f : second) {
            if (f.ok()) {
                assertThat(nodeAfter.get(f.port())).as("node of the flow from port " + f.port())
                        .isEqualTo(nodeOf.get(f.port()));
            }
        }

        List<Flow> fresh = client.open(NEW_FLOWS, COMMAND_BOUND);
        assertThat(fresh).as("new flows after the node left").hasSize(NEW_FLOWS).allMatch(Flow::ok);
        Map<Integer, Integer> freshPerNode = perNode(fresh, nodeOfEachFlow(net));
        System.out.printf("ECMP: %d new flows per node %s%n", NEW_FLOWS, freshPerNode);
        assertThat(freshPerNode).doesNotContainKey(DROPPED);
        assertThat(freshPerNode.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(NEW_FLOWS);
        awaitServed(net, served, freshPerNode);
    }

    /**
     * Two demo servers in the infrastructure namespace, the shared config pushed to etcd with
     * {@code fulcrum cluster push} from there, and a node in each node namespace whose file has no
     * listener of its own: the shared one listens on the virtual IP, held by every node. Returns
     * once each node answers through its own listener and sees all 3 members.
     */
    private void startCluster(EcmpNetwork net, List<String> etcd) throws Exception {
        for (int s = 1; s <= 2; s++) {
            int port = 8000 + s;
            closer.add(FulcrumProcess.start("ecmp-server-" + s, net.infra().commandPrefix(), JVM, "demo-server",
                    "--host", INFRA, "--port", Integer.toString(port), "--name", "s" + s))
                    .awaitReady("listening on " + port, () -> net.infra().listening(port), Duration.ofSeconds(40));
        }
        Path shared = dir.resolve("shared.yaml");
        Files.writeString(shared, """
                name: ops
                cluster:
                  etcd: %s
                  prefix: /ecmp
                listeners:
                  - {name: web, listen: "%s:%d", pool: app}
                pools:
                  - name: app
                    health-check: {interval: 500ms, timeout: 400ms, rise: 1}
                    servers:
                      - {address: "%s:8001"}
                      - {address: "%s:8002"}
                """.formatted(yamlList(etcd), VIRTUAL_IP, PORT, INFRA, INFRA));
        FulcrumProcess push = closer.add(FulcrumProcess.start("ecmp-push", net.infra().commandPrefix(), JVM,
                "cluster", "push", "-c", shared.toString()));
        assertThat(push.process().waitFor(40, TimeUnit.SECONDS)).as("cluster push finished").isTrue();
        assertThat(push.process().exitValue()).as(push.output()).isZero();

        // one node after the other: three cold JVMs at once on a busy machine can take longer than
        // a node's first etcd read may (2 s), and a node without saved state then exits
        for (int i = 1; i <= NODES; i++) {
            Path file = dir.resolve("n" + i + ".yaml");
            Files.writeString(file, """
                    name: n%d
                    admin: {listen: "127.0.0.1:9901"}
                    cluster:
                      etcd: %s
                      prefix: /ecmp
                      lease-ttl: 5s
                      state-dir: %s
                    """.formatted(i, yamlList(etcd), dir.resolve("state-n" + i)));
            Netns node = net.node(i);
            closer.add(FulcrumProcess.start("ecmp-n" + i, node.commandPrefix(), JVM, "run", "-c", file.toString()))
                    .awaitReady("serving on the virtual IP", () -> curl(node, "http://" + VIRTUAL_IP + ":" + PORT + "/")
                            .startsWith("200 server s"), Duration.ofSeconds(60));
        }
        for (int i = 1; i <= NODES; i++) {
            Netns node = net.node(i);
            await("n" + i + " sees " + NODES + " members").atMost(Duration.ofSeconds(20)).until(() -> {
                String answer = curl(node, "http://127.0.0.1:9901/api/v1/cluster");
                return answer.startsWith("200 ") && JSON.readTree(answer.substring(4)).path("members").size() == NODES;
            });
        }
    }

    /** {@code curl URL} inside {@code netns}: "STATUS BODY" ("000 " when there was no answer). */
    private static String curl(Netns netns, String url) throws IOException {
        Netns.Result r = netns.exec(Duration.ofSeconds(5),
                List.of("curl", "-s", "-m", "2", "-w", "%{http_code} ", "-o", "/dev/stderr", url));
        return r.stdout().strip() + " " + r.stderr().strip();
    }

    /**
     * Each node's own count of answered requests ({@code fulcrum_requests_total}, 2xx, from its
     * {@code /metrics} inside its namespace), node by node.
     */
    private static Map<Integer, Long> served(EcmpNetwork net) throws IOException {
        Map<Integer, Long> served = new TreeMap<>();
        for (int i = 1; i <= NODES; i++) {
            String metrics = curl(net.node(i), "http://127.0.0.1:9901/metrics");
            assertThat(metrics).as("n" + i + " /metrics").startsWith("200 ");
            long sum = 0;
            for (String line : metrics.split("\n")) {
                if (line.startsWith("fulcrum_requests_total{") && line.contains("code=\"2xx\"")) {
                    sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            served.put(i, sum);
        }
        return served;
    }

    /**
     * Waits (a counter may be a moment behind the answer the client read) until each node's own
     * request count grew since {@code since} by what the client saw it serve — {@code expected},
     * absent = 0 — and returns the counts.
     */
    private static Map<Integer, Long> awaitServed(EcmpNetwork net, Map<Integer, Long> since,
            Map<Integer, Integer> expected) {
        Map<Integer, Long> want = new TreeMap<>();
        for (int i = 1; i <= NODES; i++) {
            want.put(i, since.get(i) + expected.getOrDefault(i, 0));
        }
        await("each node's own count of answered requests to reach " + want).atMost(Duration.ofSeconds(5))
                .until(() -> served(net), want::equals);
        return want;
    }

    /** Client source port to the node holding that connection, from every node's socket table. */
    private static Map<Integer, Integer> nodeOfEachFlow(EcmpNetwork net) throws IOException {
        Map<Integer, Integer> nodeOf = new HashMap<>();
        for (int i = 1; i <= NODES; i++) {
            for (int port : net.clientPortsOn(i, PORT)) {
                Integer other = nodeOf.put(port, i);
                assertThat(other).as("client port " + port + " established on two nodes").isNull();
            }
        }
        return nodeOf;
    }

    /** How many of {@code flows} each node holds; a flow no node holds fails the test. */
    private static Map<Integer, Integer> perNode(List<Flow> flows, Map<Integer, Integer> nodeOf) {
        Map<Integer, Integer> counts = new TreeMap<>();
        for (Flow f : flows) {
            Integer node = nodeOf.get(f.port());
            assertThat(node).as("the node holding the flow from client port " + f.port()).isNotNull();
            counts.merge(node, 1, Integer::sum);
        }
        return counts;
    }
}
