package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.testing.Loopback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a server receives is a valid HTTP/1.1 request that says one thing: an absolute-form target
 * becomes origin-form with its authority as Host (RFC 9112 3.2.2), an HTTP/1.0 request without Host
 * gets one, trailers lose the fields that must not be trailers (RFC 9110 6.5.1), and a request that
 * comes back to the instance that sent it (a pool listing its own listener) ends with 508 instead of
 * going round. A {@link RawBackend} shows the exact bytes.
 */
class RequestNormalisationIT {

    @RegisterExtension
    final RawBackendProxy raw = new RawBackendProxy();

    @Test
    void absoluteFormBecomesOriginFormAndItsAuthorityWinsOverHost() throws Exception {
        raw.start(RawBackend::echoPath);
        try (RawHttp client = raw.client()) {
            String response = client.send("GET http://Other.Example:8080/p?q=1 HTTP/1.1\r\nHost: example\r\n\r\n")
                    .readResponse(false);
            assertThat(response).endsWith("\r\n\r\n/p?q=1");
        }
        String head = raw.backend.heads().getFirst();
        assertThat(head).startsWith("GET /p?q=1 HTTP/1.1\r\n").containsIgnoringCase("host: Other.Example:8080\r\n")
                .containsIgnoringCase("x-forwarded-host: Other.Example:8080\r\n").doesNotContain("Host: example\r\n");
    }

    @Test
    void http10WithoutHostReachesTheServerAsValidHttp11() throws Exception {
        raw.start(RawBackend::echoPath);
        try (RawHttp client = raw.client()) {
            String response = client.send("GET /old HTTP/1.0\r\n\r\n").readUntilClose();
            assertThat(response).startsWith("HTTP/1.0 200 ").endsWith("\r\n\r\n/old");
        }
        String head = raw.backend.heads().getFirst();
        assertThat(head).startsWith("GET /old HTTP/1.1\r\n")
                .containsIgnoringCase("host: " + raw.backend.address() + "\r\n");
    }

    @Test
    void trailersThatMustNotBeTrailersAreDroppedBothWays() throws Exception {
        raw.start(head -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
                + "Set-Cookie: session=evil\r\nLocation: http://evil.example/\r\nX-Checksum: r1\r\n\r\n");
        try (RawHttp client = raw.client()) {
            client.send("POST /up HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
                    + "Host: evil.example\r\nAuthorization: Basic eDp5\r\nX-Forwarded-For: 6.6.6.6\r\n"
                    + "Content-Type: text/evil\r\nX-Checksum: c1\r\n\r\n");
            String response = client.readResponse(false);
            assertThat(response).endsWith("\r\n0\r\nX-Checksum: r1\r\n\r\n").doesNotContainIgnoringCase("set-cookie")
                    .doesNotContainIgnoringCase("location");
        }
        String sent = raw.backend.received(0);
        String trailers = sent.substring(sent.indexOf("\r\n0\r\n") + 5);
        assertThat(trailers).contains("X-Checksum: c1\r\n").doesNotContainIgnoringCase("evil")
                .doesNotContainIgnoringCase("authorization").doesNotContain("6.6.6.6");
    }

    @Test
    void aRequestThatComesBackToThisInstanceIsALoop() throws Exception {
        try (ProxyFixture self = new ProxyFixture()) {
            self.port = Loopback.freePort();
            self.servers.add(new HostPort("127.0.0.1", self.port)); // the pool's only server is the listener itself
            self.start();
            try (RawHttp client = new RawHttp(self.port, 10_000)) {
                String response = client.send("GET /round HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false);
                assertThat(response).startsWith("HTTP/1.1 508 ").contains("request loop")
                        .containsIgnoringCase("server: fulcrum");
            }
            // one round only: the second pass answered 508 itself, the first passed that answer on
            String selfId = "127.0.0.1:" + self.port;
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() -> {
                var responses = self.listener.stats().responsesByServer();
                assertThat(responses.keySet()).containsExactlyInAnyOrder(ProxyStats.NO_SERVER, selfId);
                assertThat(responses.get(ProxyStats.NO_SERVER)).containsExactly(0, 0, 0, 0, 1);
                assertThat(responses.get(selfId)).containsExactly(0, 0, 0, 0, 1);
            });
        }
    }
}
