package dev.fulcrum.server.http;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * A pooled server connection serves whichever client comes next, so nothing one exchange leaves on
 * it may reach another: a response whose framing leaves bytes unread closes its connection, bytes a
 * server sends while its connection idles close it, and no request can switch a pooled connection
 * into another mode (CONNECT, an h2c upgrade). Each case: one client's exchange, then another
 * client's request, which must get its own answer from the server.
 */
class PooledConnectionPoisoningIT {

    /**
     * Bytes that are no message yet: left in a pooled connection they become the start of the next
     * client's response (a 502 for it, or worse, a response of the attacker's making).
     */
    private static final String POISON = "poison";

    @RegisterExtension
    final RawBackendProxy raw = new RawBackendProxy(p -> {
        p.retries = 0; // a poisoned answer must show as such, not be retried away
        p.workerThreads = 1; // one event loop: every client takes its server connection from one pool
    });

    static Stream<Arguments> responsesThatLeaveBytesBehind() {
        return Stream.of(
                arguments("204 with a body", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 6\r\n\r\n" + POISON,
                        "204"),
                arguments("304 with a body", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n" + POISON, "304"),
                arguments("more body than its Content-Length", "GET",
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + POISON, "200"),
                arguments("a body in answer to HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + POISON, "200"),
                arguments("half a status line later, while idle", "GET",
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + RawBackend.PAUSE + "HTTP/1.1 2", "200"),
                arguments("both Content-Length and Transfer-Encoding", "GET",
                        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                        "502"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responsesThatLeaveBytesBehind")
    void aResponseThatCannotBeFramedExactlyClosesItsConnection(String name, String method, String firstAnswer,
                                                               String firstStatus) throws Exception {
        raw.start(head -> head.contains(" /first ") ? firstAnswer : RawBackend.echoPath(head));
        try (RawHttp first = raw.client()) {
            String response = first.send(method + " /first HTTP/1.1\r\nHost: example\r\n\r\n")
                    .readResponse(method.equals("HEAD") || firstStatus.startsWith("2") && !firstStatus.equals("200")
                            || firstStatus.equals("304"));
            assertThat(response).startsWith("HTTP/1.1 " + firstStatus + " ");
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(raw.backend.answered()).isEqualTo(1);
            assertThat(raw.backend.openConnections()).as("the first server connection was closed").isZero();
        });

        try (RawHttp second = raw.client()) {
            String response = second.send("GET /second HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false);
            assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n/second");
        }
        assertThat(raw.backend.connectionsAccepted()).isEqualTo(2);
    }

    @Test
    void aCleanResponseKeepsItsConnectionForTheNextClient() throws Exception {
        raw.start(RawBackend::echoPath);
        for (String path : new String[] {"/first", "/second"}) {
            try (RawHttp client = raw.client()) {
                assertThat(client.send("GET " + path + " HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false))
                        .endsWith("\r\n\r\n" + path);
            }
        }
        assertThat(raw.backend.connectionsAccepted()).as("one pooled connection served both").isEqualTo(1);
    }

    @Test
    void connectIsRefusedWithoutReachingTheServer() throws Exception {
        raw.start(RawBackend::echoPath);
        try (RawHttp client = raw.client()) {
            client.send("GET /a HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false);
            String refused = client.send("CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n").readUntilClose();
            assertThat(refused).startsWith("HTTP/1.1 405 ").containsIgnoringCase("allow: GET,")
                    .contains("CONNECT is not supported");
        }
        try (RawHttp client = raw.client()) {
            assertThat(client.send("GET /b HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false))
                    .endsWith("\r\n\r\n/b");
        }
        assertThat(raw.backend.heads()).hasSize(2).noneMatch(h -> h.startsWith("CONNECT"));
        assertThat(raw.backend.connectionsAccepted()).isEqualTo(1);
    }

    @Test
    void anH2cUpgradeIsNotPassedOn() throws Exception {
        // a server that would switch to h2c if asked
        raw.start(head -> head.toLowerCase().contains("upgrade: h2c")
                ? "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                : RawBackend.echoPath(head));
        try (RawHttp client = raw.client()) {
            String response = client.send("GET /h2 HTTP/1.1\r\nHost: example\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n").readResponse(false);
            assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("/h2");
        }
        assertThat(raw.backend.heads().getFirst()).doesNotContainIgnoringCase("upgrade")
                .doesNotContainIgnoringCase("http2-settings");
    }

    @Test
    void aSwitchNobodyAskedForIsAnInvalidResponseNotATunnel() throws Exception {
        raw.start(head -> "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
        try (RawHttp client = raw.client()) {
            String response = client.send("GET /x HTTP/1.1\r\nHost: example\r\n\r\n"
                    + "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").readUntilClose();
            assertThat(response).startsWith("HTTP/1.1 502 ").contains("switched protocols without being asked to");
        }
        assertThat(raw.backend.received()).doesNotContain("PRI * HTTP/2.0");
    }
}
