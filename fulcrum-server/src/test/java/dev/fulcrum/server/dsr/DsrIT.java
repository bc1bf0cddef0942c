package dev.fulcrum.server.dsr;

import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Netns;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 7 end to end: client, balancer and three servers in namespaces of the test's own on a
 * Linux bridge (offloads left on). The client routes the virtual IP 10.88.0.100 to the balancer
 * (as an upstream router would); the balancer runs {@code fulcrum run} with a {@code dsr} section;
 * each server ran {@code fulcrum dsr-server-setup --apply} and serves {@code fulcrum demo-server}
 * on port 80. Requests go through the balancer, responses straight to the client.
 */
class DsrIT {

    private static final String VIP = DsrTestLan.VIP;
    private static final List<String> SERVERS = DsrTestLan.SERVERS;
    private static final List<String> JVM = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @TempDir
    Path dir;

    @BeforeAll
    static void needsNetns() {
        assumeTrue(Netns.unavailableReason().isEmpty(), () -> "skipped: " + Netns.unavailableReason().orElse(""));
    }

    @AfterAll
    static void noNamespaceLeft() throws IOException {
        if (Netns.unavailableReason().isEmpty()) {
            assertThat(Netns.leftovers()).as("network namespaces left behind").isEmpty();
        }
    }

    private DsrTestLan start() throws Exception {
        return start(false);
    }

    /** The LAN with servers and balancer running; {@code answerArp}: no route, the balancer answers ARP. */
    private DsrTestLan start(boolean answerArp) throws Exception {
        DsrTestLan lan = closer.add(DsrTestLan.create(!answerArp));
        lan.startServers(closer, JVM);
        Path config = dir.resolve("lb.yaml");
        Files.writeString(config, """
                name: dsr-lb
                pools:
                  - name: web
                    servers:
                      - address: %s:80
                      - address: %s:80
                      - address: %s:80
                    health-check:
                %s
                dsr:
                  interface: eth0
                  virtual-ip: %s
                  ports: [80]
                  pool: web
                  answer-arp: %s
                """.formatted(SERVERS.get(0), SERVERS.get(1), SERVERS.get(2),
                // with answer-arp, no checks either: MACs must then come from Fulcrum's own ARP prompts
                answerArp ? "      type: none" : "      interval: 500ms\n      timeout: 400ms", VIP, answerArp));
        FulcrumProcess lb = closer.add(FulcrumProcess.start("dsr-lb", lan.balancer.commandPrefix(), JVM,
                "run", "-c", config.toString()));
        // ready when every server has a MAC and takes flows (admin status, inside the namespace)
        lb.awaitReady("forwarding to 3 servers", () -> {
            String status = lan.balancer.exec(Duration.ofSeconds(5),
                    List.of("curl", "-s", "-m", "1", "http://127.0.0.1:9901/api/v1/status")).stdout();
            return status.split("\"newFlows\":true", -1).length - 1 == 3;
        }, Duration.ofSeconds(40));
        return lan;
    }

    @Test
    void requestsSpreadOverTheServersAndLargeResponsesBypassTheBalancer() throws Exception {
        DsrTestLan lan = start();

        // 200 requests, each a new connection from a new source port: a new flow each
        String out = lan.client.exec(Duration.ofSeconds(120), List.of("bash", "-c",
                "for i in $(seq 200); do echo $(curl -s -m 2 -w ' %{http_code}' http://" + VIP + "/); done")).stdout();
        Map<String, Integer> perServer = new TreeMap<>();
        int ok = 0;
        for (String line : out.lines().toList()) {
            if (line.endsWith(" 200")) {
                ok++;
                perServer.merge(line.split(" ")[1], 1, Integer::sum); // "server s1 200"
            }
        }
        assertThat(ok).as("requests answered 200 of 200; " + out.lines().filter(l -> !l.endsWith(" 200")).toList())
                .isEqualTo(200);
        assertThat(perServer.keySet()).containsExactly("s1", "s2", "s3");
        assertThat(perServer.values()).allSatisfy(n -> assertThat(n).isBetween(30, 110));

        System.out.println("DsrIT: 200 requests over the servers " + perServer);
        // the event feed said when each server became reachable (the SSE replay, then curl's timeout)
        String events = lan.balancer.exec(Duration.ofSeconds(10), List.of("curl", "-s", "-N", "-m", "2",
                "http://127.0.0.1:9901/api/v1/events")).stdout();
        for (String server : SERVERS) {
            assertThat(events).contains("\"type\":\"dsr-mac-learned\",\"pool\":\"web\",\"server\":\"" + server + ":80\"");
        }

        // 10 MiB down: right bytes, and the balancer's interface carried at most 2% of them
        long before = lan.balancerBytes();
        String sha = lan.client.exec(Duration.ofSeconds(60), List.of("bash", "-c",
                "curl -s -m 30 http://" + VIP + "/bytes?n=10485760 | sha256sum")).stdout().split(" ")[0];
        long carried = lan.balancerBytes() - before;
        String direct = lan.client.exec(Duration.ofSeconds(60), List.of("bash", "-c",
                "curl -s -m 30 http://" + SERVERS.get(0) + "/bytes?n=10485760 | sha256sum")).stdout().split(" ")[0];
        assertThat(sha).as("sha256 through DSR vs straight from a server").isEqualTo(direct).hasSize(64);
        System.out.printf("DsrIT: 10 MiB response, balancer interface carried %d bytes (%.2f%%)%n", carried,
                100.0 * carried / (10L << 20));
        assertThat(carried).as("bytes through the balancer's interface for a 10 MiB response")
                .isLessThanOrEqualTo((10L << 20) / 50);

        // 2 MiB up: arrives intact
        String up = lan.client.exec(Duration.ofSeconds(60), List.of("bash", "-c",
                "head -c 2097152 /dev/urandom > /tmp/dsr-up-$$ && sha256sum /tmp/dsr-up-$$ | cut -d' ' -f1 && "
                        + "curl -s -m 30 --data-binary @/tmp/dsr-up-$$ http://" + VIP + "/upload; rm -f /tmp/dsr-up-$$"))
                .stdout();
        List<String> lines = up.lines().toList();
        assertThat(lines.get(1)).isEqualTo("received 2097152 bytes sha256 " + lines.get(0));

        // the dsr pool takes only IPv4 servers (DSR finds their MACs by IPv4 address): the admin
        // API refuses a name with one sentence, and the pool is unchanged
        String refused = lan.balancer.exec(Duration.ofSeconds(10), List.of("curl", "-s", "-m", "2", "-w", " %{http_code}",
                "-X", "POST", "-H", "Content-Type: application/json", "-d", "{\"address\":\"backend.local:80\"}",
                "http://127.0.0.1:9901/api/v1/pools/web/servers")).stdout();
        assertThat(refused).contains("\"error\":\"pool web is the dsr pool: backend.local:80 must be an IPv4 address")
                .endsWith(" 400");
        assertThat(lan.balancer.exec(Duration.ofSeconds(10), List.of("curl", "-s", "-m", "2",
                "http://127.0.0.1:9901/api/v1/pools/web/servers")).stdout()).doesNotContain("backend.local");
    }

    /**
     * Six slow downloads (each from its own client port) run while server 1 fails its health
     * check: the downloads on the other servers finish whole, and no new request reaches server 1.
     */
    @Test
    void aServerFailedByItsHealthCheckGetsNoNewFlowsAndOthersAreUndisturbed() throws Exception {
        DsrTestLan lan = start();
        int downloads = 6;
        int size = 1_500_000;
        StringBuilder script = new StringBuilder();
        for (int i = 0; i < downloads; i++) {
            script.append("curl -s --local-port ").append(41000 + i).append(" --limit-rate 300k -m 60 -o /dev/null")
                    .append(" -w '").append(41000 + i).append(" %{size_download} %{http_code}\\n' http://")
                    .append(VIP).append("/bytes?n=").append(size).append(" &\n");
        }
        script.append("wait\n");
        Path clientOut = dir.resolve("downloads.txt");
        Process clients = new ProcessBuilder(concat(lan.client.commandPrefix(), List.of("bash", "-c", script.toString())))
                .redirectErrorStream(true).redirectOutput(clientOut.toFile()).start();
        closer.add(clients::destroyForcibly);

        // which server holds which download: its established connections from the client's ports
        Map<Integer, String> serverOfPort = new TreeMap<>();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            StringBuilder seen = new StringBuilder();
            for (int i = 0; i < SERVERS.size(); i++) {
                String ss = lan.servers.get(i).run("ss", "-Htn");
                seen.append("s").append(i + 1).append(": ").append(ss);
                for (int port = 41000; port < 41000 + downloads; port++) {
                    // the demo server's socket is dual-stack: [::ffff:10.88.0.2]:41000
                    if (ss.contains("10.88.0.2:" + port) || ss.contains("10.88.0.2]:" + port)) {
                        serverOfPort.put(port, "s" + (i + 1));
                    }
                }
            }
            assertThat(serverOfPort).as("client ports seen on the servers; " + seen + "; downloads: "
                    + Files.readString(clientOut) + "; script: " + script).hasSize(downloads);
        });

        // server 1 fails its health check (asked directly, not through the virtual IP)
        lan.client.run("curl", "-s", "-m", "2", "-X", "POST", "http://" + SERVERS.get(0) + "/admin/fail");
        // down after fall (3) failed checks at 500 ms: then 2 servers take new flows
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() ->
                lan.balancer.exec(Duration.ofSeconds(5), List.of("curl", "-s", "-m", "1",
                        "http://127.0.0.1:9901/api/v1/status")).stdout().split("\"newFlows\":true", -1).length - 1 == 2);

        String fresh = lan.client.exec(Duration.ofSeconds(60), List.of("bash", "-c",
                "for i in $(seq 60); do echo $(curl -s -m 2 -w ' %{http_code}' http://" + VIP + "/); done")).stdout();
        assertThat(fresh.lines()).as("new requests after server 1 went down").hasSize(60)
                .allSatisfy(l -> assertThat(l).endsWith(" 200").doesNotContain("server s1"));

        assertThat(clients.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)).as("downloads finished").isTrue();
        Map<Integer, String> results = new TreeMap<>();
        for (String line : Files.readString(clientOut).lines().toList()) {
            String[] f = line.split(" ");
            results.put(Integer.parseInt(f[0]), f[1] + " " + f[2]);
        }
        System.out.println("DsrIT: downloads by server " + serverOfPort + " -> " + results);
        long others = serverOfPort.values().stream().filter(srv -> !srv.equals("s1")).count();
        assertThat(others).as("downloads on servers 2 and 3").isPositive();
        serverOfPort.forEach((port, srv) -> {
            if (!srv.equals("s1")) {
                assertThat(results.get(port)).as("download from port " + port + " on " + srv)
                        .isEqualTo(size + " 200");
            }
        });
    }

    /**
     * Path MTU discovery works through DSR: a server's 1500-byte answers cannot cross the router's
     * 1400-byte link to a client on another network; the router's "fragmentation needed" goes to
     * the virtual IP, i.e. to the balancer, which must hand it to the server that sent them, or the
     * download stalls (a PMTU black hole: Linux does not probe by default).
     */
    @Test
    void fragmentationNeededFromARouterReachesTheServerAndTheDownloadCompletes() throws Exception {
        DsrTestLan lan = start();
        Netns far = lan.farClientBehindRouter(1400);

        String out = far.exec(Duration.ofSeconds(60), List.of("bash", "-c",
                "curl -s -m 20 -w ' %{size_download} %{http_code}\\n' -o /dev/null http://" + VIP + "/bytes?n=1048576"))
                .stdout();

        assertThat(out.strip()).as("1 MiB from behind the 1400-byte link").isEqualTo("1048576 200");
        // the servers learned the smaller path MTU for the client
        StringBuilder routes = new StringBuilder();
        for (Netns server : lan.servers) {
            routes.append(server.run("ip", "route", "get", "10.77.0.2", "from", VIP));
        }
        assertThat(routes.toString()).as("servers' routes to the far client").contains("mtu 1400");
    }

    /**
     * Without a route: the client ARPs for the virtual IP on its network and the balancer
     * answers. The pool has no health checks here, so the servers' MACs are learned by ARP that
     * Fulcrum prompts itself.
     */
    @Test
    void withAnswerArpTheClientReachesTheVirtualIpWithoutARoute() throws Exception {
        DsrTestLan lan = start(true);
        String out = lan.client.exec(Duration.ofSeconds(60), List.of("bash", "-c",
                "for i in $(seq 30); do echo $(curl -s -m 2 -w ' %{http_code}' http://" + VIP + "/); done")).stdout();
        assertThat(out.lines()).hasSize(30).allSatisfy(l -> assertThat(l).endsWith(" 200"));
        assertThat(out.lines().map(l -> l.split(" ")[1]).distinct()).hasSizeGreaterThan(1);
        String balancerMac = lan.balancer.run("cat", "/sys/class/net/eth0/address").strip();
        assertThat(lan.client.run("ip", "neigh", "show", VIP)).contains("lladdr " + balancerMac);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
