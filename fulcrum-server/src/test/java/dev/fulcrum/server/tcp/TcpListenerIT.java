package dev.fulcrum.server.tcp;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.HealthCheck;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.config.FulcrumConfig.OutlierDetection;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.config.FulcrumConfig.Protocol;
import dev.fulcrum.server.config.FulcrumConfig.ServerEntry;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.metrics.ListenerMetrics;
import dev.fulcrum.server.metrics.ProxyMetrics;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class TcpListenerIT {

    private static Transport transport;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Registry registry;
    private TcpListener listener;
    private PoolRuntime pool;

    @BeforeAll
    static void startTransport() {
        transport = Transport.create(2);
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (listener != null) {
            listener.closeGracefully(Duration.ZERO).get(5, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void echoesThroughTheProxyAndCountsOneSession() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        start(List.of(echo.address()), 1, 0, Duration.ofSeconds(30));
        Server server = pool.pool().servers().getFirst();

        try (Socket client = connect()) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(client.getInputStream().readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThat(server.activeRequests()).isEqualTo(1);
            assertThat(server.activeConnections()).isEqualTo(1);
            assertThat(listener.activeConnections()).isEqualTo(1);
            client.getOutputStream().write(" again".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(client.getInputStream().readNBytes(6), StandardCharsets.US_ASCII)).isEqualTo(" again");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 0
                && server.activeConnections() == 0 && listener.activeConnections() == 0);
        assertThat(server.requests()).isEqualTo(1);
    }

    /**
     * {@code fulcrum_bytes_total} of a plain-text TCP listener is what the client sent and received:
     * no handler counts there, the session counts what it reads (bytes that come before the server
     * connection is up too) and the relay from the server what it writes.
     */
    @Test
    void countsTheBytesTheClientSentAndReceived() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        ProxyMetrics metrics = ProxyMetrics.unregistered();
        start(List.of(echo.address()), 1, 0, Duration.ofSeconds(30), 0, metrics);
        ListenerMetrics counted = metrics.listener("tcp-test");
        byte[] more = new byte[100_000];
        new Random(7).nextBytes(more);
        try (Socket client = connect()) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII)); // as the server connection starts
            assertThat(client.getInputStream().readNBytes(5)).hasSize(5);
            client.getOutputStream().write(more);
            assertThat(client.getInputStream().readNBytes(more.length)).isEqualTo(more);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(counted.bytesIn()).as("bytes in").isEqualTo(5 + more.length);
            assertThat(counted.bytesOut()).as("bytes out").isEqualTo(5 + more.length);
        });
    }

    @Test
    void halfCloseLetsTheServerAnswerAfterTheClientsEof() throws Exception {
        TestBackend backend = backend(TestBackend.replyAfterEof());
        start(List.of(backend.address()), 1, 0, Duration.ofSeconds(30));

        try (Socket client = connect()) {
            client.getOutputStream().write(new byte[12345]);
            client.shutdownOutput();
            // the reply comes only after the server saw EOF, over the half-open connection
            byte[] reply = client.getInputStream().readAllBytes();
            assertThat(new String(reply, StandardCharsets.US_ASCII)).isEqualTo("got 12345 bytes");
        }
    }

    @Test
    void halfCloseFromTheServerKeepsTheClientsDirectionOpen() throws Exception {
        CompletableFuture<Long> counted = new CompletableFuture<>();
        TestBackend backend = backend(TestBackend.bannerThenCount("hi", counted));
        start(List.of(backend.address()), 1, 0, Duration.ofSeconds(30));

        try (Socket client = connect()) {
            assertThat(client.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("hi");
            // the server's FIN reached us; our direction must still carry bytes
            client.getOutputStream().write(new byte[7000]);
            client.shutdownOutput();
            assertThat(counted.get(5, TimeUnit.SECONDS)).isEqualTo(7000);
        }
    }

    @Test
    void fiftyMebibytesBothWaysArriveIntact() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        start(List.of(echo.address()), 1, 0, Duration.ofSeconds(30));
        int total = 50 * 1024 * 1024;

        try (Socket client = connect()) {
            client.setSoTimeout(30_000);
            MessageDigest sent = sha256();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.getOutputStream();
                    Random random = new Random(42);
                    byte[] chunk = new byte[64 * 1024];
                    for (int written = 0; written < total; written += chunk.length) {
                        random.nextBytes(chunk);
                        sent.update(chunk);
                        out.write(chunk);
                    }
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            MessageDigest received = sha256();
            long count;
            try (InputStream in = new DigestInputStream(client.getInputStream(), received)) {
                count = in.transferTo(OutputStream.nullOutputStream());
            }
            writer.get(30, TimeUnit.SECONDS);
            assertThat(count).isEqualTo(total);
            assertThat(HexFormat.of().formatHex(received.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
        }
    }

    @Test
    void aServerThatDoesNotReadStopsTheClient() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        TestBackend slow = backend(TestBackend.stalled(go));
        start(List.of(slow.address()), 1, 0, Duration.ofSeconds(30));
        long cap = 128L * 1024 * 1024;
        AtomicLong written = new AtomicLong();

        try (Socket client = connect()) {
            Thread writer = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    OutputStream out = client.getOutputStream();
                    while (written.get() < cap) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                } catch (IOException e) {
                    // the test closed the socket
                }
            });
            long[] previous = {-1};
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(300)).until(() -> {
                long now = written.get();
                boolean stalled = now == previous[0];
                previous[0] = now;
                return stalled;
            });
            long stalledAt = written.get();
            // only socket buffers (a few MiB each on loopback) and one read batch may hold bytes;
            // a proxy that read without waiting for its writes would swallow the whole cap
            assertThat(stalledAt).as("bytes accepted while the server reads nothing").isLessThan(cap / 2);

            go.countDown();
            await().atMost(Duration.ofSeconds(15)).until(() -> written.get() > stalledAt + 8L * 1024 * 1024
                    || written.get() >= cap);
            client.close();
            writer.join(5000);
        }
    }

    @Test
    void connectFailureIsRetriedOnAnotherServer() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        HostPort deadA = TestBackend.deadAddress();
        HostPort deadB = TestBackend.deadAddress();
        start(List.of(deadA, deadB, echo.address()), 2, 0, Duration.ofSeconds(30));

        for (int i = 0; i < 6; i++) {
            try (Socket client = connect()) {
                client.getOutputStream().write('x');
                assertThat(client.getInputStream().read()).as("session %d echoes", i).isEqualTo('x');
            }
        }
        long deadFailures = pool.pool().servers().stream()
                .filter(s -> !s.address().equals(echo.address())).mapToLong(Server::failures).sum();
        assertThat(deadFailures).as("the dead servers were tried (and the tries retried)").isPositive();
    }

    @Test
    void retriesStopAfterTheConfiguredCount() throws Exception {
        start(List.of(TestBackend.deadAddress(), TestBackend.deadAddress(), TestBackend.deadAddress()), 1, 0,
                Duration.ofSeconds(30));

        try (Socket client = connect()) {
            assertThat(readOrReset(client)).isEqualTo(-1);
        }
        long tries = pool.pool().servers().stream().mapToLong(Server::failures).sum();
        assertThat(tries).as("one try plus one retry").isEqualTo(2);
    }

    @Test
    void noServerUpClosesTheClientAtOnce() throws Exception {
        start(List.of(), 1, 0, Duration.ofSeconds(30));

        try (Socket client = connect()) {
            long t0 = System.nanoTime();
            assertThat(readOrReset(client)).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    void idleSessionIsClosedAfterIdleTimeout() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        start(List.of(echo.address()), 1, 0, Duration.ofMillis(400));
        Server server = pool.pool().servers().getFirst();

        try (Socket client = connect()) {
            client.getOutputStream().write('x');
            assertThat(client.getInputStream().read()).isEqualTo('x');
            long t0 = System.nanoTime();
            assertThat(readOrReset(client)).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(300), Duration.ofSeconds(4));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 0);
    }

    /**
     * At max-connections the listener stops accepting (HAProxy's maxconn): a connection over the limit
     * waits in the kernel's backlog, its bytes unrelayed, until one closes; then it is relayed. Nothing
     * is reset.
     */
    @Test
    void aConnectionOverMaxConnectionsWaitsUntilOneClosesThenIsRelayed() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        start(List.of(echo.address()), 1, 1, Duration.ofSeconds(30));

        Socket first = connect();
        first.getOutputStream().write('x');
        assertThat(first.getInputStream().read()).as("the first holds the only slot").isEqualTo('x');
        try (Socket second = connect()) {
            try (first) {
                second.getOutputStream().write('y');
                await("the second waits unrelayed").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                        .until(() -> second.getInputStream().available() == 0 && listener.activeConnections() == 1);
                first.getOutputStream().write('z');
                assertThat(first.getInputStream().read()).isEqualTo('z');
            }
            assertThat(second.getInputStream().read()).as("relayed once the first closed").isEqualTo('y');
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> listener.activeConnections() == 0);
        try (Socket third = connect()) {
            third.getOutputStream().write('w');
            assertThat(third.getInputStream().read()).as("accepting again").isEqualTo('w');
        }
    }

    @Test
    void aServerAtMaxConnectionsPerServerIsPassedOverAndWhenAllAreTheClientIsClosed() throws Exception {
        TestBackend a = backend(TestBackend.echo());
        TestBackend b = backend(TestBackend.echo());
        start(List.of(a.address(), b.address()), 1, 0, Duration.ofSeconds(30), 1);

        try (Socket first = connect(); Socket second = connect()) {
            for (Socket s : List.of(first, second)) {
                s.getOutputStream().write('x');
                assertThat(s.getInputStream().read()).isEqualTo('x');
            }
            assertThat(pool.pool().servers()).as("one connection on each server")
                    .allSatisfy(s -> assertThat(s.activeConnections()).isEqualTo(1));
            try (Socket third = connect()) {
                assertThat(readOrReset(third)).as("every server at its limit: closed at once").isEqualTo(-1);
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> pool.pool().servers().stream()
                .allMatch(s -> s.activeConnections() == 0));
        try (Socket fourth = connect()) {
            fourth.getOutputStream().write('y');
            assertThat(fourth.getInputStream().read()).as("a slot is free again").isEqualTo('y');
        }
    }

    @Test
    void gracefulCloseStopsAcceptingLetsSessionsRunThenClosesThem() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        start(List.of(echo.address()), 1, 0, Duration.ofSeconds(30));

        try (Socket client = connect()) {
            client.getOutputStream().write('x');
            assertThat(client.getInputStream().read()).isEqualTo('x');
            CompletableFuture<Void> closed = listener.closeGracefully(Duration.ofMillis(800));
            assertThat(listener.isAccepting()).isFalse();
            client.getOutputStream().write('y');
            assertThat(client.getInputStream().read()).as("the session still works").isEqualTo('y');
            closed.get(5, TimeUnit.SECONDS);
            assertThat(readOrReset(client)).isEqualTo(-1);
        }
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", listener.localAddress() == null
                ? 1 : listener.localAddress().getPort());
        try (Socket late = new Socket()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> late.connect(address, 1000))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void gracefulCloseEndsWithTheLastSessionNotAtItsTimeout() throws Exception {
        TestBackend echo = backend(TestBackend.echo());
        start(List.of(echo.address()), 1, 0, Duration.ofSeconds(30));
        Server server = pool.pool().servers().getFirst();
        CompletableFuture<Void> closed;
        try (Socket client = connect()) {
            client.getOutputStream().write('x');
            assertThat(client.getInputStream().read()).isEqualTo('x');
            closed = listener.closeGracefully(Duration.ofMinutes(1));
            assertThat(closed).as("a session is open").isNotDone();
        }
        closed.get(5, TimeUnit.SECONDS); // the client left, its relay closed the server connection
        assertThat(server.activeConnections()).as("the session's server connection is closed too").isZero();
        assertThat(listener.activeConnections()).isZero();
    }

    private void start(List<HostPort> servers, int retries, int maxConnections, Duration idleTimeout)
            throws Exception {
        start(servers, retries, maxConnections, idleTimeout, 0);
    }

    private void start(List<HostPort> servers, int retries, int maxConnections, Duration idleTimeout,
                       int maxConnectionsPerServer) throws Exception {
        start(servers, retries, maxConnections, idleTimeout, maxConnectionsPerServer, null);
    }

    /** @param metrics where the listener counts (connections, bytes); null for nowhere */
    private void start(List<HostPort> servers, int retries, int maxConnections, Duration idleTimeout,
                       int maxConnectionsPerServer, ProxyMetrics metrics) throws Exception {
        HealthCheck none = new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                Duration.ofSeconds(1), 2, 3, 0.1);
        PoolConfig poolConfig = new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "",
                servers.stream().map(a -> new ServerEntry(a, 1)).toList(), Duration.ofSeconds(1),
                Duration.ofSeconds(5), retries, Duration.ZERO, Duration.ofSeconds(5), maxConnectionsPerServer, none,
                OutlierDetection.DEFAULT);
        registry = new Registry(Clock.systemUTC());
        pool = registry.addPool(poolConfig);
        Listener config = new Listener("tcp-test", new HostPort("127.0.0.1", Loopback.freePort()), Protocol.TCP,
                "app", null, maxConnections, idleTimeout, Duration.ofSeconds(10), 65536);
        listener = new TcpListener(config, pool, transport, ProxyObserver.NONE, metrics, AccessLog.OFF);
        listener.start().get(5, TimeUnit.SECONDS);
        assertThat(listener.isAccepting()).isTrue();
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket();
        socket.connect(listener.localAddress(), 2000);
        socket.setSoTimeout(5000);
        return socket;
    }

    private TestBackend backend(TestBackend backend) {
        toClose.add(backend);
        return backend;
    }

    /** The next byte, or -1 at EOF; a reset counts as EOF (a closed connection either way). */
    private static int readOrReset(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read();
        } catch (SocketException e) {
            return -1;
        }
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }
}
