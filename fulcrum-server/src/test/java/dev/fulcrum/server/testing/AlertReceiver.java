package dev.fulcrum.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * An Alertmanager-compatible webhook receiver on 127.0.0.1 for tests: {@code POST /api/v2/alerts}
 * with a JSON array of alerts, answered 200. Keeps every alert with the moment it arrived, so a
 * test can measure how long delivery took. Thread-safe.
 */
public final class AlertReceiver implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One alert as received; {@code atNanos} is {@link System#nanoTime()} on arrival. */
    public record Received(long atNanos, JsonNode alert) {
        public String name() {
            return label("alertname");
        }

        public String label(String key) {
            return alert.path("labels").path(key).asText();
        }

        public String description() {
            return alert.path("annotations").path("description").asText();
        }

        /** A resolution: Fulcrum sends {@code endsAt} only when the condition is over. */
        public boolean resolved() {
            return alert.hasNonNull("endsAt");
        }
    }

    private final HttpServer http;
    private final List<Received> received = new CopyOnWriteArrayList<>();

    private AlertReceiver(HttpServer http) {
        this.http = http;
    }

    public static AlertReceiver start() throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        AlertReceiver receiver = new AlertReceiver(http);
        http.createContext("/api/v2/alerts", ex -> {
            long at = System.nanoTime();
            try (ex) {
                for (JsonNode alert : JSON.readTree(ex.getRequestBody().readAllBytes())) {
                    receiver.received.add(new Received(at, alert));
                }
                ex.sendResponseHeaders(200, -1);
            }
        });
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.start();
        return receiver;
    }

    /** The URL to put under {@code alerts: [{type: webhook, url: ...}]}. */
    public String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/api/v2/alerts";
    }

    public List<Received> all() {
        return List.copyOf(received);
    }

    /** The first firing ({@code resolved} false) or resolved alert of that name for that server ("" = none). */
    public Optional<Received> first(String alertname, String server, boolean resolved) {
        return received.stream()
                .filter(r -> r.name().equals(alertname) && r.label("server").equals(server)
                        && r.resolved() == resolved)
                .findFirst();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
