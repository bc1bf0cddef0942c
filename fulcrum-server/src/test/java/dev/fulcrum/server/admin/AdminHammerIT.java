package dev.fulcrum.server.admin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.LogCapture;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 14's hammer, through the front door: Fulcrum started from a config file in front of real
 * HTTP servers on loopback, two of which flap (one's health check answers 200 and 503 in turn, the
 * other stops and starts listening), while several threads for a bounded time add, delete, drain
 * and enable servers over the admin API, another rewrites the file (weights, a server in or out)
 * and posts {@code /api/v1/reload}, and a client sends requests through the listener. Then a known
 * set of last commands, and the API must show exactly what they imply: no lost update. Every
 * answer along the way is JSON of the documented shape and status, and nothing is logged at ERROR
 * or with a stack trace.
 *
 * <p>Servers: {@code a} (steady, in the file), {@code b} (flapping health, in the file), {@code c}
 * (stops and starts listening, in the file or not as the reloads go), {@code x} (steady) and
 * {@code y} (nothing listens) come and go through the API.
 */
class AdminHammerIT {

    private static final Duration HAMMER = Duration.ofSeconds(4);
    /** Per thread: the hammer ends at {@link #HAMMER} or after this many calls, whichever is first. */
    private static final int MAX_CALLS = 400;
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final Set<Integer> CLIENT_STATUSES = Set.of(200, 502, 503);

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();
    @TempDir
    Path tmp;

    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final Map<String, LongAdder> answers = new ConcurrentHashMap<>();
    private Path file;
    private int adminPort;
    private int webPort;
    private AdminClient admin;

    @Test
    void theFinalStateIsWhatTheLastCommandsImply() throws Exception {
        Backend a = closer.add(new Backend("a", 0));
        Backend b = closer.add(new Backend("b", 0));
        Backend c = closer.add(new Backend("c", Loopback.freeConsecutivePortsBelowEphemeral(1)));
        Backend x = closer.add(new Backend("x", 0));
        String y = "127.0.0.1:" + Loopback.freeConsecutivePortsBelowEphemeral(1);
        adminPort = Loopback.freePort();
        webPort = Loopback.freePort();
        file = tmp.resolve("fulcrum.yaml");
        writeConfig(Map.of(a.address(), 1, b.address(), 1, c.address(), 1));
        Logger registryLog = (Logger) LoggerFactory.getLogger(Registry.class);
        Level registryLevel = registryLog.getLevel();
        registryLog.setLevel(Level.WARN); // thousands of server events; a warning still shows
        closer.add(() -> registryLog.setLevel(registryLevel));
        LogCapture log = closer.add(LogCapture.everything());
        FulcrumServer fulcrum = FulcrumServer.start(ConfigLoader.load(file), file);
        closer.add(() -> fulcrum.stop(Duration.ZERO));
        admin = closer.add(new AdminClient(adminPort));
        HttpClient web = closer.add(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build());

        List<String> servers = List.of(a.address(), b.address(), c.address(), x.address(), y);
        List<String> apiServers = List.of(x.address(), y);
        long end = System.nanoTime() + HAMMER.toNanos();
        AtomicBoolean hammering = new AtomicBoolean(true);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            threads.add(hammer("operator-" + i, go, end, () -> operatorCall(servers, apiServers)));
        }
        threads.add(hammer("reloader", go, end, () -> reload(Map.of(a.address(), weight(), b.address(), weight()),
                ThreadLocalRandom.current().nextBoolean() ? c.address() : null)));
        threads.add(hammer("client", go, end, () -> clientCall(web)));
        threads.add(flapper("flap-health", go, hammering, () -> b.healthy.set(!b.healthy.get())));
        threads.add(flapper("flap-listening", go, hammering, c::toggleListening));
        go.countDown();
        for (Thread t : threads.subList(0, 4)) {
            t.join(HAMMER.plus(BOUND).toMillis());
        }
        hammering.set(false);
        for (Thread t : threads) {
            t.join(BOUND.toMillis());
            assertThat(t.isAlive()).as(t.getName() + " ended").isFalse();
        }
        b.healthy.set(true);
        System.out.printf("AdminHammerIT: answers by call and status: %s%n", new TreeMap<>(answers));
        assertThat(failures).as("ill-formed or unexpected answers").isEmpty();

        // the last commands: a file with a at weight 4 and b at 1, c left out; a enabled, b drained,
        // x and y deleted and x added again at weight 2
        writeConfig(Map.of(a.address(), 4, b.address(), 1));
        assertThat(call("reload", "POST", "/api/v1/reload", null, Set.of(200))).isEqualTo(200);
        assertThat(call("enable", "POST", serverPath(a.address()) + "/enable", null, Set.of(200))).isEqualTo(200);
        assertThat(call("drain", "POST", serverPath(b.address()) + "/drain", null, Set.of(200))).isEqualTo(200);
        call("delete", "DELETE", serverPath(x.address()), null, Set.of(202, 404));
        call("delete", "DELETE", serverPath(y), null, Set.of(202, 404));
        await("c, x and y gone").atMost(BOUND)
                .until(() -> states().keySet(), s -> s.equals(Set.of(a.address(), b.address())));
        assertThat(call("add", "POST", "/api/v1/pools/app/servers", newServer(x.address(), 2), Set.of(201)))
                .isEqualTo(201);
        assertThat(failures).isEmpty();

        Map<String, JsonNode> last = servers();
        assertThat(last.keySet()).containsExactlyInAnyOrder(a.address(), b.address(), x.address());
        assertThat(last.get(a.address()).get("weight").asInt()).isEqualTo(4);
        assertThat(last.get(a.address()).get("state").asText()).isNotEqualTo("draining");
        assertThat(last.get(b.address()).get("weight").asInt()).isEqualTo(1);
        assertThat(last.get(b.address()).get("state").asText()).isEqualTo("draining");
        assertThat(last.get(x.address()).get("weight").asInt()).isEqualTo(2);
        await("a and x up").atMost(BOUND).until(this::states,
                s -> "up".equals(s.get(a.address())) && "up".equals(s.get(x.address())));
        // and the data plane agrees: only a and x take requests
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = web.send(HttpRequest.newBuilder(webUri()).timeout(BOUND).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isIn("server a", "server x");
        }
        assertThat(log.errorsAndStackTraces()).isEmpty();
    }

    /** One admin call of an operator: a GET, or a change to a random server. */
    private void operatorCall(List<String> servers, List<String> apiServers) throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String server = servers.get(random.nextInt(servers.size()));
        switch (random.nextInt(5)) {
            case 0 -> call("add", "POST", "/api/v1/pools/app/servers",
                    newServer(apiServers.get(random.nextInt(apiServers.size())), weight()), Set.of(201, 409));
            case 1 -> call("delete", "DELETE", serverPath(server), null, Set.of(202, 404));
            case 2 -> call("drain", "POST", serverPath(server) + "/drain", null, Set.of(200, 404));
            // 409: the server is being removed
            case 3 -> call("enable", "POST", serverPath(server) + "/enable", null, Set.of(200, 404, 409));
            default -> call("get", "GET", "/api/v1/pools/app", null, Set.of(200));
        }
    }

    private void reload(Map<String, Integer> weights, String alsoListed) throws Exception {
        Map<String, Integer> listed = new TreeMap<>(weights);
        if (alsoListed != null) {
            listed.put(alsoListed, weight());
        }
        writeConfig(listed);
        call("reload", "POST", "/api/v1/reload", null, Set.of(200));
    }

    private void clientCall(HttpClient web) throws Exception {
        HttpResponse<String> r = web.send(HttpRequest.newBuilder(webUri()).timeout(BOUND).build(),
                HttpResponse.BodyHandlers.ofString());
        answers.computeIfAbsent("client " + r.statusCode(), k -> new LongAdder()).increment();
        if (!CLIENT_STATUSES.contains(r.statusCode())) {
            failures.add("client: " + r.statusCode() + " " + r.body());
        }
    }

    /**
     * Sends one admin call and checks its answer: a status of {@code allowed}, JSON, and the shape
     * the spec gives it (SERVER, a pool, {@code {"applied":true}}, or {@code {"error": "one line"}}).
     *
     * @return the status
     */
    private int call(String what, String method, String path, String body, Set<Integer> allowed) throws Exception {
        HttpRequest.Builder request = admin.request(path).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = admin.send(request.build());
        int status = r.statusCode();
        answers.computeIfAbsent(what + " " + status, k -> new LongAdder()).increment();
        String call = method + " " + path + " -> " + status + " " + r.body();
        if (!allowed.contains(status) || !r.headers().firstValue("content-type").orElse("").equals("application/json")) {
            failures.add("unexpected: " + call);
            return status;
        }
        JsonNode json;
        try {
            json = admin.json.readTree(r.body());
        } catch (IOException notJson) {
            failures.add("not JSON: " + call);
            return status;
        }
        boolean wellFormed = status >= 400
                ? json.size() == 1 && json.path("error").isTextual() && !json.get("error").asText().isBlank()
                        && !json.get("error").asText().contains("\n")
                : switch (what) {
                    case "reload" -> json.equals(admin.json.readTree("{\"applied\":true}"));
                    case "get" -> json.path("servers").isArray();
                    // SERVER, of the address in the path or the body
                    default -> json.path("address").isTextual() && (path + body).contains(json.get("address").asText())
                            && json.path("state").isTextual();
                };
        if (!wellFormed) {
            failures.add("ill-formed: " + call);
        }
        return status;
    }

    /** Server address -> its SERVER, from {@code GET /api/v1/pools/app}. */
    private Map<String, JsonNode> servers() throws Exception {
        HttpResponse<String> r = admin.get("/api/v1/pools/app");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, JsonNode> byAddress = new TreeMap<>();
        admin.parse(r).get("servers").forEach(s -> byAddress.put(s.get("address").asText(), s));
        return byAddress;
    }

    private Map<String, String> states() throws Exception {
        return servers().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get("state").asText()));
    }

    private void writeConfig(Map<String, Integer> servers) throws IOException {
        String list = servers.entrySet().stream()
                .map(e -> "      - {address: " + e.getKey() + ", weight: " + e.getValue() + "}")
                .collect(Collectors.joining("\n"));
        Files.writeString(file, """
                name: hammer
                admin:
                  listen: 127.0.0.1:%d
                listeners:
                  - {name: web, listen: 127.0.0.1:%d, pool: app}
                pools:
                  - name: app
                    retries: 2
                    drain-timeout: 1s
                    health-check: {type: http, path: /health, interval: 200ms, timeout: 150ms, rise: 1, fall: 2}
                    servers:
                %s
                """.formatted(adminPort, webPort, list));
    }

    private URI webUri() {
        return URI.create("http://127.0.0.1:" + webPort + "/");
    }

    private static String serverPath(String address) {
        return "/api/v1/pools/app/servers/" + address;
    }

    private static String newServer(String address, int weight) {
        return "{\"address\":\"" + address + "\",\"weight\":" + weight + "}";
    }

    private static int weight() {
        return ThreadLocalRandom.current().nextInt(1, 6);
    }

    /** A thread that repeats {@code call} from {@code go} until {@code end} or {@link #MAX_CALLS}. */
    private Thread hammer(String name, CountDownLatch go, long end, Call call) {
        return Thread.ofPlatform().name("hammer-" + name).start(() -> {
            try {
                go.await();
                for (int i = 0; i < MAX_CALLS && System.nanoTime() < end; i++) {
                    call.run();
                }
            } catch (Exception e) {
                failures.add(name + ": " + e);
            }
        });
    }

    /** A thread that flips a server every 50 to 150 ms (its flapping period) while {@code on}. */
    private Thread flapper(String name, CountDownLatch go, AtomicBoolean on, Call flip) {
        return Thread.ofPlatform().name("hammer-" + name).start(() -> {
            try {
                go.await();
                while (on.get()) {
                    flip.run();
                    Thread.sleep(ThreadLocalRandom.current().nextLong(50, 150));
                }
            } catch (Exception e) {
                failures.add(name + ": " + e);
            }
        });
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    /**
     * A real HTTP server on 127.0.0.1: every path answers {@code server NAME}, but {@code /health}
     * answers 200 or 503 as {@link #healthy} says; it can stop and start listening on its port.
     */
    private static final class Backend implements AutoCloseable {

        final AtomicBoolean healthy = new AtomicBoolean(true);
        private final byte[] name;
        private final int port;
        /** Null while not listening. Guarded by this. */
        private HttpServer server;

        /** @param port 0 for any; a port to listen on again must be one no connection takes as its source */
        Backend(String name, int port) throws IOException {
            this.name = ("server " + name).getBytes(StandardCharsets.US_ASCII);
            this.port = listen(port);
        }

        String address() {
            return "127.0.0.1:" + port;
        }

        private synchronized int listen(int on) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), on), 64);
            server.createContext("/", this::answer);
            server.start();
            return server.getAddress().getPort();
        }

        private void answer(HttpExchange exchange) throws IOException {
            try (exchange) {
                boolean health = exchange.getRequestURI().getPath().equals("/health");
                byte[] body = health ? new byte[0] : name;
                int status = !health || healthy.get() ? 200 : 503;
                exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }

        synchronized void toggleListening() throws IOException {
            if (server == null) {
                listen(port);
            } else {
                close();
            }
        }

        @Override
        public synchronized void close() {
            if (server != null) {
                server.stop(0);
                server = null;
            }
        }
    }
}
