package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A keep-alive server connection carries any number of requests in constant memory. A million
 * requests, pipelined on one client connection through an in-process listener, all go over one
 * server connection, and the live heap after them is what it was after the first hundred thousand.
 * Guards against state added per request to an object that lives as long as a connection (issue
 * 12: a close listener added to the server connection each time it went back to the pool, ~26 bytes
 * a request, over 20 MiB here).
 *
 * <p>The proxy runs one event loop, which the server shares (see {@link FixedResponseServer}), so
 * that the test takes seconds, not minutes. The heap figures are of the whole JVM (failsafe runs
 * every IT in one), taken while this test's connections are open and idle; the bound leaves room
 * for the noise of the rest.
 */
class ServerConnectionReuseHeapIT {

    private static final int WARM_UP = 100_000;
    private static final int REQUESTS = 1_000_000;
    private static final int PIPELINED = 100;
    private static final long MAX_GROWTH_BYTES = 4L << 20;
    private static final Duration MAX_TIME = Duration.ofSeconds(150);
    /** With a sticky cookie naming no server: the cookie is looked up, and a new one set, each time. */
    private static final String REQUEST =
            "GET /ping HTTP/1.1\r\nHost: fulcrum.test\r\nCookie: srv=0123456789abcdef\r\n\r\n";

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @Test
    void aMillionRequestsOverOneServerConnectionLeaveTheLiveHeapFlat() throws Exception {
        ProxyFixture proxy = closer.add(new ProxyFixture());
        proxy.workerThreads = 1;
        proxy.metrics = true; // the per-request paths of production: metrics and sticky cookie too
        proxy.stickyCookie = "srv";
        int serverPort = Loopback.freePort();
        proxy.servers.add(new HostPort("127.0.0.1", serverPort));
        proxy.start();
        FixedResponseServer server = closer.add(new FixedResponseServer(proxy.transport, serverPort));
        PipeliningClient client = closer.add(new PipeliningClient(proxy.port, REQUEST, PIPELINED, 10_000));
        long startNanos = System.nanoTime();
        long deadline = startNanos + MAX_TIME.toNanos();

        client.run(WARM_UP, deadline); // the JIT, pools and buffers reach their steady size
        long before = LiveHeap.bytes();
        client.run(REQUESTS - WARM_UP, deadline);
        long after = LiveHeap.bytes();

        Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
        String figures = "%d requests in %d ms; live heap %.2f MiB after %d, %.2f MiB after %d: %+.2f MiB".formatted(
                REQUESTS, took.toMillis(), mib(before), WARM_UP, mib(after), REQUESTS, mib(after - before));
        System.out.println("ServerConnectionReuseHeapIT: " + figures);
        assertThat(client.firstOther()).as("an answer other than 200").isNull();
        assertThat(client.ok()).isEqualTo(REQUESTS);
        assertThat(server.requests()).isEqualTo(REQUESTS);
        assertThat(server.connectionsAccepted()).as("server connections").isEqualTo(1);
        assertThat(after - before).as(figures).isLessThan(MAX_GROWTH_BYTES);
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
