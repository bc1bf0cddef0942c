package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.testing.CloseAfterEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Large Content-Length response bodies relayed by {@code splice(2)} ({@link BodySplice}) on the
 * epoll transport with {@code -Dfulcrum.splice=true}: the bytes arrive whole and in order, the client connection stays usable, and
 * what goes wrong mid-body (bytes past the body, a server or client that goes away, a client that
 * stops reading) ends as it does when the body is copied. That the splice ran is seen where the
 * kernel shows it: the proxy's client connection holds a pipe.
 */
class BodySpliceIT {

    private static final long MIB = 1024 * 1024;

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @BeforeEach
    void spliceOn() {
        assumeTrue(Transport.Kind.EPOLL.isAvailable(), "skipped: the epoll transport does not load here");
        System.setProperty("fulcrum.splice", "true"); // off by default: BodySplice says why
    }

    @AfterEach
    void spliceOff() {
        System.clearProperty("fulcrum.splice");
    }

    private ProxyFixture proxyTo(HostPort server, Duration idleTimeout) throws Exception {
        ProxyFixture f = new ProxyFixture();
        f.servers.add(server);
        f.transportKind = Transport.Kind.EPOLL;
        f.idleTimeout = idleTimeout;
        return closer.add(f).start();
    }

    /** Pipes this process holds open (a splice's pipe belongs to the client connection it writes to). */
    private static long openPipes() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("pipe:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while (!b.toString().endsWith("\r\n\r\n") && (c = in.read()) >= 0) {
            b.append((char) c);
        }
        return b.toString();
    }

    /** Reads {@code n} bytes and returns their SHA-256. */
    private static byte[] sha256Of(InputStream in, long n) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[65536];
        long left = n;
        while (left > 0) {
            int k = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (k < 0) {
                throw new IOException("closed with " + left + " of " + n + " body bytes missing");
            }
            d.update(buf, 0, k);
            left -= k;
        }
        return d.digest();
    }

    private static byte[] patternSha256(long n) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        for (long i = 0; i < n; i++) {
            d.update(TestBackend.pattern(i));
        }
        return d.digest();
    }

    @Test
    void largeBodiesArriveWholeBySpliceOnAKeepAliveClientConnection() throws Exception {
        TestBackend backend = closer.add(TestBackend.start("a"));
        ProxyFixture proxy = proxyTo(backend.address(), Duration.ofSeconds(60));
        long n = 64 * MIB + 123; // not a multiple of a piece: the tail and the last piece are partial
        byte[] expected = patternSha256(n);
        long pipesBefore = openPipes();
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            InputStream in = client.socket.getInputStream();
            for (int i = 0; i < 2; i++) {
                client.send("GET /bytes?n=" + n + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(readHead(in)).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + n);
                assertThat(sha256Of(in, n)).as("body of response %d", i + 1).isEqualTo(expected);
            }
            assertThat(openPipes()).as("pipes held while the client connection is open (the splice's)")
                    .isGreaterThanOrEqualTo(pipesBefore + 2);
            client.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse(false)).endsWith("server a");
        }
        // a server connection that spliced is not reused (BodySplice says why); the small response's is
        assertThat(backend.connectionsAccepted()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(3)).until(() -> backend.openConnections() == 1);
        assertThat(proxy.listener.stats().bytesOut()).isBetween(2 * n, 2 * n + 4096);
        await().atMost(Duration.ofSeconds(3)).until(() -> openPipes() <= pipesBefore);
    }

    @Test
    void bytesPastTheBodyAreSeenAndTheServerConnectionIsNotReused() throws Exception {
        String big = "x".repeat((int) MIB);
        RawBackend backend = closer.add(new RawBackend(head -> head.startsWith("GET /big ")
                ? "HTTP/1.1 200 OK\r\nContent-Length: " + big.length() + "\r\n\r\n" + big
                        + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison"
                : RawBackend.echoPath(head)));
        ProxyFixture proxy = proxyTo(backend.address(), Duration.ofSeconds(60));
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse(false)).endsWith(big);
            client.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse(false)).endsWith("\r\n\r\n/next");
        }
        assertThat(backend.connectionsAccepted()).as("the poisoned connection was closed, a new one opened")
                .isEqualTo(2);
    }

    @Test
    void aServerThatClosesMidBodyBreaksTheResponseOff() throws Exception {
        long declared = 8 * MIB;
        try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept()) {
                    readHead(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + declared + "\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.write(new byte[(int) (2 * MIB)]);
                    out.flush();
                } catch (IOException e) {
                    // the test failed elsewhere
                }
            });
            ProxyFixture proxy = proxyTo(new HostPort("127.0.0.1", server.getLocalPort()), Duration.ofSeconds(60));
            try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
                client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
                InputStream in = client.socket.getInputStream();
                assertThat(readHead(in)).startsWith("HTTP/1.1 200");
                // what was in flight may be lost with the connection, as when the body is copied
                long body = in.transferTo(OutputStream.nullOutputStream());
                assertThat(body).as("body bytes before the client connection closed").isLessThan(declared);
            }
            var s = proxy.pool.pool().servers().getFirst();
            await().atMost(Duration.ofSeconds(3)).until(() -> s.activeRequests() == 0 && s.activeConnections() == 0);
        }
    }

    @Test
    void aClientThatVanishesMidBodyFreesTheServerConnection() throws Exception {
        TestBackend backend = closer.add(TestBackend.start("a"));
        ProxyFixture proxy = proxyTo(backend.address(), Duration.ofSeconds(60));
        downloadingOneMebibyteOf256(proxy).close(); // the client vanishes mid-body
        awaitServerConnectionFreed(proxy, backend, Duration.ofSeconds(3));
    }

    @Test
    void aClientThatStopsReadingIsClosedAfterIdleTimeout() throws Exception {
        TestBackend backend = closer.add(TestBackend.start("a"));
        ProxyFixture proxy = proxyTo(backend.address(), Duration.ofSeconds(1));
        try (RawHttp client = downloadingOneMebibyteOf256(proxy)) {
            // the client reads no more but stays connected: the splice stops, idle-timeout ends both connections
            awaitServerConnectionFreed(proxy, backend, Duration.ofSeconds(6));
        }
    }

    /** A client that asked for 256 MiB and has read the head and the first MiB. */
    private static RawHttp downloadingOneMebibyteOf256(ProxyFixture proxy) throws IOException {
        RawHttp client = new RawHttp(proxy.port, 10_000);
        client.send("GET /bytes?n=" + 256 * MIB + " HTTP/1.1\r\nHost: x\r\n\r\n");
        InputStream in = client.socket.getInputStream();
        readHead(in);
        assertThat(in.readNBytes((int) MIB)).hasSize((int) MIB);
        return client;
    }

    /** The request ended on the server's side and its connection is gone, in Fulcrum and at the server. */
    private static void awaitServerConnectionFreed(ProxyFixture proxy, TestBackend backend, Duration bound) {
        var server = proxy.pool.pool().servers().getFirst();
        await().atMost(bound).until(() -> server.activeRequests() == 0 && server.activeConnections() == 0
                && backend.openConnections() == 0);
    }
}
