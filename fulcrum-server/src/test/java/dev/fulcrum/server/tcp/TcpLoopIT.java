package dev.fulcrum.server.tcp;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TCP pool that lists its own listener would connect to itself again and again, one connection
 * per turn, until file descriptors run out. The listener skips such a server: with it alone in the
 * pool a client is closed at once, and with another server beside it the client is served there.
 */
class TcpLoopIT {

    @Test
    void aServerThatIsTheListenerItselfIsNeverConnectedTo() throws Exception {
        try (TestBackend echo = TestBackend.echo()) {
            int port = Loopback.freePort();
            HostPort self = new HostPort("127.0.0.1", port);
            HostPort selfByName = new HostPort("localhost", port);
            assertThat(sessionsToSelf(port, List.of(self, selfByName), false)).isZero();
            assertThat(sessionsToSelf(port, List.of(self, echo.address()), true)).isZero();
        }
    }

    /**
     * Connects one client, which must be echoed to or closed at once (a loop would keep it waiting);
     * returns the sessions the listener opened to its own address.
     */
    private static long sessionsToSelf(int port, List<HostPort> servers, boolean echoes) throws Exception {
        HealthCheck none = new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                Duration.ofSeconds(1), 2, 3, 0.1);
        PoolConfig poolConfig = new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                servers.stream().map(a -> new ServerEntry(a, 1)).toList(), Duration.ofSeconds(1),
                Duration.ofSeconds(5), 2, Duration.ZERO, Duration.ofSeconds(5), 0, none, OutlierDetection.DEFAULT);
        try (Transport transport = Transport.create(1); Registry registry = new Registry(Clock.systemUTC())) {
            Listener config = new Listener("tcp-loop", new HostPort("127.0.0.1", port), Protocol.TCP, "app", null,
                    100, Duration.ofSeconds(30), Duration.ofSeconds(10), 65536);
            var pool = registry.addPool(poolConfig);
            TcpListener listener = new TcpListener(config, pool, transport);
            listener.start().get(5, TimeUnit.SECONDS);
            try (Socket client = new Socket("127.0.0.1", port)) {
                client.setSoTimeout(5000);
                client.getOutputStream().write('x');
                int answer;
                try {
                    answer = client.getInputStream().read();
                } catch (java.net.SocketException reset) {
                    answer = -1;
                }
                assertThat(answer).isEqualTo(echoes ? 'x' : -1);
                return pool.pool().servers().stream().filter(s -> s.address().port() == port)
                        .mapToLong(dev.fulcrum.core.pool.Server::requests).sum();
            } finally {
                listener.closeGracefully(Duration.ZERO).get(5, TimeUnit.SECONDS);
            }
        }
    }
}
