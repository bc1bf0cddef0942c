package dev.fulcrum.server.health;

import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.testing.AlertReceiver;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Failover with real processes: {@code fulcrum run -c FILE} from the shaded jar in front of three
 * {@code fulcrum demo-server} processes, a keep-alive client loop of about 400 requests/s through
 * it, and an in-test webhook receiver for the alerts. Health checks every 500 ms, timeout 300 ms,
 * fall 3, rise 2, retries 2, outlier detection at its defaults.
 */
class FailoverIT {

    private static final long INTERVAL_MS = 500;
    private static final long TIMEOUT_MS = 300;
    private static final int RISE = 2;
    private static final int FALL = 3;
    private static final double JITTER = 0.10;
    /** Slack for a shared, noisy CI machine, on top of what the settings make inevitable. */
    private static final long MARGIN_MS = 2000;

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    @Test
    void killNineOfOneServerUnderLoadCostsNoRequestAlertsAndItComesBackAfterRise() throws Exception {
        Setup s = startAll();
        LoadLoop load = s.load;
        int port2 = s.ports.get(1);
        String server2 = "127.0.0.1:" + port2;

        // kill -9 the second server while the client loop runs
        load.awaitServed("s2", 20);
        LocalTime killedAt = LocalTime.now();
        long killed = System.nanoTime();
        s.servers.get(1).kill();

        await("FulcrumServerDown for " + server2).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(5))
                .until(() -> s.alerts.first(Alerter.SERVER_DOWN, server2, false).isPresent());
        AlertReceiver.Received firing = s.alerts.first(Alerter.SERVER_DOWN, server2, false).orElseThrow();
        long killToAlertMs = millis(firing.atNanos() - killed);
        assertThat(firing.description()).isEqualTo(FALL + " checks failed: connection refused");
        long downBound = (long) (INTERVAL_MS * (1 + JITTER)) * FALL + TIMEOUT_MS + MARGIN_MS;
        assertThat(killToAlertMs).as("kill -> alert delivered, ms").isLessThan(downBound);
        String log = s.fulcrum.output();
        long killToOutMs = millisAfter(killedAt,
                firstEventTime(log, List.of("server-ejected", "server-down"), server2));
        long killToDownMs = millisAfter(killedAt, firstEventTime(log, List.of("server-down"), server2));
        long lastServedBy2Ms = millis(load.lastServedBy("s2") - killed);
        assertThat(killToDownMs).as("kill -> server-down event, ms").isLessThan(downBound);

        // restart it on the same port: back in rotation only after RISE passing checks
        long restartStarted = System.nanoTime();
        FulcrumProcess again = demoServer(port2, "s2").awaitPort(port2, Duration.ofSeconds(20));
        long listening = System.nanoTime();
        load.awaitServedAfter("s2", listening, 1, Duration.ofSeconds(15));
        long firstBack = load.firstServedAfter("s2", listening);
        long listeningToBackMs = millis(firstBack - listening);
        // RISE passes, the first of them within an interval of the server listening
        assertThat(listeningToBackMs).as("listening -> first request, ms")
                .isLessThan((long) (INTERVAL_MS * (1 + JITTER)) * (RISE + 1) + MARGIN_MS);
        await("resolved FulcrumServerDown").atMost(Duration.ofSeconds(10))
                .until(() -> s.alerts.first(Alerter.SERVER_DOWN, server2, true).isPresent());
        AlertReceiver.Received resolved = s.alerts.first(Alerter.SERVER_DOWN, server2, true).orElseThrow();
        assertThat(resolved.description()).isEqualTo(RISE + " checks passed");
        load.awaitServedAfter("s2", listening, 20, Duration.ofSeconds(10));

        LoadLoop.Result result = load.stop();
        assertThat(result.failures()).as("failed client requests").isEmpty();
        // a floor that shows the load was real, low enough for a busy 2-core CI machine
        assertThat(result.perSecond()).as("client requests per second").isGreaterThanOrEqualTo(100);
        assertThat(again.process().isAlive()).isTrue();
        System.out.printf("""
                        FailoverIT kill -9 (interval %dms timeout %dms fall %d rise %d): %d requests in %.1f s \
                        (%.0f/s), %d failed, answered by %s
                          kill -> out of rotation (first server-ejected/server-down event) %d ms
                          kill -> server-down event %d ms, kill -> FulcrumServerDown delivered %d ms (bound %d ms)
                          kill -> last request served by the killed server %d ms
                          restart -> listening %d ms, listening -> first request served again %d ms, \
                        restart -> resolved alert delivered %d ms
                        """, INTERVAL_MS, TIMEOUT_MS, FALL, RISE, result.requests(), result.seconds(),
                result.perSecond(), result.failures().size(), new TreeMap<>(load.servedBy()), killToOutMs,
                killToDownMs, killToAlertMs, downBound,
                lastServedBy2Ms, millis(listening - restartStarted), listeningToBackMs,
                millis(resolved.atNanos() - restartStarted));
    }

    @Test
    void serverWhoseHealthAnswers503LeavesRotation() throws Exception {
        Setup s = startAll();
        LoadLoop load = s.load;
        int port3 = s.ports.get(2);
        String server3 = "127.0.0.1:" + port3;
        load.awaitServed("s3", 20);

        HttpResponse<String> failed = http.send(HttpRequest.newBuilder(URI.create("http://" + server3 + "/admin/fail"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(failed.body().strip()).isEqualTo("server s3 failing");
        long failedAt = System.nanoTime();
        await("FulcrumServerDown for " + server3).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(5))
                .until(() -> s.alerts.first(Alerter.SERVER_DOWN, server3, false).isPresent());
        AlertReceiver.Received firing = s.alerts.first(Alerter.SERVER_DOWN, server3, false).orElseThrow();
        // the detail is the last failed check's: 503, or a timeout when the demo server (a process of
        // its own under the test's load) was starved past the 300 ms check timeout on a busy machine;
        // HealthCheckerIT pins the 503 detail without load
        assertThat(firing.description()).matches(FALL + " checks failed: (status 503|timeout after " + TIMEOUT_MS + "ms)");

        // from the down event on, no request reaches it: its own count of answered requests stands
        // still (counted from a moment after the alert, once anything in flight at the event ended)
        long settle = System.nanoTime();
        load.awaitServedAfter("s1", settle, 10, Duration.ofSeconds(10));
        load.awaitServedAfter("s2", settle, 10, Duration.ofSeconds(10));
        long before = helloRequests(port3);
        long mark = System.nanoTime();
        load.awaitServedAfter("s1", mark, 100, Duration.ofSeconds(10));
        load.awaitServedAfter("s2", mark, 100, Duration.ofSeconds(10));
        assertThat(helloRequests(port3)).as("requests that reached s3 after it was reported down").isEqualTo(before);
        assertThat(load.servedAfter("s3", mark)).isZero();

        LoadLoop.Result result = load.stop();
        assertThat(result.failures()).as("failed client requests").isEmpty();
        System.out.printf("FailoverIT /health 503: fail -> FulcrumServerDown delivered %d ms; %d requests, %d failed%n",
                millis(firing.atNanos() - failedAt), result.requests(), result.failures().size());
    }

    // ---- set-up -------------------------------------------------------------------------------

    /** Three demo servers s1..s3, a receiver, Fulcrum in front and the client loop running. */
    private record Setup(List<Integer> ports, List<FulcrumProcess> servers, AlertReceiver alerts,
                         FulcrumProcess fulcrum, LoadLoop load) {
    }

    private Setup startAll() throws Exception {
        AlertReceiver alerts = AlertReceiver.start();
        toClose.add(alerts);
        List<Integer> ports = List.of(Loopback.freePort(), Loopback.freePort(), Loopback.freePort());
        List<FulcrumProcess> servers = new ArrayList<>();
        for (int i = 0; i < ports.size(); i++) {
            servers.add(demoServer(ports.get(i), "s" + (i + 1))); // started together, awaited below
        }
        int listen = Loopback.freePort();
        Path config = dir.resolve("fulcrum.yaml");
        Files.writeString(config, config(listen, Loopback.freePort(), ports, alerts.url()));
        FulcrumProcess fulcrum = FulcrumProcess.start("fulcrum-failover", List.of("-Xmx256m"),
                "run", "-c", config.toString());
        toClose.add(fulcrum);
        for (int i = 0; i < ports.size(); i++) {
            servers.get(i).awaitPort(ports.get(i), Duration.ofSeconds(20));
        }
        fulcrum.awaitPort(listen, Duration.ofSeconds(20));
        LoadLoop load = new LoadLoop(URI.create("http://127.0.0.1:" + listen + "/"), 2, 200, Duration.ofSeconds(25));
        toClose.add(load::stop);
        for (String name : List.of("s1", "s2", "s3")) {
            load.awaitServed(name, 1);
        }
        return new Setup(ports, servers, alerts, fulcrum, load);
    }

    private FulcrumProcess demoServer(int port, String name) throws IOException {
        FulcrumProcess p = FulcrumProcess.start("failover-" + name + "-" + port, List.of("-Xmx64m", "-XX:+UseSerialGC"),
                "demo-server", "--port", Integer.toString(port), "--name", name);
        toClose.add(p);
        return p;
    }

    private static String config(int listen, int adminPort, List<Integer> ports, String alertUrl) {
        String servers = ports.stream().map(p -> "      - address: 127.0.0.1:" + p)
                .collect(Collectors.joining("\n"));
        return """
                name: failover-it
                admin:
                  listen: 127.0.0.1:%d
                listeners:
                  - name: web
                    listen: 127.0.0.1:%d
                    protocol: http
                    pool: app
                pools:
                  - name: app
                    algorithm: round-robin
                    servers:
                %s
                    retries: 2
                    health-check:
                      type: http
                      path: /health
                      interval: %dms
                      timeout: %dms
                      rise: %d
                      fall: %d
                      jitter: %d%%
                alerts:
                  - type: log
                  - type: webhook
                    url: %s
                    timeout: 2s
                """.formatted(adminPort, listen, servers, INTERVAL_MS, TIMEOUT_MS, RISE, FALL,
                Math.round(JITTER * 100), alertUrl);
    }

    // ---- measuring ----------------------------------------------------------------------------

    /** A registry event in Fulcrum's log: {@code 04:32:51.710 INFO  Registry server-down pool=app server=...}. */
    private static final Pattern EVENT_LINE = Pattern.compile(
            "^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*? (\\S+) pool=app server=(\\S+) ", Pattern.MULTILINE);

    /** When Fulcrum logged the first of {@code types} for {@code server} (its log's wall-clock time). */
    private static LocalTime firstEventTime(String log, List<String> types, String server) {
        Matcher m = EVENT_LINE.matcher(log);
        while (m.find()) {
            if (types.contains(m.group(2)) && m.group(3).equals(server)) {
                return LocalTime.parse(m.group(1));
            }
        }
        throw new AssertionError("no " + types + " event for " + server + " in:\n" + log);
    }

    private static long millisAfter(LocalTime start, LocalTime end) {
        return start.until(end, ChronoUnit.MILLIS);
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** {@code demo_requests_total{kind="hello"}} of a demo server: the plain requests it answered. */
    private long helloRequests(int port) throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("^demo_requests_total\\{kind=\"hello\"} (\\d+)", Pattern.MULTILINE)
                .matcher(metrics);
        assertThat(m.find()).as("hello count in %s", metrics).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * A keep-alive client loop: {@code threads} threads, each with its own HTTP/1.1 client (so one
     * connection each), sending GETs at {@code perThread} requests/s until {@link #stop()} or the
     * bound. Keeps who answered each request (the demo server's body, {@code server NAME}) and when.
     */
    static final class LoadLoop {

        record Sample(long atNanos, String server) {
        }

        record Result(int requests, double seconds, double perSecond, List<String> failures) {
        }

        private final URI uri;
        private final List<Thread> threads = new ArrayList<>();
        private final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        private final List<String> failures = new CopyOnWriteArrayList<>();
        private final AtomicInteger requests = new AtomicInteger();
        private final long started = System.nanoTime();
        private volatile boolean stopping;
        private volatile Result result;

        LoadLoop(URI uri, int threadCount, int perThread, Duration bound) {
            this.uri = uri;
            long periodNanos = TimeUnit.SECONDS.toNanos(1) / perThread;
            long deadline = started + bound.toNanos();
            for (int i = 0; i < threadCount; i++) {
                threads.add(Thread.ofPlatform().name("load-" + i).start(() -> run(periodNanos, deadline)));
            }
        }

        private void run(long periodNanos, long deadline) {
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build();
                long next = System.nanoTime();
                while (!stopping && System.nanoTime() < deadline) {
                    requests.incrementAndGet();
                    try {
                        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                        String body = r.body().strip();
                        if (r.statusCode() == 200 && body.startsWith("server ")) {
                            samples.add(new Sample(System.nanoTime(), body.substring("server ".length())));
                        } else {
                            failures.add(r.statusCode() + " " + r.body().strip());
                        }
                    } catch (IOException e) {
                        failures.add(e.toString());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    next += periodNanos;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait); // pacing, not waiting for a condition
                    } else {
                        next = System.nanoTime(); // behind: do not burst to catch up
                    }
                }
            }
        }

        Result stop() throws InterruptedException {
            if (result == null) {
                stopping = true;
                for (Thread t : threads) {
                    t.join(10_000);
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                result = new Result(requests.get(), seconds, requests.get() / seconds, List.copyOf(failures));
            }
            return result;
        }

        int servedAfter(String server, long afterNanos) {
            return (int) samples.stream().filter(s -> s.server().equals(server) && s.atNanos() > afterNanos).count();
        }

        long firstServedAfter(String server, long afterNanos) {
            return samples.stream().filter(s -> s.server().equals(server) && s.atNanos() > afterNanos)
                    .mapToLong(Sample::atNanos).min().orElseThrow();
        }

        long lastServedBy(String server) {
            return samples.stream().filter(s -> s.server().equals(server))
                    .mapToLong(Sample::atNanos).max().orElseThrow();
        }

        void awaitServed(String server, int count) {
            awaitServedAfter(server, Long.MIN_VALUE, count, Duration.ofSeconds(15));
        }

        void awaitServedAfter(String server, long afterNanos, int count, Duration bound) {
            await(count + " requests served by " + server).atMost(bound).pollInterval(Duration.ofMillis(5))
                    .until(() -> {
                        assertThat(failures).as("failed client requests").isEmpty();
                        return servedAfter(server, afterNanos) >= count;
                    });
        }

        Map<String, Long> servedBy() {
            return samples.stream().collect(Collectors.groupingBy(Sample::server, Collectors.counting()));
        }
    }
}
