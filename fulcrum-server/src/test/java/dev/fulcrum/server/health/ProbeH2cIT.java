package dev.fulcrum.server.health;

import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.http.H2cTestServer;
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

/** An http check of an h2c pool speaks HTTP/2 by prior knowledge to a server that knows no HTTP/1.1. */
class ProbeH2cIT {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterEach
    void tearDown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private Probe.Result probe(H2cTestServer server, String path, boolean h2c) throws Exception {
        // a generous timeout: the first probe loads the HTTP/2 codec's classes on a busy machine
        HealthCheck check = new HealthCheck(CheckType.HTTP, path, "", 200, 399, Duration.ofSeconds(10),
                Duration.ofSeconds(5), 2, 3, 0.1);
        CompletableFuture<Probe.Result> result = new CompletableFuture<>();
        var loop = group.next();
        loop.execute(() -> Probe.run(loop, NioSocketChannel.class, server.address(), check, h2c, result::complete));
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
}
