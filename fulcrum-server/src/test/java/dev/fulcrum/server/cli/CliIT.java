package dev.fulcrum.server.cli;

import dev.fulcrum.linux.Privileges;
import dev.fulcrum.server.testing.FulcrumProcess;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

/** The command line as a user runs it: the shaded jar (and the ./fulcrum launcher) as processes. */
class CliIT {

    private static final Path JAR = Path.of(System.getProperty("fulcrum.jar")).toAbsolutePath();
    private static final Path ROOT = JAR.getParent().getParent().getParent();
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private record Result(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    /** A running command, its output going to files in the temp dir. */
    private final class Running {
        final Process process;
        final Path out;
        final Path err;

        Running(List<String> command) throws IOException {
            out = Files.createTempFile(tmp, "out", ".txt");
            err = Files.createTempFile(tmp, "err", ".txt");
            process = new ProcessBuilder(command).directory(tmp.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        }

        String out() throws IOException {
            return Files.readString(out);
        }

        String err() throws IOException {
            return Files.readString(err);
        }

        Result await() throws Exception {
            return await(BOUND);
        }

        Result await(Duration bound) throws Exception {
            if (!process.waitFor(bound.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("did not exit within " + bound + "; stdout: " + out());
            }
            return new Result(process.exitValue(), out(), err());
        }
    }

    private Running start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new Running(command);
    }

    private Result fulcrum(String... args) throws Exception {
        return start(args).await();
    }

    private Path file(String name, String text) throws IOException {
        return Files.writeString(tmp.resolve(name), text);
    }

    private static String goodConfig(int port) throws IOException {
        return proxyConfig(port, 9101, "");
    }

    /**
     * Listener {@code web} on PORT in front of pool {@code app} of one server; more pool keys may
     * follow. The admin API gets a free port of its own, so runs never fight over 9901.
     */
    private static String proxyConfig(int port, int serverPort, String morePoolKeys) throws IOException {
        return """
                admin:
                  listen: 127.0.0.1:%d
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    pool: app
                pools:
                  - name: app
                    servers:
                      - address: 127.0.0.1:%d
                """.formatted(Loopback.freePort(), port, serverPort) + morePoolKeys;
    }

    @Test
    void versionPrintsTheVersion() throws Exception {
        Result version = fulcrum("version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).isEqualTo("fulcrum 0.1.0-SNAPSHOT\n");
        assertThat(version.err()).isEmpty();
        assertThat(fulcrum("--version").out()).isEqualTo(version.out());
    }

    @Test
    void helpListsTheCommands() throws Exception {
        Result help = fulcrum("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("run ", "validate ", "cluster ", "demo ", "demo-server ", "version ", "Exit codes: 0 ");
        for (String command : List.of("run", "validate", "cluster", "demo", "demo-server", "dsr-server-setup",
                "version")) {
            Result commandHelp = fulcrum(command, "--help");
            assertThat(commandHelp.exit()).as(command).isZero();
            assertThat(commandHelp.out()).as(command).startsWith("Usage: fulcrum " + command)
                    .contains("--help").doesNotContain("--version"); // the version is fulcrum's, not a command's
        }
        assertThat(fulcrum("run", "--help").out()).contains("-c, --config=FILE", "SIGHUP", "second signal");
    }

    @Test
    void anUnknownCommandIsOneLineAndExit2() throws Exception {
        Result result = fulcrum("frobnicate");
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString().startsWith("fulcrum: unknown command \"frobnicate\"");
        assertThat(result.out()).isEmpty();

        Result none = fulcrum();
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.errLines()).hasSize(1);
    }

    @Test
    void validateAcceptsAGoodFile() throws Exception {
        Path config = file("fulcrum.yaml", goodConfig(18080));
        Result result = fulcrum("validate", "-c", config.toString());
        assertThat(result.exit()).isZero();
        assertThat(result.out()).isEqualTo(config + ": valid\n");
        assertThat(result.err()).isEmpty();
    }

    @Test
    void validateRejectsBrokenYamlWithFileLineColumn() throws Exception {
        Path config = file("broken.yaml", "pools:\n  - name: [app\n    servers: }\n");
        Result result = fulcrum("validate", "-c", config.toString());
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.out()).isEmpty();
        assertThat(result.errLines()).isNotEmpty()
                .allSatisfy(line -> assertThat(line).matches(Pattern.quote(config.toString()) + ":\\d+:\\d+: .+"));
    }

    @Test
    void validateNamesTheKeyAndWhatWasExpected() throws Exception {
        // line 9: the algorithm key, after admin (2 lines), the listener (4) and "pools:" + name
        Path config = file("fulcrum.yaml", goodConfig(18080).replace("  - name: app\n",
                "  - name: app\n    algorithm: round_robin\n"));
        Result result = fulcrum("validate", "-c", config.toString());
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString()
                .startsWith(config + ":9:")
                .contains("pools[0].algorithm", "round_robin", "round-robin");
    }

    @Test
    void validateReportsHttp2MistakesAtTheirLines() throws Exception {
        // line 7, at the key: http2 after the admin (2 lines) and the listener (name, listen, pool)
        Path config = file("fulcrum.yaml", goodConfig(18080).replace("    pool: app\n",
                "    pool: app\n    http2: {max-concurrent-streams: 0}\n"));
        Result result = fulcrum("validate", "-c", config.toString());
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString()
                .isEqualTo(config + ":7:13: listeners[0].http2.max-concurrent-streams: 0 is out of range; expected 1..10000");
    }

    @Test
    void validateOfAMissingFileIsExit2() throws Exception {
        Result result = fulcrum("validate", "-c", tmp.resolve("nope.yaml").toString());
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).singleElement().asString().contains("nope.yaml");
    }

    @Test
    void runWithABadConfigDoesNotStartAndExits2() throws Exception {
        Path config = file("broken.yaml", "listeners: [\n");
        Result result = fulcrum("run", "-c", config.toString());
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith(config + ":"));
    }

    private static String haSection(String networkInterface) {
        return """
                ha:
                  interface: %s
                  virtual-router-id: 51
                  virtual-ips: ["10.0.0.100/24"]
                """.formatted(networkInterface);
    }

    @Test
    void runWithHaOnAnUnknownInterfaceExits2WithOneLine() throws Exception {
        assumeTrue(Privileges.isLinux() && Privileges.missingNetworkCapabilities().isEmpty(),
                "skipped: needs root to get past the capability check to the interface check");
        Path config = file("ha.yaml", goodConfig(Loopback.freePort()) + haSection("nope0"));
        Result result = fulcrum("run", "-c", config.toString());
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).containsExactly("fulcrum: ha.interface: no network interface nope0 on this host");
    }

    @Test
    void runWithHaWithoutNetworkCapabilitiesExits2WithOneLine() throws Exception {
        assumeTrue(Privileges.isLinux() && Privileges.missingNetworkCapabilities().isEmpty()
                        && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "skipped: needs root and setpriv to run fulcrum as an unprivileged user");
        Path config = file("ha.yaml", goodConfig(Loopback.freePort()) + haSection("lo"));
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(config, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        // the user nobody: no capabilities at all, as an operator who forgot sudo
        Result result = new Running(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                JAVA, "-jar", JAR.toString(), "run", "-c", config.toString())).await();
        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.errLines()).containsExactly(
                "fulcrum: ha needs root, or CAP_NET_RAW and CAP_NET_ADMIN; this process lacks CAP_NET_RAW and CAP_NET_ADMIN");
    }

    @Test
    void dsrServerSetupPrintsTheServerSideCommands() throws Exception {
        Result result = fulcrum("dsr-server-setup", "--vip", "10.0.0.100");
        assertThat(result.exit()).isZero();
        assertThat(result.out().lines().filter(l -> !l.startsWith("#"))).containsExactly(
                "sysctl -w net.ipv4.conf.all.arp_ignore=1",
                "sysctl -w net.ipv4.conf.all.arp_announce=2",
                "sysctl -w net.ipv4.conf.lo.arp_ignore=1",
                "sysctl -w net.ipv4.conf.lo.arp_announce=2",
                "ip addr add 10.0.0.100/32 dev lo");

        Result bad = fulcrum("dsr-server-setup", "--vip", "example.com");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.errLines()).containsExactly(
                "fulcrum: --vip: \"example.com\" is not an IPv4 address like 10.0.0.100");
    }

    @Test
    void dsrServerSetupApplyConfiguresAServerOnceInItsOwnNamespace() throws Exception {
        assumeTrue(Privileges.isLinux() && Privileges.missingNetworkCapabilities().isEmpty(),
                "skipped: needs root to create a network namespace");
        String ns = "fxcli" + Long.toHexString(System.nanoTime() & 0xFFFFF);
        assertThat(new ProcessBuilder("ip", "netns", "add", ns).start().waitFor()).isZero();
        try {
            List<String> inNs = List.of("ip", "netns", "exec", ns, JAVA, "-jar", JAR.toString(),
                    "dsr-server-setup", "--vip", "10.99.0.100", "--apply");
            Result first = new Running(inNs).await();
            assertThat(first.exit()).as(first.err()).isZero();
            assertThat(first.out()).contains("10.99.0.100/32 added to lo");
            Result again = new Running(inNs).await();
            assertThat(again.exit()).isZero();
            assertThat(again.out()).contains("10.99.0.100/32 already on lo");

            Result addr = new Running(List.of("ip", "-n", ns, "-4", "addr", "show", "dev", "lo")).await();
            assertThat(addr.out()).contains("inet 10.99.0.100/32");
            for (String key : List.of("all.arp_ignore=1", "all.arp_announce=2", "lo.arp_ignore=1")) {
                String[] kv = key.split("=");
                Result value = new Running(List.of("ip", "netns", "exec", ns, "sysctl", "-n",
                        "net.ipv4.conf." + kv[0])).await();
                assertThat(value.out().strip()).as(key).isEqualTo(kv[1]);
            }
        } finally {
            new ProcessBuilder("ip", "netns", "del", ns).start().waitFor();
        }
    }

    @Test
    void runStopsGracefullyOnSigtermWithExit0AndSurvivesABadReload() throws Exception {
        Path config = file("fulcrum.yaml", goodConfig(Loopback.freePort()));
        Running run = start("run", "-c", config.toString());
        try {
            await().atMost(BOUND).until(() -> run.out().contains("SIGHUP re-reads"));

            Files.writeString(config, "listeners: [\n");
            new ProcessBuilder("kill", "-HUP", Long.toString(run.process.pid())).start().waitFor();
            await().atMost(BOUND).until(() -> run.out().contains("not reloaded"));
            assertThat(run.err()).startsWith(config + ":");
            assertThat(run.process.isAlive()).isTrue();

            run.process.destroy(); // SIGTERM
            Result result = run.await();
            assertThat(result.exit()).isZero();
            assertThat(result.out()).contains("stopping");
        } finally {
            run.process.destroyForcibly();
        }
    }

    /** A sparse file of {@code mib} MiB: as long as a huge config, but nothing is written. */
    private Path hugeFile(String name, int mib) throws IOException {
        Path huge = tmp.resolve(name);
        try (var file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            file.setLength((long) mib << 20);
        }
        return huge;
    }

    /**
     * {@code validate -c /dev/zero} once read until OutOfMemoryError and printed a stack trace; a
     * device or a huge file is now one line naming it, exit 2, for validate and run alike.
     */
    @Test
    void aConfigThatIsADeviceOrHugeIsOneLineAndExit2() throws Exception {
        Path huge = hugeFile("huge.yaml", 50);
        for (String command : List.of("validate", "run")) {
            Result device = fulcrum(command, "-c", "/dev/zero");
            assertThat(device.exit()).as(command).isEqualTo(2);
            assertThat(device.errLines()).as(command).singleElement().asString()
                    .isEqualTo("/dev/zero: cannot read: not a regular file (a device, pipe or socket)");

            Result big = fulcrum(command, "-c", huge.toString());
            assertThat(big.exit()).as(command).isEqualTo(2);
            assertThat(big.errLines()).as(command).singleElement().asString()
                    .isEqualTo(huge + ": cannot read: is 50 MiB, larger than the 1 MiB allowed");
        }
    }

    /** A reload (SIGHUP or the API) of a file swapped for a huge one keeps the running config: one line. */
    @Test
    void aReloadOfAHugeFileKeepsTheRunningConfig() throws Exception {
        int adminPort = Loopback.freePort();
        int port = Loopback.freePort();
        Path config = file("fulcrum.yaml", goodConfig(port).replaceFirst("listen: 127.0.0.1:\\d+",
                "listen: 127.0.0.1:" + adminPort));
        Running run = start("run", "-c", config.toString());
        try (HttpClient client = HttpClient.newHttpClient()) {
            await().atMost(BOUND).until(() -> run.out().contains("SIGHUP re-reads") || !run.process.isAlive());
            assertThat(run.process.isAlive()).as("run started: " + run.err()).isTrue();
            Files.delete(config);
            hugeFile("fulcrum.yaml", 50);

            new ProcessBuilder("kill", "-HUP", Long.toString(run.process.pid())).start().waitFor();
            await().atMost(BOUND).until(() -> run.out().contains("not reloaded"));
            String tooLarge = config + ": cannot read: is 50 MiB, larger than the 1 MiB allowed";
            assertThat(run.err().lines().toList()).containsExactly(tooLarge);

            HttpResponse<String> api = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + adminPort + "/api/v1/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).timeout(BOUND).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(api.statusCode()).isEqualTo(400);
            assertThat(api.body()).contains(tooLarge);
            assertThat(run.process.isAlive()).isTrue();
            assertThat(run.out()).doesNotContain("Exception", "\tat ");
        } finally {
            run.process.destroyForcibly();
        }
    }

    @Test
    void runWithItsPortTakenExits1WithOneLineNamingTheListener() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = file("fulcrum.yaml", goodConfig(taken.getLocalPort()));
            Result result = fulcrum("run", "-c", config.toString());
            assertThat(result.exit()).isEqualTo(1);
            assertThat(result.errLines()).singleElement().asString()
                    .isEqualTo("fulcrum: listener web: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                            + ": address already in use");
        }
    }

    /**
     * {@code fulcrum run} in front of one demo server named {@code slow}, its pool draining for up to
     * 30 s; closing kills what is left of both.
     */
    private final class RunInFrontOfADemoServer implements AutoCloseable {
        final int serverPort = Loopback.freePort();
        final int port = Loopback.freePort();
        final FulcrumProcess server = FulcrumProcess.demoServer(serverPort, "--name", "slow");
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        final Running run;

        RunInFrontOfADemoServer() throws Exception {
            Path config = file("fulcrum.yaml", proxyConfig(port, serverPort, """
                        drain-timeout: 30s
                        health-check:
                          type: none
                    """));
            run = start("run", "-c", config.toString());
            await().atMost(BOUND).until(() -> run.out().contains("SIGHUP re-reads") || !run.process.isAlive());
            assertThat(run.process.isAlive()).as("run started: " + run.err()).isTrue();
        }

        /** Sends GET /work?ms=MS through the proxy and waits until the demo server is working on it. */
        CompletableFuture<HttpResponse<String>> inFlightWork(long ms) {
            CompletableFuture<HttpResponse<String>> response = client.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/work?ms=" + ms)).timeout(BOUND).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpRequest metrics = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + serverPort + "/metrics"))
                    .timeout(BOUND).build();
            await("the request at the server").atMost(BOUND).pollInterval(Duration.ofMillis(20))
                    .until(() -> client.send(metrics, HttpResponse.BodyHandlers.ofString()).body()
                            .contains("\ndemo_work_busy 1\n"));
            return response;
        }

        @Override
        public void close() throws InterruptedException {
            run.process.destroyForcibly();
            client.close();
            server.close();
        }
    }

    @Test
    void gracefulStopLetsTheInFlightRequestFinishThenExits0() throws Exception {
        try (RunInFrontOfADemoServer f = new RunInFrontOfADemoServer()) {
            CompletableFuture<HttpResponse<String>> response = f.inFlightWork(1500);

            f.run.process.destroy(); // SIGTERM while the request runs

            HttpResponse<String> r = response.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("server slow worked 1500 ms\n");
            Result result = f.run.await();
            assertThat(result.exit()).isZero();
            assertThat(result.out()).contains("stopping");
        }
    }

    @Test
    void secondSigtermDuringAGracefulStopExitsAtOnce() throws Exception {
        try (RunInFrontOfADemoServer f = new RunInFrontOfADemoServer()) {
            CompletableFuture<HttpResponse<String>> response = f.inFlightWork(3000);
            Process run = f.run.process;

            run.destroy(); // first SIGTERM: drains for up to 30 s
            await().atMost(BOUND).until(() -> f.run.out().contains("stopping"));
            await("alive while the request runs").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(run::isAlive);
            assertThat(response).isNotDone();

            run.destroy(); // second SIGTERM
            assertThat(run.waitFor(2, TimeUnit.SECONDS)).as("exited within 2 s").isTrue();
            assertThat(run.exitValue()).isEqualTo(128 + 15);
            assertThat(f.run.err()).contains("second SIGTERM, exiting now");
            assertThat(response).failsWithin(BOUND); // cut off, never answered
        }
    }

    @Test
    void demoServerServesUntilSigterm() throws Exception {
        Running server = start("demo-server", "--port", "0", "--name", "cli");
        try {
            Pattern listening = Pattern.compile("demo server cli listening on 127\\.0\\.0\\.1:(\\d+)");
            await().atMost(BOUND).until(() -> listening.matcher(server.out()).find());
            Matcher m = listening.matcher(server.out());
            assertThat(m.find()).isTrue();
            try (HttpClient client = HttpClient.newHttpClient()) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + m.group(1) + "/")).timeout(BOUND).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.body()).isEqualTo("server cli\n");
            }
            server.process.destroy();
            assertThat(server.await().exit()).isZero();
        } finally {
            server.process.destroyForcibly();
        }
    }

    @Test
    void demoStartsThreeServersAndStopsEverythingOnSignal() throws Exception {
        int adminPort = Loopback.freePort();
        int base = Loopback.freeConsecutivePorts(3); // not the default 9101..9103: another demo may run
        List<Integer> serverPorts = List.of(base, base + 1, base + 2);
        String second = "127.0.0.1:" + (base + 1);
        Running demo = start("demo", "--port", Integer.toString(Loopback.freePort()), "--admin-port",
                Integer.toString(adminPort), "--server-port", Integer.toString(base));
        try {
            await().atMost(BOUND).until(() -> demo.out().contains("Try:") || !demo.process.isAlive());
            assertThat(demo.out()).contains("http://127.0.0.1:" + base + "/", "http://" + second + "/",
                    "http://127.0.0.1:" + (base + 2) + "/", "curl -X POST " + second + "/admin/fail",
                    "auto-scaling   2..6 servers");
            Matcher dashboard = Pattern.compile("dashboard +(http://\\S+)").matcher(demo.out());
            Matcher metrics = Pattern.compile("metrics +(http://\\S+)").matcher(demo.out());
            assertThat(dashboard.find()).as(demo.out()).isTrue();
            assertThat(metrics.find()).as(demo.out()).isTrue();
            assertThat(dashboard.group(1)).isEqualTo("http://127.0.0.1:" + adminPort + "/");
            // ProcessHandle.descendants() is a /proc snapshot that can miss a child read mid-update;
            // the demo has started all three before it prints "Try:", so ask again within the bound
            await("3 demo server processes").atMost(BOUND).until(() -> demo.process.descendants().count() == 3);
            List<ProcessHandle> children = demo.process.descendants().toList();
            assertThat(children).hasSize(3);
            try (HttpClient client = HttpClient.newHttpClient()) {
                HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(dashboard.group(1)))
                        .timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(page.headers().firstValue("content-type")).hasValueSatisfying(
                        type -> assertThat(type).startsWith("text/html"));
                HttpResponse<String> scrape = client.send(HttpRequest.newBuilder(URI.create(metrics.group(1)))
                        .timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(scrape.body()).contains("fulcrum_server_up{pool=\"app\",server=\"127.0.0.1:" + base + "\"}");
                for (int port : serverPorts) {
                    HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/")).timeout(BOUND).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(response.body()).isEqualTo("server " + port + "\n");
                }
            }
            assertThat(tmp.resolve("demo-logs/" + base + ".log")).content().contains("listening on 127.0.0.1:" + base);

            // the failover the welcome text suggests shows on the console
            try (HttpClient client = HttpClient.newHttpClient()) {
                for (String action : List.of("fail", "recover")) {
                    client.send(HttpRequest.newBuilder(URI.create("http://" + second + "/admin/" + action))
                            .POST(HttpRequest.BodyPublishers.noBody()).timeout(BOUND).build(),
                            HttpResponse.BodyHandlers.discarding());
                    String alert = (action.equals("fail") ? "ALERT FIRING" : "ALERT RESOLVED")
                            + " FulcrumServerDown pool=app server=" + second;
                    await(alert).atMost(BOUND).until(() -> demo.out().contains(alert));
                }
            }

            // SIGTERM rather than SIGINT: a test run from a background shell job inherits an
            // ignored SIGINT, which the JVM then cannot catch. Both take the same path (StopSignals).
            demo.process.destroy();
            assertThat(demo.await().exit()).isZero();
            await().atMost(BOUND).until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
        } finally {
            demo.process.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.process.destroyForcibly();
        }
    }

    /**
     * Ctrl-C in a terminal signals the demo's whole process group, so its demo servers may stop before
     * the demo does: that is expected and no warning. A demo server that dies on its own (SIGKILL
     * here) is one.
     */
    @Test
    void demoWarnsOnlyOfADemoServerThatDiedOnItsOwn() throws Exception {
        int base = Loopback.freeConsecutivePorts(3);
        Running demo = start("demo", "--port", Integer.toString(Loopback.freePort()), "--admin-port",
                Integer.toString(Loopback.freePort()), "--server-port", Integer.toString(base));
        try {
            await().atMost(BOUND).until(() -> demo.out().contains("Try:") || !demo.process.isAlive());
            ProcessHandle signalled = demoServer(demo, base);
            ProcessHandle killed = demoServer(demo, base + 1);

            signalled.destroy(); // SIGTERM, as the terminal's SIGINT would reach it
            killed.destroyForcibly();
            await().atMost(BOUND).until(() -> demo.out().contains("demo server " + (base + 1) + " (pid "
                    + killed.pid() + ") exited with code 137"));
            await().atMost(BOUND).until(() -> demo.out().contains("demo server " + base + " (pid "
                    + signalled.pid() + ") stopped by a signal"));

            demo.process.destroy();
            assertThat(demo.await().exit()).isZero();
            assertThat(demo.out().lines().filter(line -> line.contains("WARN") && line.contains("demo server")))
                    .singleElement().asString().contains("demo server " + (base + 1) + " ");
        } finally {
            demo.process.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.process.destroyForcibly();
        }
    }

    /**
     * The demo's child serving {@code port}. Asked again within the bound: the process list is a
     * /proc snapshot, and a child's command line can read as empty while the kernel updates it.
     */
    private static ProcessHandle demoServer(Running demo, int port) {
        return await("demo server on " + port).atMost(BOUND).until(() -> demo.process.children()
                .filter(p -> p.info().commandLine().orElse("").endsWith("demo-server --port " + port))
                .findFirst(), Optional::isPresent).orElseThrow();
    }

    @Test
    void launcherRunsTheJarFromAnotherDirectory() throws Exception {
        Running launcher = new Running(List.of(ROOT.resolve("fulcrum").toString(), "version"));
        Result result = launcher.await();
        assertThat(result.exit()).isZero();
        assertThat(result.out()).isEqualTo("fulcrum 0.1.0-SNAPSHOT\n");
    }

    @Test
    void launcherWithoutAJdk25ExitsOneWithOneLine() throws Exception {
        Path emptySearchRoot = Files.createDirectory(tmp.resolve("no-jdks"));
        String oldJdk = Files.isDirectory(Path.of("/usr/lib/jvm/java-17-openjdk-amd64"))
                ? "/usr/lib/jvm/java-17-openjdk-amd64" : emptySearchRoot.toString();
        Running launcher = new Running(List.of("env", "-i", "PATH=/usr/bin:/bin", "HOME=" + tmp,
                "JAVA_HOME=" + oldJdk, "FULCRUM_JDK_SEARCH=" + emptySearchRoot,
                ROOT.resolve("fulcrum").toString(), "version"));
        Result result = launcher.await();
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        assertThat(result.errLines()).singleElement().asString().startsWith("fulcrum: no JDK 25").contains("install");
    }

    @Test
    void launcherGivesJvmDefaultsThatJavaOptsOverride() throws Exception {
        String launcher = ROOT.resolve("fulcrum").toString();
        Result defaults = new Running(List.of("env", "FULCRUM_AOT=off", "JAVA_OPTS=-XX:+PrintCommandLineFlags",
                launcher, "version")).await();
        assertThat(defaults.exit()).isZero();
        assertThat(defaults.out()).contains("-XX:MaxHeapSize=536870912", "-XX:InitialHeapSize=67108864",
                "-XX:+UseSerialGC").endsWith("fulcrum 0.1.0-SNAPSHOT\n");

        Result own = new Running(List.of("env", "FULCRUM_AOT=off",
                "JAVA_OPTS=-Xmx256m -XX:+UseParallelGC -XX:+PrintCommandLineFlags", launcher, "version")).await();
        assertThat(own.out()).contains("-XX:MaxHeapSize=268435456", "-XX:+UseParallelGC")
                .doesNotContain("UseSerialGC");

        Result none = new Running(List.of("env", "FULCRUM_AOT=off", "FULCRUM_JVM_DEFAULTS=0",
                "JAVA_OPTS=-XX:+PrintCommandLineFlags", launcher, "version")).await();
        assertThat(none.out()).doesNotContain("-XX:InitialHeapSize=67108864 -XX:MaxHeapSize=536870912");
    }

    /**
     * The start-up cache, in a copy of the launcher and the jar: a training run builds it; a broken
     * cache or one older than the jar is never an error and prints nothing; only run and demo train.
     */
    @Test
    void launcherBuildsTheStartUpCacheAndABadOneNeverStopsAStart() throws Exception {
        Path home = Files.createDirectory(tmp.resolve("home"));
        Path launcher = Files.copy(ROOT.resolve("fulcrum"), home.resolve("fulcrum"));
        Path target = Files.createDirectories(home.resolve("fulcrum-server/target"));
        Path jar = Files.copy(JAR, target.resolve("fulcrum.jar"));
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));

        Result built = new Running(List.of("env", "FULCRUM_AOT=build", launcher.toString(), "version"))
                .await(Duration.ofSeconds(120));
        assertThat(built.exit()).isZero();
        assertThat(built.out()).isEqualTo("fulcrum 0.1.0-SNAPSHOT\n");
        assertThat(built.err()).contains("building the start-up cache").doesNotContain("could not");
        List<Path> caches;
        try (var files = Files.list(target)) {
            caches = files.filter(f -> f.getFileName().toString().matches("fulcrum-\\d+\\.aot")).toList();
        }
        assertThat(caches).hasSize(1);
        assertThat(Files.size(caches.getFirst())).isGreaterThan(1_000_000);
        try (var files = Files.list(target)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith("aot-training"));
        }

        Result warm = new Running(List.of(launcher.toString(), "version")).await();
        assertThat(warm.out()).isEqualTo("fulcrum 0.1.0-SNAPSHOT\n");
        assertThat(warm.err()).isEmpty();

        Files.write(caches.getFirst(), new byte[4096]); // broken, and newer than the jar
        Result broken = new Running(List.of(launcher.toString(), "version")).await();
        assertThat(broken.exit()).isZero();
        assertThat(broken.out()).isEqualTo("fulcrum 0.1.0-SNAPSHOT\n");
        assertThat(broken.err()).isEmpty();

        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        Result stale = new Running(List.of(launcher.toString(), "validate", "--help")).await();
        assertThat(stale.exit()).isZero();
        assertThat(stale.err()).isEmpty(); // not rebuilt: only run and demo wait for a training run
    }
}
