package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.HandshakeLoad;
import dev.fulcrum.server.testing.KeepAliveLoad;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.TestCertificates;
import dev.fulcrum.server.testing.TestCertificates.KeyType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A certificate renewed 100 times under load, through a real {@code fulcrum run}: while keep-alive
 * TLS connections send requests and other clients make new connections (full handshakes, each one
 * request), the test renames a new certificate and key (a new serial each time) over the files the
 * config names and calls {@code POST /api/v1/reload}. No request fails, the keep-alive connections
 * are the ones opened before the first reload and still answer after the last, no handshake that
 * starts after a reload answered gets an older certificate, and a new handshake gets the new serial
 * within 1 s of each reload.
 */
class TlsReloadUnderLoadIT {

    private static final int RELOADS = 100;
    private static final int KEEP_ALIVE_CONNECTIONS = 4;
    private static final Duration BOUND = Duration.ofSeconds(30);
    /** The loads stop by themselves after this, whatever happens to the test. */
    private static final Duration LOAD_TIME = Duration.ofSeconds(50);

    @TempDir
    Path tmp;

    @Test
    void hundredReloadsUnderLoadLoseNoRequestKeepConnectionsAndServeEachNewSerialAtOnce() throws Exception {
        Path cert = tmp.resolve("live.pem");
        Path key = tmp.resolve("live.key");
        TestCertificates.create(cert, key, KeyType.ECDSA, "web.test", List.of("web.test"), "ff");
        List<TestCertificates.Files> renewals = renewals();
        int admin = Loopback.freePort();
        int port = Loopback.freePort();
        try (TestBackend backend = TestBackend.start("a")) {
            Path file = TlsReloadConfig.write(tmp, admin, port, cert, key, backend.address());
            try (FulcrumProcess fulcrum = FulcrumProcess.start("tls-reload-load", List.of("-Xmx256m"), "run", "-c",
                    file.toString());
                 HttpClient http = HttpClient.newHttpClient()) {
                fulcrum.awaitPort(port, BOUND);
                KeepAliveLoad keepAlive = KeepAliveLoad.start(TestCertificates.trustingClient(null).getSocketFactory(),
                        port, KEEP_ALIVE_CONNECTIONS, Duration.ofMillis(2), 1_000_000, LOAD_TIME);
                HandshakeLoad handshakes = HandshakeLoad.start(port, 2, Duration.ofMillis(5), 100_000, LOAD_TIME);
                List<Long> reloaded = new ArrayList<>();   // nanoTime each reload was answered
                List<Long> seenAfter = new ArrayList<>();  // how long until a new handshake got its serial
                long firstReload = System.nanoTime();
                try {
                    for (int i = 0; i < RELOADS; i++) {
                        install(renewals.get(i), cert, key);
                        HttpResponse<String> reload = http.send(HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + admin + "/api/v1/reload"))
                                .POST(HttpRequest.BodyPublishers.noBody()).timeout(BOUND).build(),
                                HttpResponse.BodyHandlers.ofString());
                        long at = System.nanoTime();
                        assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
                        reloaded.add(at);
                        BigInteger serial = serial(i);
                        await("a new handshake gets serial " + serial.toString(16)).atMost(Duration.ofSeconds(1))
                                .pollInterval(Duration.ofMillis(10)).until(() -> newHandshakeSerial(port).equals(serial));
                        seenAfter.add(System.nanoTime() - at);
                    }
                } finally {
                    keepAlive.close();
                    handshakes.close();
                }
                long lastReload = reloaded.getLast();

                assertThat(keepAlive.failures()).as("keep-alive requests that failed").isEmpty();
                assertThat(handshakes.failures()).as("new connections that failed").isEmpty();
                assertThat(keepAlive.exchanges()).allSatisfy(e -> assertThat(e.status()).isEqualTo(200));
                assertThat(keepAlive.connects()).as("keep-alive connections opened: none was lost")
                        .isEqualTo(KEEP_ALIVE_CONNECTIONS);
                Set<Integer> beforeFirst = connections(keepAlive, e -> firstReload - e.answeredNanos() > 0);
                Set<Integer> afterLast = connections(keepAlive, e -> e.sentNanos() - lastReload > 0);
                assertThat(beforeFirst).as("answered before the first reload").hasSize(KEEP_ALIVE_CONNECTIONS);
                assertThat(afterLast).as("the same connections answer after the last").isEqualTo(beforeFirst);

                // a handshake that starts after reload i was answered gets serial i or a later one
                List<HandshakeLoad.Handshake> done = handshakes.handshakes();
                for (HandshakeLoad.Handshake h : done) {
                    int last = lastReloadBefore(reloaded, h.startedNanos());
                    if (last >= 0) {
                        assertThat(h.serial()).as("a handshake started after reload %d", last)
                                .isGreaterThanOrEqualTo(serial(last));
                    }
                }
                assertThat(done.stream().filter(h -> h.startedNanos() - firstReload > 0).count())
                        .as("new connections during the reloads").isGreaterThan(RELOADS);
                long slowestMs = seenAfter.stream().mapToLong(Long::longValue).max().orElseThrow() / 1_000_000;
                System.out.printf("%d reloads in %d ms: %d keep-alive requests on %d connections, %d new"
                                + " connections, 0 failed; a new handshake had the new serial at most %d ms after"
                                + " the reload answered%n", RELOADS, (lastReload - firstReload) / 1_000_000,
                        keepAlive.exchanges().size(), keepAlive.connects(), done.size(), slowestMs);
            }
        }
    }

    /** Certificates with serials 0x100, 0x101, ...; made before the load starts, so the loop only renames. */
    private List<TestCertificates.Files> renewals() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("renewals"));
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            List<Future<TestCertificates.Files>> made = new ArrayList<>();
            for (int i = 0; i < RELOADS; i++) {
                int n = i;
                made.add(pool.submit(() -> TestCertificates.create(dir.resolve(n + ".pem"), dir.resolve(n + ".key"),
                        KeyType.ECDSA, "web.test", List.of("web.test"), serial(n).toString(16))));
            }
            List<TestCertificates.Files> out = new ArrayList<>();
            for (Future<TestCertificates.Files> f : made) {
                out.add(f.get());
            }
            return out;
        }
    }

    private static BigInteger serial(int reload) {
        return BigInteger.valueOf(0x100 + reload);
    }

    /** As a renewal tool would: each file written beside its target and renamed over it. */
    private static void install(TestCertificates.Files renewal, Path cert, Path key) throws Exception {
        Path keyCopy = Files.copy(renewal.key(), key.resolveSibling("live.key.new"), StandardCopyOption.REPLACE_EXISTING);
        Path certCopy = Files.copy(renewal.cert(), cert.resolveSibling("live.pem.new"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(keyCopy, key, StandardCopyOption.ATOMIC_MOVE);
        Files.move(certCopy, cert, StandardCopyOption.ATOMIC_MOVE);
    }

    private static BigInteger newHandshakeSerial(int port) throws Exception {
        // a client context of its own: a resumed session would report the certificate of its first handshake
        try (SSLSocket socket = (SSLSocket) TestCertificates.trustingClient(null).getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(2000);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    /** The keep-alive connections with an answered request that {@code which} selects. */
    private static Set<Integer> connections(KeepAliveLoad load, java.util.function.Predicate<KeepAliveLoad.Exchange> which) {
        return load.exchanges().stream().filter(which).map(KeepAliveLoad.Exchange::connection)
                .collect(Collectors.toSet());
    }

    /** The index of the last reload answered before {@code nanos}, or -1. */
    private static int lastReloadBefore(List<Long> reloaded, long nanos) {
        int last = -1;
        for (int i = 0; i < reloaded.size() && nanos - reloaded.get(i) > 0; i++) {
            last = i;
        }
        return last;
    }
}
