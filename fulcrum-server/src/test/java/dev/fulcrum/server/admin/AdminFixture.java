package dev.fulcrum.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.Loopback;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * A real {@link Registry} with pool {@code app} (round-robin, servers 127.0.0.1:9101..9103, no
 * health checks so they start up), {@link FulcrumMetrics} and an {@link AdminServer} on a free
 * loopback port, plus an {@link AdminClient} of it. Nothing listens on the servers' ports: the admin side never
 * connects to them.
 */
final class AdminFixture implements AutoCloseable {

    static final List<String> SERVERS = List.of("127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103");

    final Registry registry;
    final PoolRuntime pool;
    final FulcrumMetrics metrics;
    final AdminServer admin;
    final AdminClient client;
    final HttpClient http;
    final ObjectMapper json;
    final URI base;

    AdminFixture(String token) {
        this(token, registry -> AdminHooks.basic("edge-test", registry));
    }

    AdminFixture(String token, Function<Registry, AdminHooks> hooks) {
        this(token, List.of(), AdminLimits.DEFAULT, hooks);
    }

    /** With extra {@code admin.allowed-hosts} and the given limits. */
    AdminFixture(String token, List<String> allowedHosts, AdminLimits limits) {
        this(token, allowedHosts, limits, registry -> AdminHooks.basic("edge-test", registry));
    }

    AdminFixture(String token, List<String> allowedHosts, AdminLimits limits, Function<Registry, AdminHooks> hooks) {
        registry = new Registry(Clock.systemUTC());
        pool = registry.addPool(poolConfig("app", SERVERS, Duration.ofSeconds(30)));
        metrics = new FulcrumMetrics(registry);
        admin = new AdminServer(new FulcrumConfig.Admin(new HostPort("127.0.0.1", freePort()), token, allowedHosts),
                registry, metrics, hooks.apply(registry), limits);
        admin.start();
        client = new AdminClient(admin.localAddress().getPort());
        http = client.http;
        json = client.json;
        base = client.base;
    }

    /** A port free on loopback now (HostPort has no port 0): {@link Loopback#freePort()}, unchecked. */
    static int freePort() {
        try {
            return Loopback.freePort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static PoolConfig poolConfig(String name, List<String> servers, Duration drainTimeout) {
        HealthCheck none = new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                Duration.ofSeconds(1), 2, 3, 0.1);
        return new PoolConfig(name, Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                servers.stream().map(a -> new ServerEntry(HostPort.parse(a), 1)).toList(), Duration.ofSeconds(1),
                Duration.ofSeconds(5), 1, Duration.ZERO, drainTimeout, 0, none, OutlierDetection.DEFAULT);
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return client.get(path);
    }

    HttpResponse<String> post(String path, String body, String token) throws IOException, InterruptedException {
        return client.post(path, body, token);
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return client.post(path, body);
    }

    HttpResponse<String> delete(String path, String token) throws IOException, InterruptedException {
        return client.delete(path, token);
    }

    HttpRequest.Builder request(String path) {
        return client.request(path);
    }

    HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request);
    }

    JsonNode parse(HttpResponse<String> response) throws IOException {
        return client.parse(response);
    }

    int port() {
        return admin.localAddress().getPort();
    }

    /** A raw connection to the admin port. */
    RawClient raw() throws IOException {
        return new RawClient(port());
    }

    @Override
    public void close() {
        admin.close();
        registry.close();
        client.close();
    }
}
