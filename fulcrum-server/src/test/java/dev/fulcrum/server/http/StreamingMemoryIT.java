package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bodies stream through the proxy, never buffered whole: a 100 MiB download and a 100 MiB upload
 * pass through a Fulcrum process whose heap is capped at 64 MiB, byte for byte (sha256).
 */
class StreamingMemoryIT {

    private static final long SIZE = 100L * 1024 * 1024;

    @TempDir
    static Path dir;
    static FulcrumProcess server;
    static FulcrumProcess proxy;
    static int serverPort;
    static int proxyPort;
    static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        serverPort = Loopback.freePort();
        proxyPort = Loopback.freePort();
        server = FulcrumProcess.demoServer(serverPort);
        Path config = dir.resolve("fulcrum.yaml");
        Files.writeString(config, """
                name: streaming-it
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
                    health-check:
                      type: none
                """.formatted(Loopback.freePort(), proxyPort, serverPort));
        proxy = FulcrumProcess.start("streaming-proxy", List.of("-Xmx64m", "-XX:MaxDirectMemorySize=64m"),
                "run", "-c", config.toString());
        proxy.awaitPort(proxyPort, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void a100MiBDownloadPassesThroughA64MiBHeapUnchanged() throws Exception {
        String direct = sha256Of(get(serverPort, "/bytes?n=" + SIZE));
        String proxied = sha256Of(get(proxyPort, "/bytes?n=" + SIZE));

        assertThat(proxied).isEqualTo(direct);
        assertThat(proxy.process().isAlive()).as("proxy survived: " + proxy.output()).isTrue();
    }

    @Test
    void a100MiBUploadPassesThroughA64MiBHeapUnchanged() throws Exception {
        Path file = dir.resolve("upload.bin");
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            java.util.Random random = new java.util.Random(7);
            for (long written = 0; written < SIZE; written += chunk.length) {
                random.nextBytes(chunk);
                sha.update(chunk);
                out.write(chunk);
            }
        }
        String expected = HexFormat.of().formatHex(sha.digest());

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + proxyPort + "/upload"))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("received " + SIZE + " bytes").contains(expected);
        assertThat(proxy.process().isAlive()).as("proxy survived: " + proxy.output()).isTrue();
    }

    private static InputStream get(int port, String path) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private static String sha256Of(InputStream in) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        long total = 0;
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
                total += n;
            }
        }
        assertThat(total).isEqualTo(SIZE);
        return HexFormat.of().formatHex(sha.digest());
    }
}
