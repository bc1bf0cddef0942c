package dev.fulcrum.server.cluster;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A server process for auto-scaling tests whose load the test sets: {@code GET /metrics} answers
 * {@code process_cpu_usage V}, V read from a file at each scrape, so every node of a cluster sees
 * the same load on every server; anything else answers 200. Run as
 * {@code java -cp TEST_CLASSES dev.fulcrum.server.cluster.MetricServer PORT LOAD_FILE} (the
 * command a {@code process} provisioner starts); stops on SIGTERM.
 */
public final class MetricServer {

    private MetricServer() {
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        Path load = Path.of(args[1]);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
        server.createContext("/", exchange -> {
            String body = exchange.getRequestURI().getPath().equals("/metrics")
                    ? "# TYPE process_cpu_usage gauge\nprocess_cpu_usage " + Files.readString(load).strip() + "\n"
                    : "metric server " + port + "\n";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    /** The command that starts one on {@code port} ({@code {port}} for a provisioner), reading {@code load}. */
    static List<String> command(String port, Path load) {
        try {
            String classes = Path.of(MetricServer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
            return List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx16m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-cp", classes, MetricServer.class.getName(), port, load.toString());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
