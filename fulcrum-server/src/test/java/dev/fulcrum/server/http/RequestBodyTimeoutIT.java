package dev.fulcrum.server.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code request-body-timeout} and {@code request-body-min-rate}: a client that stops sending its
 * body, or trickles it slower than the minimum rate, gets 408 and its server connection is closed
 * (it held half a request), instead of pinning that connection for as long as it likes. A client
 * sending at a normal pace is not disturbed.
 */
class RequestBodyTimeoutIT {

    private TestBackend backend;
    private ProxyFixture proxy;

    @BeforeEach
    void start() throws Exception {
        backend = TestBackend.start("app");
        proxy = new ProxyFixture().servers(backend);
        proxy.requestBodyTimeout = Duration.ofSeconds(1);
        proxy.requestBodyMinRate = 100;
        proxy.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void aBodyThatStopsComingGets408AndFreesTheServerConnection() throws Exception {
        long start = System.nanoTime();
        String answer;
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            client.send("POST /sha256 HTTP/1.1\r\nHost: example\r\nContent-Length: 1000\r\n\r\n" + "a".repeat(100));
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 1);
            answer = client.readUntilClose();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(answer).startsWith("HTTP/1.1 408 ").contains("request body too slow")
                .containsIgnoringCase("server: fulcrum");
        assertThat(seconds).as("seconds until the 408").isBetween(0.9, 4.0);
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 0);
    }

    @Test
    void aBodyTrickledBelowTheMinimumRateGets408() throws Exception {
        // one byte every 300 ms: never silent for the whole timeout, but far below 100 bytes/s
        long start = System.nanoTime();
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            OutputStream out = client.socket.getOutputStream();
            out.write("POST /sha256 HTTP/1.1\r\nHost: example\r\nContent-Length: 100\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            boolean refused = false;
            for (int i = 0; i < 40 && !refused; i++) { // at most 12 s of trickling
                try {
                    out.write('a');
                    out.flush();
                    refused = client.socket.getInputStream().available() > 0;
                } catch (java.io.IOException closed) {
                    refused = true;
                }
                Thread.sleep(300); // the client's pace, not a wait for the proxy
            }
            String answer = client.readUntilClose();
            assertThat(answer).startsWith("HTTP/1.1 408 ").contains("request-body-min-rate 100 bytes/s");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(seconds).as("seconds until the 408").isLessThan(6.0);
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.openConnections() == 0);
    }

    @Test
    void waitingForAServersSlow100ContinueIsNotTheClientsDelay() throws Exception {
        try (RawBackendProxy slow = new RawBackendProxy(p -> {
            p.requestBodyTimeout = Duration.ofSeconds(1);
            p.requestBodyMinRate = 100;
        }).start(RawBackend::echoPath)) {
            slow.backend.continueDelayMillis = 1500; // longer than the client's body allowance
            try (RawHttp client = slow.client()) {
                client.send("POST /up HTTP/1.1\r\nHost: example\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
                assertThat(client.readResponse(true)).startsWith("HTTP/1.1 100 ");
                String answer = client.send("hello").readResponse(false);
                assertThat(answer).startsWith("HTTP/1.1 200 ").endsWith("/up");
            }
        }
    }

    @Test
    void aBodySentAtANormalPaceIsServed() throws Exception {
        byte[] body = "b".repeat(3000).getBytes(StandardCharsets.ISO_8859_1);
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            OutputStream out = client.socket.getOutputStream();
            out.write(("POST /sha256 HTTP/1.1\r\nHost: example\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            for (int i = 0; i < body.length; i += 500) { // 500 bytes every 200 ms: 2.5 kB/s for 1.2 s
                out.write(body, i, 500);
                out.flush();
                Thread.sleep(200);
            }
            String answer = client.readResponse(false);
            assertThat(answer).startsWith("HTTP/1.1 200 ").contains("3000");
        }
    }
}
