package dev.fulcrum.server.health;

import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.ServerTls;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.http.H2cTestServer;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.tls.PoolTls;
import io.netty.handler.ssl.ApplicationProtocolNames;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Path;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An http check of an h2c pool speaks HTTP/2 by prior knowledge to a server that knows no HTTP/1.1;
 * of an h2 pool, HTTP/2 over TLS, and fails when the server does not choose h2 by ALPN.
 */
class ProbeH2cIT {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterEach
    void tearDown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @TempDir
    static Path dir;

    private Probe.Result probe(H2cTestServer server, String path, boolean h2c) throws Exception {
        return probe(server, path, h2c, null);
    }

    private Probe.Result probe(H2cTestServer server, String path, boolean h2c, PoolTls tls) throws Exception {
        // a generous timeout: the first probe loads the HTTP/2 codec's classes on a busy machine
        HealthCheck check = new HealthCheck(CheckType.HTTP, path, "", 200, 399, Duration.ofSeconds(10),
                Duration.ofSeconds(5), 2, 3, 0.1);
        CompletableFuture<Probe.Result> result = new CompletableFuture<>();
        var loop = group.next();
        loop.execute(() -> Probe.run(loop, NioSocketChannel.class, server.address(), check, h2c, tls,
                result::complete));
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void anH2cServerPassesAndFailsByItsStatus() throws Exception {
        try (H2cTestServer server = new H2cTestServer(100)) {
            Probe.Result ok = probe(server, "/hello", true);
            assertThat(ok.ok()).as(ok.detail()).isTrue();
            assertThat(ok.detail()).startsWith("200 in ");

            Probe.Result missing = probe(server, "/no-such-path", true);
            assertThat(missing.ok()).isFalse();
            assertThat(missing.detail()).isEqualTo("status 404");

            assertThat(probe(server, "/hello", false).ok()).as("HTTP/1.1 to an h2c-only server").isFalse();
        }
    }

    @Test
    void anH2PoolsCheckGoesOverTlsAndNeedsH2ByAlpn() throws Exception {
        TestCertificates.Files cert = TestCertificates.withSubjectAltName(dir, "backend", "backend", "IP:127.0.0.1");
        PoolConfig plain = Pools.pool("app", Pools.check(CheckType.HTTP, 1000, 900, 1, 2));
        PoolTls tls = PoolTls.load(new PoolConfig(plain.name(), plain.algorithm(), plain.hashKey(),
                plain.stickyCookie(), plain.servers(), plain.connectTimeout(), plain.responseTimeout(), plain.retries(),
                plain.slowStart(), plain.drainTimeout(), plain.maxConnectionsPerServer(), plain.healthCheck(),
                plain.outlierDetection(), UpstreamProtocol.H2, new ServerTls(cert.cert(), "", null, null, true), 0));
        try (H2cTestServer h2 = new H2cTestServer(100, H2cTestServer.serverTls(cert, null, ApplicationProtocolNames.HTTP_2));
             H2cTestServer http11 = new H2cTestServer(100,
                     H2cTestServer.serverTls(cert, null, ApplicationProtocolNames.HTTP_1_1))) {
            Probe.Result ok = probe(h2, "/hello", true, tls);
            assertThat(ok.ok()).as(ok.detail()).isTrue();
            assertThat(ok.detail()).startsWith("200 in ");

            Probe.Result refused = probe(http11, "/hello", true, tls);
            assertThat(refused.ok()).isFalse();
            assertThat(refused.detail()).isEqualTo("TLS handshake failed: server did not agree to h2 by ALPN");
        }
    }
}
