package dev.fulcrum.server.dsr;

import dev.fulcrum.core.balance.MaglevTable;
import dev.fulcrum.core.dsr.Ipv4Frame;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Netns;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 17: DSR on a cluster node, in namespaces of the test's own (the LAN of {@link DsrIT}; etcd
 * runs on the balancer's loopback). The pool comes from etcd ({@code fulcrum cluster push}), so
 * the node builds the shared table: the test computes each flow's server from the shared server
 * set alone (Maglev over the addresses in order) — what every node of a cluster does.
 *
 * <p>A flow "moved by ECMP" is played for real: the client first reaches the virtual IP straight
 * through server 1 (as if another balancer had picked it under the old table) and opens an
 * upload; a server is added through the admin API (the table changes); then the client's route
 * to the virtual IP switches to the balancer, which has never seen that connection, and the upload
 * goes on. Within {@code dsr.table-grace} its packets (no SYN) follow the old table and the upload
 * completes; after it, an idle connection moved the same way goes by the new table, whose server
 * resets it.
 */
class DsrClusterIT {

    private static final String VIP = DsrTestLan.VIP;
    private static final List<String> SERVERS = DsrTestLan.SERVERS;
    private static final String CLIENT = "10.88.0.2";
    private static final List<String> JVM = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    private static final Duration GRACE = Duration.ofSeconds(10);
    private static final Pattern BYTES_ACKED = Pattern.compile("bytes_acked:(\\d+)");

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @TempDir
    Path dir;

    @BeforeAll
    static void needsNetnsAndEtcd() {
        assumeTrue(Netns.unavailableReason().isEmpty(), () -> "skipped: " + Netns.unavailableReason().orElse(""));
        assumeTrue(EtcdCluster.available(), "skipped: no etcd binary (apt-get install etcd-server)");
    }

    @AfterAll
    static void noNamespaceLeft() throws IOException {
        if (Netns.unavailableReason().isEmpty()) {
            assertThat(Netns.leftovers()).as("network namespaces left behind").isEmpty();
        }
    }

    @Test
    void aFlowMovedHereRightAfterATableChangeKeepsItsServerAndOneMovedAfterTheGraceDoesNot() throws Exception {
        DsrTestLan lan = closer.add(DsrTestLan.create(true));
        lan.startServers(closer, JVM);
        startNode(lan);

        // flows that the old table (servers 1, 2) gives server 1 and the new one (1, 2, 3) another
        MaglevTable before = MaglevTable.build(names(2), new int[] {1, 1}, MaglevTable.DEFAULT_SIZE);
        MaglevTable after = MaglevTable.build(names(3), new int[] {1, 1, 1}, MaglevTable.DEFAULT_SIZE);
        String server1 = SERVERS.get(0);
        IntPredicate movesFromServer1 = port -> server(before, port, 2).equals(server1)
                && !server(after, port, 3).equals(server1);
        int moved = firstPort(40_000, movesFromServer1);
        int idle = firstPort(moved + 1, movesFromServer1);
        int opened = firstPort(idle + 1, port -> !server(before, port, 2).equals(server(after, port, 3)));

        // two uploads open straight through server 1, as another balancer would have sent them
        lan.client.run("ip", "route", "replace", VIP + "/32", "via", server1);
        Upload graceUpload = new Upload(lan, moved);
        Upload lateUpload = new Upload(lan, idle);
        await("both connections established on server 1").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100)).until(() -> {
                    String ss = lan.servers.get(0).run("ss", "-Htn", "state", "established");
                    // the demo server's socket is dual-stack: [::ffff:10.88.0.2]:40000
                    return ss.contains(CLIENT + "]:" + moved) && ss.contains(CLIENT + "]:" + idle)
                            && graceUpload.sentAndAcked() && lateUpload.sentAndAcked();
                });

        // the table changes: server 3 joins through the admin API, applied by the node when it answers
        String added = admin(lan, "-X", "POST", "-H", "Content-Type: application/json", "-d",
                "{\"address\":\"" + SERVERS.get(2) + ":80\"}", "http://127.0.0.1:9901/api/v1/pools/web/servers");
        long changed = System.nanoTime();
        assertThat(added).contains("\"revision\"").endsWith(" 201");
        // the router moves the client's flows to this balancer
        lan.client.run("ip", "route", "replace", VIP + "/32", "via", "10.88.0.10");

        String result = graceUpload.finish();
        assertThat(result).as("the moved upload, finished within the grace period")
                .startsWith("received " + Upload.TOTAL + " bytes sha256 ").endsWith(" exit 0");
        assertThat(System.nanoTime() - changed).as("finished within the grace period")
                .isLessThan(GRACE.minusSeconds(1).toNanos());

        // a new connection during the grace period goes by the new table
        await("server 3's MAC learned").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> admin(lan, "http://127.0.0.1:9901/api/v1/status").split("\"newFlows\":true", -1).length - 1 == 3);
        String fresh = lan.client.exec(Duration.ofSeconds(10), List.of("curl", "-s", "-m", "3", "--local-port",
                String.valueOf(opened), "http://" + VIP + "/")).stdout();
        assertThat(fresh).as("a SYN during the grace period").contains("server s" + (SERVERS.indexOf(server(after, opened, 3)) + 1));
        assertThat(System.nanoTime() - changed).as("still within the grace period")
                .isLessThan(GRACE.minusSeconds(1).toNanos());
        await("the grace flow counted").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> admin(lan, "http://127.0.0.1:9901/metrics").contains("\nfulcrum_dsr_grace_flows_total 1.0\n"));

        // after the grace period, a connection moved here goes by the new table: its server resets it
        String newServer = server(after, idle, 3);
        Netns resetter = lan.servers.get(SERVERS.indexOf(newServer));
        long resetsBefore = tcpOutRsts(resetter);
        await("the grace period ends").atMost(GRACE.plusSeconds(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> System.nanoTime() - changed > GRACE.plusSeconds(2).toNanos());
        String late = lateUpload.finish();
        assertThat(late).as("the upload moved after the grace period").doesNotContain("received")
                .doesNotEndWith(" exit 0");
        assertThat(tcpOutRsts(resetter)).as("resets sent by " + newServer + ", the new table's server")
                .isGreaterThan(resetsBefore);
        System.out.printf("DsrClusterIT: moved within the grace -> %s; after it -> reset by %s (%s)%n", result,
                newServer, late);
    }

    /** etcd on the balancer's loopback, the shared pool pushed to it, and the node running with DSR. */
    private void startNode(DsrTestLan lan) throws Exception {
        Path data = dir.resolve("etcd");
        lan.balancer.start("dsr-cluster-etcd", List.of("etcd", "--name", "e1", "--data-dir", data.toString(),
                "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
                "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                "--initial-cluster", "e1=http://127.0.0.1:2380"));
        String dsr = """
                dsr:
                  interface: eth0
                  virtual-ip: %s
                  ports: [80]
                  pool: web
                  table-grace: %ds
                """.formatted(VIP, GRACE.toSeconds());
        String cluster = """
                cluster:
                  etcd: ["http://127.0.0.1:2379"]
                  prefix: /dsr
                  state-dir: %s
                """.formatted(dir.resolve("state"));
        // server 2 is listed first: the node's table must not depend on the order servers were written in
        Path shared = Files.writeString(dir.resolve("shared.yaml"), "name: dsr-push\n" + cluster + """
                pools:
                  - name: web
                    servers:
                      - address: %s:80
                      - address: %s:80
                    health-check:
                      type: none
                """.formatted(SERVERS.get(1), SERVERS.get(0)) + dsr);
        Path node = Files.writeString(dir.resolve("lb.yaml"), "name: lb-1\nadmin: {listen: 127.0.0.1:9901}\n"
                + cluster + dsr);
        String java = ProcessHandle.current().info().command().orElse("java");
        await("etcd answers in the balancer's namespace").atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> lan.balancer.exec(
                        Duration.ofSeconds(5), List.of(java, "-jar", System.getProperty("fulcrum.jar"), "cluster",
                                "push", "-c", shared.toString())).ok());
        FulcrumProcess lb = closer.add(FulcrumProcess.start("dsr-cluster-lb", lan.balancer.commandPrefix(), JVM,
                "run", "-c", node.toString()));
        lb.awaitReady("forwarding to 2 servers", () -> admin(lan, "http://127.0.0.1:9901/api/v1/status")
                .split("\"newFlows\":true", -1).length - 1 == 2, Duration.ofSeconds(40));
    }

    /** curl in the balancer's namespace (its admin API), with {@code -w ' %{http_code}'}. */
    private static String admin(DsrTestLan lan, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "-m", "5", "-w", " %{http_code}"));
        command.addAll(Arrays.asList(args));
        return lan.balancer.exec(Duration.ofSeconds(10), command).stdout();
    }

    /**
     * An upload from the client's {@code port} to the virtual IP whose body the test writes: part
     * now (so the connection is open and known to its server), the rest at {@link #finish()}.
     */
    private final class Upload {
        static final int FIRST = 1_000;
        static final int TOTAL = 101_000;
        private final DsrTestLan lan;
        private final int port;
        private final Process curl;
        private final Path out;

        Upload(DsrTestLan lan, int port) throws IOException {
            this.lan = lan;
            this.port = port;
            out = dir.resolve("upload-" + port + ".txt");
            List<String> command = new ArrayList<>(lan.client.commandPrefix());
            // chunked from stdin, no Expect: 100-continue, so every byte goes as it is written
            command.addAll(List.of("curl", "-s", "-m", "60", "--local-port", String.valueOf(port), "-H", "Expect:",
                    "-X", "POST", "-T", "-", "http://" + VIP + "/upload"));
            curl = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            closer.add(curl::destroyForcibly);
            curl.getOutputStream().write(new byte[FIRST]);
            curl.getOutputStream().flush();
        }

        /**
         * Whether the client's stack has sent the first part and server 1 acknowledged all of it:
         * nothing of it is left to retransmit once the route changes, so the connection stays idle.
         */
        boolean sentAndAcked() throws IOException {
            String info = lan.client.run("ss", "-Htni", "state", "established", "sport", "=", ":" + port);
            Matcher acked = BYTES_ACKED.matcher(info);
            return acked.find() && Long.parseLong(acked.group(1)) > FIRST && !info.contains("unacked:");
        }

        /** Writes the rest, ends the body; what curl printed and its exit code ("... exit N"). */
        String finish() throws IOException, InterruptedException {
            try (OutputStream body = curl.getOutputStream()) {
                body.write(new byte[TOTAL - FIRST]);
            } catch (IOException e) {
                // curl gave up (reset): its exit code says so
            }
            assertThat(curl.waitFor(30, TimeUnit.SECONDS)).as("curl finished").isTrue();
            return Files.readString(out).strip() + " exit " + curl.exitValue();
        }
    }

    private static List<String> names(int servers) {
        return SERVERS.subList(0, servers).stream().map(s -> s + ":80").toList();
    }

    /** The server a table gives the client's flow from {@code port} to the virtual IP's port 80. */
    private static String server(MaglevTable table, int port, int servers) {
        String name = names(servers).get(table.lookup(flowHash(port)));
        return name.substring(0, name.indexOf(':'));
    }

    private static int firstPort(int from, IntPredicate wanted) {
        for (int port = from; port < 60_000; port++) {
            if (wanted.test(port)) {
                return port;
            }
        }
        throw new AssertionError("no port from " + from + " fits");
    }

    /** The DSR flow hash of client:port → VIP:80 over TCP, from a frame as the balancer reads it. */
    private static long flowHash(int port) {
        ByteBuffer frame = ByteBuffer.allocate(14 + 20 + 20);
        frame.putShort(12, (short) 0x0800);
        frame.put(14, (byte) 0x45);
        frame.putShort(16, (short) 40);
        frame.put(23, (byte) Ipv4Frame.TCP);
        frame.put(26, address(CLIENT));
        frame.put(30, address(VIP));
        frame.putShort(34, (short) port);
        frame.putShort(36, (short) 80);
        Ipv4Frame parsed = new Ipv4Frame();
        assertThat(parsed.parse(frame, 0, frame.capacity())).isTrue();
        return parsed.flowHash();
    }

    private static byte[] address(String dotted) {
        byte[] b = new byte[4];
        String[] parts = dotted.split("\\.");
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(parts[i]);
        }
        return b;
    }

    /** TCP resets a namespace's stack has sent ({@code OutRsts} of {@code /proc/net/snmp}). */
    private static long tcpOutRsts(Netns ns) throws IOException {
        List<String> tcp = ns.run("cat", "/proc/net/snmp").lines().filter(l -> l.startsWith("Tcp:")).toList();
        int column = Arrays.asList(tcp.get(0).split(" ")).indexOf("OutRsts");
        return Long.parseLong(tcp.get(1).split(" ")[column]);
    }
}
