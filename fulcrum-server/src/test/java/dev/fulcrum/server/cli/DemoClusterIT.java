package dev.fulcrum.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.testing.EtcdCluster;
import dev.fulcrum.server.testing.ItLogs;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code fulcrum demo --cluster} as a user runs it: the shaded jar as a process, its 3 etcd
 * members, 3 nodes and 3 demo servers as its children, stopped with SIGINT as Ctrl-C sends it.
 * Ports: 9 consecutive free ones below the ephemeral range (listeners, admin APIs, demo servers),
 * never the defaults, which a person's demo may hold.
 */
class DemoClusterIT {

    private static final Path JAR = Path.of(System.getProperty("fulcrum.jar")).toAbsolutePath();
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    /** Start-up of 9 processes, 4 of them JVMs with jetcd, on a loaded 2-core machine. */
    private static final Duration START_BOUND = Duration.ofSeconds(120);
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Process demo;
    private Path out;
    private Path err;

    /**
     * Starts {@code demo --cluster ARGS} in the temp dir. Through {@code env --default-signal=INT}:
     * a test run from a background shell job inherits an ignored SIGINT, which the JVM would keep
     * ignoring, while a terminal's Ctrl-C reaches a demo whose SIGINT is at its default.
     */
    private void start(List<String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
        command.addAll(env);
        command.addAll(List.of(JAVA, "-jar", JAR.toString(), "demo", "--cluster"));
        command.addAll(List.of(args));
        out = tmp.resolve("out.txt");
        err = tmp.resolve("err.txt");
        demo = new ProcessBuilder(command).directory(tmp.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    private int awaitExit(Duration bound) throws Exception {
        if (!demo.waitFor(bound.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("demo did not exit within " + bound + "; stdout: " + Files.readString(out));
        }
        return demo.exitValue();
    }

    /**
     * After a failure: SIGTERM first, so the demo stops its children and removes its temporary
     * directory, then SIGKILL to whatever is left; and keeps the demo's logs in target/it-logs.
     */
    private void killAll() throws Exception {
        if (demo != null) {
            List<ProcessHandle> children = demo.descendants().toList();
            if (demo.isAlive()) {
                demo.destroy();
                demo.waitFor(20, TimeUnit.SECONDS);
            }
            children.forEach(ProcessHandle::destroyForcibly);
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
        Path logs = tmp.resolve("demo-logs");
        if (Files.isDirectory(logs)) {
            try (var files = Files.list(logs)) {
                for (Path log : files.toList()) {
                    Files.copy(log, ItLogs.dir().resolve("demo-cluster-" + log.getFileName()),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void threeNodesShareOneConfigAndCtrlCStopsEveryProcess() throws Exception {
        assumeTrue(EtcdCluster.available(), "no etcd binary: apt-get install etcd-server");
        int base = Loopback.freeConsecutivePortsBelowEphemeral(9);
        List<Integer> listeners = List.of(base, base + 1, base + 2);
        List<Integer> admins = List.of(base + 3, base + 4, base + 5);
        long started = System.nanoTime();
        start(List.of(), "--port", Integer.toString(base), "--admin-port", Integer.toString(base + 3),
                "--server-port", Integer.toString(base + 6));
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            await("the banner").atMost(START_BOUND).pollInterval(Duration.ofMillis(100))
                    .until(() -> Files.readString(out).contains("Try:") || !demo.isAlive());
            System.out.printf("demo --cluster: banner %d ms after the start%n", (System.nanoTime() - started) / 1_000_000);
            String banner = Files.readString(out);
            assertThat(banner).as(Files.readString(err)).contains("Try:", "fulcrum cluster status -c ");
            for (int i = 0; i < 3; i++) {
                assertThat(banner).contains("lb-" + (i + 1) + "   listener http://127.0.0.1:" + listeners.get(i)
                        + "/   dashboard http://127.0.0.1:" + admins.get(i) + "/");
            }
            Matcher etcdPorts = Pattern.compile("etcd +127\\.0\\.0\\.1 ports client (\\d+), (\\d+), (\\d+); peer").matcher(banner);
            assertThat(etcdPorts.find()).as(banner).isTrue();
            Matcher files = Pattern.compile("node files +(\\S+)/lb-N\\.yaml").matcher(banner);
            assertThat(files.find()).as(banner).isTrue();
            Path dir = Path.of(files.group(1));
            assertThat(dir.resolve("lb-1.yaml")).exists();

            // 3 etcd members, 3 nodes, 3 demo servers; a /proc snapshot, so asked again within the bound
            await("9 child processes").atMost(BOUND).until(() -> demo.descendants().count() == 9);
            List<ProcessHandle> children = demo.descendants().toList();
            assertThat(children.stream().filter(c -> c.info().command().orElse("").endsWith("/etcd"))).hasSize(3);

            // the demo servers are in rotation once their first health checks pass
            for (int port : listeners) {
                await("proxied 200 through " + port).atMost(BOUND).untilAsserted(() -> {
                    HttpResponse<String> r = http.send(get(port, "/"), HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).matches("server (" + (base + 6) + "|" + (base + 7) + "|" + (base + 8) + ")\\n");
                });
            }
            for (int i = 0; i < 3; i++) {
                int admin = admins.get(i);
                String node = "lb-" + (i + 1);
                await(node + " sees 3 members").atMost(BOUND).untilAsserted(() -> {
                    JsonNode cluster = json(http, admin, "/api/v1/cluster");
                    assertThat(cluster.path("node").asText()).isEqualTo(node);
                    assertThat(cluster.path("etcd").asText()).isEqualTo("up");
                    assertThat(cluster.path("leader").asText()).isIn("lb-1", "lb-2", "lb-3");
                    assertThat(StreamSupport.stream(cluster.path("members").spliterator(), false)
                            .map(m -> m.path("node").asText())).containsExactlyInAnyOrder("lb-1", "lb-2", "lb-3");
                });
            }

            String added = "127.0.0.1:" + Loopback.freePort();
            HttpResponse<String> add = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admins.get(0)
                    + "/api/v1/pools/app/servers")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"address\":\"" + added + "\"}")).timeout(BOUND).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(add.statusCode()).as(add.body()).isBetween(200, 299);
            await("lb-3 serves the server added through lb-1").atMost(BOUND).until(() ->
                    StreamSupport.stream(json(http, admins.get(2), "/api/v1/pools/app/servers").spliterator(), false)
                            .anyMatch(s -> s.path("address").asText().equals(added)));

            // Ctrl-C
            long interrupted = System.nanoTime();
            assertThat(new ProcessBuilder("kill", "-INT", Long.toString(demo.pid())).start().waitFor()).isZero();
            assertThat(awaitExit(BOUND)).isZero();
            System.out.printf("demo --cluster: exit %d ms after SIGINT%n", (System.nanoTime() - interrupted) / 1_000_000);
            await("no child left").atMost(Duration.ofSeconds(5)).until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
            assertThat(dir).doesNotExist();
            for (int port : listeners) {
                assertThat(bindable(port)).as("listener port %d free again", port).isTrue();
            }
            assertThat(Files.readString(err)).doesNotContain("Exception");
        } finally {
            killAll();
        }
    }

    @Test
    void withoutEtcdItStartsNothingAndSaysWhatToInstall() throws Exception {
        Path emptyPath = Files.createDirectory(tmp.resolve("bin"));
        start(List.of("PATH=" + emptyPath), "--port", Integer.toString(Loopback.freePort()),
                "--admin-port", Integer.toString(Loopback.freePort()));
        try {
            assertThat(awaitExit(BOUND)).isEqualTo(1);
            assertThat(Files.readString(err).lines().toList()).singleElement().asString()
                    .startsWith("fulcrum: demo --cluster needs an etcd binary").contains("etcd-server");
            assertThat(Files.readString(out)).isEmpty();
            assertThat(tmp.resolve("demo-logs")).doesNotExist(); // not even a demo server was started
        } finally {
            killAll();
        }
    }

    @Test
    void aBusyPortIsOneLineAndExitOne() throws Exception {
        assumeTrue(EtcdCluster.available(), "no etcd binary: apt-get install etcd-server");
        int base = Loopback.freeConsecutivePortsBelowEphemeral(6);
        try (ServerSocket busy = new ServerSocket(base + 4, 1, InetAddress.getLoopbackAddress())) {
            start(List.of(), "--port", Integer.toString(base), "--admin-port", Integer.toString(base + 3));
            assertThat(awaitExit(BOUND)).isEqualTo(1);
            assertThat(Files.readString(err).lines().toList()).singleElement().asString()
                    .isEqualTo("fulcrum: port 127.0.0.1:" + (base + 4) + " for node lb-2's admin API is in use");
            assertThat(tmp.resolve("demo-logs")).doesNotExist();
        } finally {
            killAll();
        }
    }

    private static HttpRequest get(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(BOUND).build();
    }

    private static JsonNode json(HttpClient http, int port, String path) throws Exception {
        HttpResponse<String> r = http.send(get(port, path), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
