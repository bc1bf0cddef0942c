package dev.fulcrum.server.net;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.demo.DemoServer;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Servers given by host name ({@code localhost:PORT}) work on every path that connects to them:
 * the health checker, the HTTP proxy and the TCP listener, all through the non-blocking DNS
 * resolver ({@link Transport#dnsResolver}, /etc/hosts first).
 */
class HostNameServersIT {

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @Test
    void serversNamedByHostNameAreCheckedAndProxiedTo() throws Exception {
        DemoServer backend = closer.add(DemoServer.start(new DemoServer.Options("127.0.0.1", 0, "named", 1, 100)));
        int http = Loopback.freePort();
        int tcp = Loopback.freePort();
        FulcrumServer fulcrum = FulcrumServer.start(ConfigLoader.parse("""
                admin:
                  listen: 127.0.0.1:%d
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
                    servers:
                      - address: localhost:%d
                    health-check:
                      interval: 300ms
                      timeout: 200ms
                """.formatted(Loopback.freePort(), http, tcp, backend.port()), "names.yaml", Map.of()));
        closer.add(() -> fulcrum.stop(Duration.ZERO));
        Server server = fulcrum.registry().pool("app").pool().servers().getFirst();

        await("a passing health check of localhost:" + backend.port()).atMost(Duration.ofSeconds(10))
                .until(() -> fulcrum.healthChecker().lastCheck(server).map(c -> c.ok()).orElse(false));

        HttpClient client = HttpClient.newHttpClient();
        for (int port : new int[] {http, tcp}) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("through port " + port).isEqualTo(200);
            assertThat(response.body()).isEqualTo("server named\n");
        }
    }
}
