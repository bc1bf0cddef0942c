package dev.fulcrum.server.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The demo server over real loopback sockets, in this JVM. */
class DemoServerIT {

    private static final Duration BOUND = Duration.ofSeconds(15);

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private DemoServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        client.close();
    }

    private void start(int cpus, int queue) {
        server = DemoServer.start(new DemoServer.Options("127.0.0.1", 0, "it", cpus, queue));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(BOUND).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, byte[] body) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(BOUND)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private CompletableFuture<HttpResponse<String>> getAsync(String path) {
        return client.sendAsync(HttpRequest.newBuilder(uri(path)).timeout(BOUND).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of an unlabelled sample in /metrics. */
    private double metric(String name) throws Exception {
        return get("/metrics").body().lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(name.length() + 1))).orElseThrow();
    }

    @Test
    void everyPathNamesTheServer() throws Exception {
        start(1, 10);
        for (String path : new String[] {"/", "/some/path?x=1"}) {
            HttpResponse<String> response = get(path);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("server it\n");
            assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> v.startsWith("text/plain"));
        }
    }

    @Test
    void healthFailsAfterAdminFailAndRecovers() throws Exception {
        start(1, 10);
        assertThat(get("/health")).satisfies(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok\n");
        });
        assertThat(post("/admin/fail", new byte[0]).statusCode()).isEqualTo(200);
        assertThat(get("/health").statusCode()).isEqualTo(503);
        assertThat(get("/").statusCode()).isEqualTo(200); // only the health check fails
        assertThat(post("/admin/recover", new byte[0]).statusCode()).isEqualTo(200);
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void cpuUsageRisesWhileWorkLoadsTheServer() throws Exception {
        start(1, 10);
        HttpResponse<String> metrics = get("/metrics");
        assertThat(metrics.headers().firstValue("content-type")).hasValueSatisfying(v -> v.startsWith("text/plain"));
        assertThat(metrics.body()).contains("# TYPE process_cpu_usage gauge\n", "# TYPE demo_requests_total counter\n");
        assertThat(metric("process_cpu_usage")).isZero();

        CompletableFuture<HttpResponse<String>> work = getAsync("/work?ms=1500");
        await().atMost(BOUND).until(() -> metric("process_cpu_usage") > 0.05);
        HttpResponse<String> done = work.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).isEqualTo("server it worked 1500 ms\n");
        // 1.5 s busy of a 5 s window on 1 CPU: 0.3 until it starts to slide out 3.5 s later
        assertThat(metric("process_cpu_usage")).isBetween(0.25, 1.0);
        assertThat(get("/metrics").body()).contains("demo_requests_total{kind=\"work\"} 1\n");
    }

    @Test
    void workQueuesWhileTheOnlyCpuIsBusyAndIsRefusedWhenTheQueueIsFull() throws Exception {
        start(1, 1);
        // long enough that the first burn is still running when the third request arrives, even on a loaded box
        CompletableFuture<Long> first = getAsync("/work?ms=3000").thenApply(DemoServerIT::finishedAt);
        await().atMost(BOUND).until(() -> metric("demo_work_busy") == 1);
        long secondSent = System.nanoTime();
        CompletableFuture<Long> second = getAsync("/work?ms=10").thenApply(DemoServerIT::finishedAt);
        await().atMost(BOUND).until(() -> metric("demo_work_queued") == 1);

        HttpResponse<String> third = get("/work?ms=10");
        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.body()).contains("work queue full");

        first.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        long secondEnd = second.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        // it waited for the busy worker: a 10 ms job answered after most of the first one's 3 s.
        // (Compared with its own sending time, not with the first answer's arrival: the client's
        // threads may take the two answers in either order on a loaded machine.)
        assertThat((secondEnd - secondSent) / 1_000_000).as("ms the queued job took").isGreaterThan(1000);
        assertThat(metric("demo_work_rejected_total")).isEqualTo(1);
    }

    /** When a 200 answer arrived. */
    private static long finishedAt(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(200);
        return System.nanoTime();
    }

    @Test
    void workRejectsAnOutOfRangeDuration() throws Exception {
        start(1, 10);
        assertThat(get("/work?ms=20000").statusCode()).isEqualTo(400);
        assertThat(get("/work?ms=abc").statusCode()).isEqualTo(400);
    }

    @Test
    void bytesStreamsExactlyTheAskedNumberOfBytes() throws Exception {
        start(1, 10);
        long n = 3L * 1024 * 1024 + 123; // several 64 KiB chunks and a partial one
        HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(uri("/bytes?n=" + n)).timeout(BOUND)
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValueAsLong("content-length")).hasValue(n);
        long read;
        try (InputStream body = response.body()) {
            read = body.transferTo(OutputStream.nullOutputStream());
        }
        assertThat(read).isEqualTo(n);
        assertThat(get("/bytes?n=0").body()).isEmpty();
    }

    @Test
    void uploadAnswersTheLengthAndSha256OfTheBody() throws Exception {
        start(1, 10);
        byte[] body = new byte[1024 * 1024 + 7];
        new Random(42).nextBytes(body);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        HttpResponse<String> response = post("/upload", body);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("received " + body.length + " bytes sha256 " + sha + "\n");
    }

    @Test
    void keepsTheConnectionAndAnswersPipelinedRequestsInOrder() throws IOException {
        start(1, 10);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout((int) BOUND.toMillis());
            // the slow request first: its answer comes from a worker thread, yet must come first
            socket.getOutputStream().write(("GET /work?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answers = readBoth(socket.getInputStream());
            assertThat(answers.split("HTTP/1.1 200 OK", -1)).hasSize(3);
            assertThat(answers.indexOf("\r\n\r\nserver it worked 200 ms\n"))
                    .isPositive().isLessThan(answers.indexOf("\r\n\r\nserver it\n"));
        }
    }

    /** Reads until both answers' bodies have arrived (bounded by the socket timeout). */
    private static String readBoth(InputStream in) throws IOException {
        StringBuilder text = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            text.append((char) b);
            if (text.indexOf("\r\n\r\nserver it worked 200 ms\n") >= 0 && text.indexOf("\r\n\r\nserver it\n") >= 0) {
                break;
            }
        }
        return text.toString();
    }
}
