package dev.fulcrum.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.KeepAliveLoad;
import dev.fulcrum.server.testing.KeepAliveLoad.Exchange;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The admin API on the real runtime: {@code fulcrum run -c FILE} as a process in front of
 * {@code demo-server} processes, with a keep-alive client loop running through listener
 * {@code web} while servers are added, removed, drained and enabled through the API and the file is
 * reloaded ({@code POST /api/v1/reload} and SIGHUP). Demo servers answer {@code server PORT}, so
 * every answer of the loop says which server it came from.
 */
class AdminRuntimeIT {

    private static final String TOKEN = "s3cret-token";
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final List<FulcrumProcess> demoServers = new ArrayList<>();
    /** Demo server ports: a and b are in the file; c and d come and go. */
    private static int a, b, c, d;

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();
    @TempDir
    Path tmp;

    @BeforeAll
    static void startDemoServers() throws IOException {
        a = Loopback.freePort();
        b = Loopback.freePort();
        c = Loopback.freePort();
        d = Loopback.freePort();
        for (int port : List.of(a, b, c, d)) { // started together: the JVMs boot in parallel
            demoServers.add(FulcrumProcess.start("runtime-demo-server-" + port, List.of("-Xmx96m"),
                    "demo-server", "--port", Integer.toString(port)));
        }
        for (int i = 0; i < demoServers.size(); i++) {
            demoServers.get(i).awaitPort(List.of(a, b, c, d).get(i), Duration.ofSeconds(30));
        }
    }

    @AfterAll
    static void stopDemoServers() throws InterruptedException {
        for (FulcrumProcess p : demoServers) {
            p.close();
        }
        demoServers.clear();
    }

    @Test
    void aServerAddedThroughTheApiTakesTrafficAndLeavesThroughDrainingOnDelete() throws Exception {
        Runtime f = start("add-delete", Map.of(a, 1, b, 1), false);
        KeepAliveLoad load = closer.add(f.load(3));

        HttpResponse<String> added = f.admin.post("/api/v1/pools/app/servers", server(c), TOKEN);
        long addedAt = System.nanoTime();
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        Exchange first = load.awaitAnswer(addedAt, from(c), Duration.ofMillis(1500)); // health-check interval 1 s
        System.out.printf("AdminRuntimeIT: first request on the added server %d ms after the POST answered%n",
                TimeUnit.NANOSECONDS.toMillis(first.answeredNanos() - addedAt));
        HttpResponse<String> again = f.admin.post("/api/v1/pools/app/servers", server(c), TOKEN);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(409);

        // a slow request pinned to c by the sticky cookie c's answers set
        String cookie = f.stickyCookieOf(c);
        CompletableFuture<HttpResponse<String>> slow = f.web.sendAsync(HttpRequest.newBuilder(f.webUri("/work?ms=2000"))
                .header("Cookie", cookie).timeout(BOUND).build(), HttpResponse.BodyHandlers.ofString());
        awaitBusy(c);

        HttpResponse<String> deleted = f.admin.delete("/api/v1/pools/app/servers/127.0.0.1:" + c, TOKEN);
        long deletedAt = System.nanoTime();
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(202);
        assertThat(f.admin.parse(deleted).get("state").asText()).isEqualTo("draining");
        assertThat(f.states()).containsEntry(c, "draining");

        HttpResponse<String> slowAnswer = slow.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(slowAnswer.statusCode()).isEqualTo(200);
        assertThat(slowAnswer.body()).isEqualTo("server " + c + " worked 2000 ms\n");
        await("c leaves the pool").atMost(Duration.ofSeconds(5)).until(() -> !f.states().containsKey(c));
        assertThat(load.awaitAnswers(deletedAt, 30, BOUND)).as("answers to requests sent after the DELETE")
                .noneMatch(from(c));
        f.assertNoFailure(load, 3);
    }

    @Test
    void drainStopsNewTrafficEnableBringsItBackAndMutationsNeedTheToken() throws Exception {
        Runtime f = start("drain-enable", Map.of(a, 1, b, 1), false);
        KeepAliveLoad load = closer.add(f.load(2));

        String bPath = "/api/v1/pools/app/servers/127.0.0.1:" + b;
        List<HttpResponse<String>> refused = List.of(
                f.admin.post("/api/v1/pools/app/servers", server(c), null),
                f.admin.post("/api/v1/pools/app/servers", server(c), "wrong-" + TOKEN),
                f.admin.delete(bPath, null),
                f.admin.post(bPath + "/drain", null, null),
                f.admin.post("/api/v1/reload", null, null));
        for (HttpResponse<String> r : refused) {
            assertThat(r.statusCode()).as(r.request().method() + " " + r.uri()).isEqualTo(401);
            assertThat(f.admin.parse(r).get("error").asText()).isNotBlank();
        }
        assertThat(f.states()).isEqualTo(Map.of(a, "up", b, "up"));

        HttpResponse<String> drained = f.admin.post(bPath + "/drain", null, TOKEN);
        long drainedAt = System.nanoTime();
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        assertThat(load.awaitAnswers(drainedAt, 30, BOUND)).as("answers to requests sent after the drain")
                .isNotEmpty().allMatch(from(a));
        assertThat(f.states()).containsEntry(b, "draining");

        HttpResponse<String> enabled = f.admin.post(bPath + "/enable", null, TOKEN);
        long enabledAt = System.nanoTime();
        assertThat(enabled.statusCode()).as(enabled.body()).isEqualTo(200);
        load.awaitAnswer(enabledAt, from(b), Duration.ofSeconds(3));
        assertThat(f.states()).isEqualTo(Map.of(a, "up", b, "up"));
        f.assertNoFailure(load, 2);
    }

    @Test
    void reloadUnderLoadAppliesTheFileWithoutAFailedRequestAndKeepsServersAddedThroughTheApi() throws Exception {
        Runtime f = start("reload", Map.of(a, 1, b, 1), true);
        KeepAliveLoad load = closer.add(f.load(4));
        assertThat(f.admin.post("/api/v1/pools/app/servers", server(d), TOKEN).statusCode()).isEqualTo(201);
        assertThat(f.admin.post("/api/v1/pools/extra/servers", server(d), TOKEN).statusCode()).isEqualTo(201);

        // the file: a's weight 1 -> 3, b removed, c added
        f.writeConfig(Map.of(a, 3, c, 1), true);
        long reloadStart = System.nanoTime();
        HttpResponse<String> reloaded = f.admin.post("/api/v1/reload", null, TOKEN);
        long reloadedAt = System.nanoTime();
        assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
        assertThat(f.admin.parse(reloaded).get("applied").asBoolean()).isTrue();
        load.awaitAnswer(reloadedAt, from(c), Duration.ofSeconds(5)); // checked first, then traffic
        await("b leaves the pool").atMost(Duration.ofSeconds(5)).until(() -> !f.states().containsKey(b));
        assertThat(load.sentAfter(reloadedAt)).noneMatch(from(b));
        assertThat(f.weights()).as("d, added through the API, stays").isEqualTo(Map.of(a, 3, c, 1, d, 1));
        assertThat(f.states("extra")).containsOnlyKeys(d);
        load.awaitAnswer(reloadedAt, from(d), Duration.ofSeconds(3));

        // SIGHUP: b back, c removed, pool extra removed (and d with it, there)
        f.writeConfig(Map.of(a, 1, b, 1), false);
        long hupAt = System.nanoTime();
        f.hangup();
        await("the SIGHUP reload applied").atMost(Duration.ofSeconds(5))
                .until(() -> f.weights().equals(Map.of(a, 1, b, 1, d, 1)));
        long cGoneAt = System.nanoTime();
        int acrossPost = overlapping(load, reloadStart, reloadedAt);
        int acrossHup = overlapping(load, hupAt, cGoneAt);
        assertThat(f.admin.get("/api/v1/pools/extra").statusCode()).isEqualTo(404);
        load.awaitAnswer(hupAt, from(b), Duration.ofSeconds(5));
        assertThat(load.awaitAnswers(cGoneAt, 30, BOUND)).as("c gets nothing once removed").noneMatch(from(c));

        f.assertNoFailure(load, 4);
        System.out.printf("AdminRuntimeIT: %d requests over 4 keep-alive connections through 2 reloads "
                        + "(%d in flight during POST /api/v1/reload, %d between SIGHUP and the change seen), 0 failed%n",
                load.exchanges().size(), acrossPost, acrossHup);
    }

    @Test
    void aBadFileIsRefusedWith400AndItsPositionWhileTheRunningConfigKeepsServing() throws Exception {
        Runtime f = start("bad-reload", Map.of(a, 1, b, 1), false);
        KeepAliveLoad load = closer.add(f.load(2));
        String good = Files.readString(f.config);
        String bad = good.replaceFirst("weight: 1\n", "weight: heavy\n");
        int badLine = (int) good.substring(0, good.indexOf("weight: 1\n")).lines().count();
        Files.writeString(f.config, bad);

        HttpResponse<String> refused = f.admin.post("/api/v1/reload", null, TOKEN);
        long refusedAt = System.nanoTime();

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        String error = f.admin.parse(refused).get("error").asText();
        assertThat(error).matches(Pattern.quote(f.config + ":" + badLine + ":") + "\\d+: "
                + Pattern.quote("pools[0].servers[0].weight: ") + ".+");
        f.hangup();
        await("the SIGHUP refusal in the log").atMost(BOUND)
                .until(() -> f.process.output().contains(f.config + ":" + badLine + ":"));
        assertThat(load.awaitAnswers(refusedAt, 30, BOUND)).anyMatch(from(a)).anyMatch(from(b));
        assertThat(f.weights()).isEqualTo(Map.of(a, 1, b, 1));
        f.assertNoFailure(load, 2);
    }

    @Test
    void metricsOfTheRunningRuntimeCountTrafficOfHttpAndTcpListeners() throws Exception {
        Runtime f = start("metrics", Map.of(a, 1, b, 1), false);
        KeepAliveLoad load = closer.add(f.load(2));
        long startedAt = System.nanoTime();
        load.awaitAnswers(startedAt, 10, BOUND);
        String before = f.scrape();
        load.awaitAnswers(startedAt, 50, BOUND);

        byte[] request = "GET / HTTP/1.1\r\nHost: raw\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress("127.0.0.1", f.rawPort), 2000);
            raw.setSoTimeout(5000);
            raw.getOutputStream().write(request);
            String head = readHead(raw.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 200");
            String during = f.scrape();
            assertThat(sample(during, "fulcrum_connections_active{listener=\"raw\"}")).isEqualTo(1.0);
            assertThat(sample(during, "fulcrum_bytes_total{direction=\"in\",listener=\"raw\"}"))
                    .isEqualTo(request.length);
            assertThat(sample(during, "fulcrum_bytes_total{direction=\"out\",listener=\"raw\"}"))
                    .isGreaterThanOrEqualTo(head.length());
        }
        await("the TCP connection leaves the gauge").atMost(BOUND)
                .until(() -> sample(f.scrape(), "fulcrum_connections_active{listener=\"raw\"}") == 0.0);

        String after = f.scrape();
        for (int port : List.of(a, b)) {
            String requests = "fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:"
                    + port + "\"}";
            assertThat(sample(before, requests)).as(requests).isPositive();
            assertThat(sample(after, requests)).as(requests).isGreaterThan(sample(before, requests));
            assertThat(sample(after, "fulcrum_server_up{pool=\"app\",server=\"127.0.0.1:" + port + "\"}"))
                    .isEqualTo(1.0);
        }
        assertThat(sample(after, "fulcrum_connections_active{listener=\"web\"}")).isEqualTo(2.0);
        assertThat(sample(after, "fulcrum_bytes_total{direction=\"out\",listener=\"web\"}"))
                .isGreaterThan(sample(before, "fulcrum_bytes_total{direction=\"out\",listener=\"web\"}"));
        f.assertNoFailure(load, 2);
    }

    @Test
    void promtoolAcceptsAScrapeOfTheRunningRuntimeAfterTraffic() throws Exception {
        assumeTrue(Files.isExecutable(PROMTOOL),
                "promtool is not installed (Debian package prometheus): the exposition check is skipped");
        Runtime f = start("promtool", Map.of(a, 1, b, 1), false);
        KeepAliveLoad load = closer.add(f.load(2));
        load.awaitAnswers(System.nanoTime(), 30, BOUND);
        assertThat(f.admin.post("/api/v1/pools/app/servers/127.0.0.1:" + b + "/drain", null, TOKEN).statusCode())
                .isEqualTo(200);
        String text = f.scrape();
        assertThat(text).contains("fulcrum_requests_total{code=\"2xx\",listener=\"web\",pool=\"app\",route=\"web#1\",server=\"127.0.0.1:" + a);

        Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true).start();
        try {
            try (var in = promtool.getOutputStream()) {
                in.write(text.getBytes(StandardCharsets.UTF_8));
            }
            String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(promtool.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(promtool.exitValue()).as("promtool check metrics said:\n" + output).isZero();
            assertThat(output).as("promtool lint findings").isBlank();
        } finally {
            promtool.destroy();
        }
    }

    /** A running {@code fulcrum run -c FILE}: its file, ports, admin client and a client of listener web. */
    private final class Runtime {
        final Path config;
        final int webPort = Loopback.freePort();
        final int rawPort = Loopback.freePort();
        final int adminPort = Loopback.freePort();
        final AdminClient admin;
        final HttpClient web = closer.add(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build());
        FulcrumProcess process;

        Runtime(String name) throws IOException {
            config = tmp.resolve(name + ".yaml");
            admin = closer.add(new AdminClient(adminPort));
        }

        /** The whole file, with pool app's servers (port -> weight) and, when asked, an empty pool extra. */
        void writeConfig(Map<Integer, Integer> servers, boolean extraPool) throws IOException {
            String serverLines = new TreeMap<>(servers).entrySet().stream()
                    .map(e -> "      - address: 127.0.0.1:" + e.getKey() + "\n        weight: " + e.getValue() + "\n")
                    .collect(Collectors.joining());
            Files.writeString(config, """
                    name: runtime-it
                    admin:
                      listen: 127.0.0.1:%d
                      token: %s
                    listeners:
                      - name: web
                        listen: 127.0.0.1:%d
                        pool: app
                      - name: raw
                        listen: 127.0.0.1:%d
                        protocol: tcp
                        pool: app
                    pools:
                      - name: app
                        sticky-cookie: FULCRUM_STICKY
                        drain-timeout: 10s
                        health-check:
                          type: http
                          path: /health
                          interval: 1s
                          timeout: 500ms
                        servers:
                    %s""".formatted(adminPort, TOKEN, webPort, rawPort, serverLines)
                    + (extraPool ? "  - name: extra\n    servers: []\n" : ""));
        }

        KeepAliveLoad load(int connections) {
            return KeepAliveLoad.start(webPort, connections, Duration.ofMillis(5), 100_000, Duration.ofSeconds(45));
        }

        URI webUri(String path) {
            return URI.create("http://127.0.0.1:" + webPort + path);
        }

        /** SIGHUP, as an operator's {@code kill -HUP PID}. */
        void hangup() throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
            assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
            assertThat(kill.exitValue()).isZero();
        }

        /** Pool app's servers: port -> state. */
        Map<Integer, String> states() throws IOException, InterruptedException {
            return states("app");
        }

        Map<Integer, String> states(String pool) throws IOException, InterruptedException {
            return servers(pool, s -> s.get("state").asText());
        }

        /** Pool app's servers: port -> weight. */
        Map<Integer, Integer> weights() throws IOException, InterruptedException {
            return servers("app", s -> s.get("weight").asInt());
        }

        private <T> Map<Integer, T> servers(String pool, java.util.function.Function<JsonNode, T> value)
                throws IOException, InterruptedException {
            HttpResponse<String> r = admin.get("/api/v1/pools/" + pool);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            Map<Integer, T> out = new TreeMap<>();
            for (JsonNode s : admin.parse(r).get("servers")) {
                String address = s.get("address").asText();
                out.put(Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)), value.apply(s));
            }
            return out;
        }

        /** The sticky cookie ({@code NAME=VALUE}) that pins a client to the server on {@code port}. */
        String stickyCookieOf(int port) {
            HttpRequest get = HttpRequest.newBuilder(webUri("/")).timeout(BOUND).build();
            HttpResponse<String> fromIt = await("an answer from " + port).atMost(BOUND).until(
                    () -> web.send(get, HttpResponse.BodyHandlers.ofString()),
                    r -> r.body().equals("server " + port + "\n"));
            String setCookie = fromIt.headers().firstValue("set-cookie").orElseThrow();
            assertThat(setCookie).startsWith("FULCRUM_STICKY=");
            return setCookie.substring(0, setCookie.indexOf(';'));
        }

        String scrape() throws IOException, InterruptedException {
            HttpResponse<String> r = admin.get("/metrics");
            assertThat(r.statusCode()).isEqualTo(200);
            return r.body();
        }

        /** Every request of the loop answered 200, on the connections it opened first. */
        void assertNoFailure(KeepAliveLoad load, int connections) {
            assertThat(load.failures()).as("failed requests").isEmpty();
            assertThat(load.connects()).as("connections opened (one each, kept alive)").isEqualTo(connections);
            assertThat(load.exchanges()).isNotEmpty().allMatch(e -> e.status() == 200, "status 200");
        }
    }

    /** Writes the file, runs {@code fulcrum run -c FILE} and waits until pool app's servers are up. */
    private Runtime start(String name, Map<Integer, Integer> servers, boolean extraPool) throws Exception {
        Runtime f = new Runtime(name);
        f.writeConfig(servers, extraPool);
        f.process = closer.add(FulcrumProcess.start("runtime-" + name, List.of("-Xmx256m"),
                "run", "-c", f.config.toString()));
        f.process.awaitPort(f.webPort, Duration.ofSeconds(30)).awaitPort(f.adminPort, BOUND);
        await("the SIGHUP handler").atMost(BOUND).until(() -> f.process.output().contains("SIGHUP re-reads"));
        await("the file's servers up").atMost(BOUND).until(() -> f.states().values().stream().allMatch("up"::equals));
        return f;
    }

    private static String server(int port) {
        return "{\"address\":\"127.0.0.1:" + port + "\",\"weight\":1}";
    }

    private static java.util.function.Predicate<Exchange> from(int port) {
        String body = "server " + port + "\n";
        return e -> e.body().equals(body);
    }

    /** Answered requests that were in flight at some moment between {@code from} and {@code to}. */
    private static int overlapping(KeepAliveLoad load, long from, long to) {
        return (int) load.exchanges().stream()
                .filter(e -> e.sentNanos() - to < 0 && e.answeredNanos() - from > 0).count();
    }

    /** Waits until the demo server on {@code port} is working on a request. */
    private static void awaitBusy(int port) {
        HttpRequest metrics = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(BOUND).build();
        try (HttpClient client = HttpClient.newHttpClient()) {
            await("a request at work on " + port).atMost(BOUND).pollInterval(Duration.ofMillis(20))
                    .until(() -> client.send(metrics, HttpResponse.BodyHandlers.ofString()).body()
                            .contains("\ndemo_work_busy 1\n"));
        }
    }

    /** The value of one series in a scrape; 0 when the scrape does not have it. */
    private static double sample(String scrape, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** A response head and its Content-Length body, read off a raw socket. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int ch = in.read();
            if (ch < 0) {
                throw new IOException("closed after " + head);
            }
            head.append((char) ch);
        }
        Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            head.append(new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.ISO_8859_1));
        }
        return head.toString();
    }
}
