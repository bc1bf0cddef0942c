package dev.fulcrum.server.http;

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
import dev.fulcrum.server.config.AccessLogConfig;
import dev.fulcrum.server.http.ProxyExchange.Phase;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.testing.AppendedLines;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

/**
 * One proxied request at a time through the real client pipeline ({@link HttpProxyInitializer}) and
 * the real server pipeline ({@link BackendConnectionPool#initServerPipeline}), each on an
 * {@link EmbeddedChannel}: the test plays both the client and the servers with raw bytes, in
 * simulated time, and checks what each side receives. Bytes, not Netty objects, so that the tests
 * hold when the codecs change.
 */
class ProxyExchangeTest {

    private Registry registry;
    private HttpListener listener;
    private EmbeddedServers servers;
    private EmbeddedChannel client;
    /** Off unless a test turns it on ({@link #logTo}). */
    private AccessLog accessLog = AccessLog.OFF;
    /** The pool's {@code max-requests-per-connection}; 0 = unlimited. */
    private int maxRequestsPerConnection;

    @TempDir
    Path tmp;

    @AfterEach
    void closeAccessLog() {
        accessLog.close(Duration.ofSeconds(10));
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
        if (servers != null) {
            servers.opened.forEach(EmbeddedChannel::finishAndReleaseAll);
        }
        if (registry != null) {
            registry.close();
        }
    }

    // ---- keep-alive, HEAD, pipelining -----------------------------------------------------------

    @Test
    void keepAliveRequestsShareOneServerConnection() {
        EmbeddedChannel s = forward(1, "GET /a HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(received(s)).startsWith("GET /a HTTP/1.1\r\n").endsWith("\r\n\r\n");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        String response = response();
        assertThat(response).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nhello")
                .doesNotContainIgnoringCase("connection: close");
        assertThat(client.isOpen()).isTrue();
        assertThat(servers.idle).containsExactly(s);

        send("GET /b HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(servers.opened).hasSize(1);
        assertThat(received(s)).startsWith("GET /b HTTP/1.1\r\n");
        answer(s, "HTTP/1.1 204 No Content\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 204 No Content\r\n");
        Server server = server(0);
        assertThat(server.requests()).isEqualTo(2);
        assertThat(server.activeRequests()).isZero();
    }

    @Test
    void aServerConnectionIsClosedAfterMaxRequestsPerConnection() {
        maxRequestsPerConnection = 2;
        EmbeddedChannel s = forward(1, "GET /1 HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(received(s)).doesNotContainIgnoringCase("connection:");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1");
        assertThat(response()).endsWith("\r\n\r\n1");
        assertThat(servers.idle).containsExactly(s);

        send("GET /2 HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(received(s)).as("the connection's last request says so").startsWith("GET /2 ")
                .containsIgnoringCase("\r\nconnection: close\r\n");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n2");
        assertThat(response()).endsWith("\r\n\r\n2").doesNotContainIgnoringCase("connection: close");
        assertThat(s.isOpen()).as("closed after its second request").isFalse();
        assertThat(servers.idle).isEmpty();
        assertThat(client.isOpen()).as("the client's connection stays").isTrue();

        send("GET /3 HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(servers.opened).hasSize(2);
        EmbeddedChannel next = servers.opened.get(1);
        assertThat(received(next)).startsWith("GET /3 ").doesNotContainIgnoringCase("connection:");
        answer(next, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3");
        assertThat(response()).endsWith("\r\n\r\n3");
        assertThat(servers.idle).containsExactly(next);
    }

    @Test
    void headResponseCarriesTheLengthButNoBodyAndTheConnectionIsReused() {
        EmbeddedChannel s = forward(1, "HEAD /file HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(received(s)).startsWith("HEAD /file HTTP/1.1\r\n");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 1234\r\n")
                .endsWith("\r\n\r\n");

        send("GET /next HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(servers.opened).hasSize(1);
        assertThat(received(s)).startsWith("GET /next HTTP/1.1\r\n");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(response()).endsWith("\r\n\r\nok");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOverOneServerConnection() {
        EmbeddedChannel s = forward(1,
                "GET /first HTTP/1.1\r\nHost: app\r\n\r\nGET /second HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(received(s)).startsWith("GET /first HTTP/1.1\r\n").doesNotContain("/second");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        assertThat(received(s)).startsWith("GET /second HTTP/1.1\r\n");
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        String both = response();
        assertThat(both.indexOf("first")).isPositive().isLessThan(both.indexOf("second"));
        assertThat(both).endsWith("\r\n\r\nsecond");
        assertThat(servers.opened).hasSize(1);
        assertThat(servers.idle).containsExactly(s);
    }

    // ---- retries ------------------------------------------------------------------------------

    @Test
    void getResetBeforeAnyResponseByteGoesToTheOtherServer() {
        EmbeddedChannel first = forward(2, "GET /retry HTTP/1.1\r\nHost: app\r\n\r\n");
        String request = received(first);
        reset(first);

        assertThat(servers.opened).hasSize(2);
        EmbeddedChannel second = servers.opened.get(1);
        assertThat(servers.serverOf.get(second)).isNotSameAs(servers.serverOf.get(first));
        assertThat(received(second)).isEqualTo(request);
        answer(second, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("ok");
        assertThat(listener.stats().retries("app")).isEqualTo(1);
        assertThat(activeRequests()).isZero();
        assertThat(servers.serverOf.get(first).failures()).isEqualTo(1);
    }

    @Test
    void postWithABodyIsNotRetriedAfterAReset() {
        EmbeddedChannel first = forward(2, "POST /order HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(received(first)).startsWith("POST /order HTTP/1.1\r\n").endsWith("\r\n\r\nhello");
        reset(first);

        assertThat(servers.opened).hasSize(1);
        assertThat(response()).startsWith("HTTP/1.1 502 ").contains("reset the connection");
        assertThat(client.isOpen()).isFalse();
        assertThat(activeRequests()).isZero();
    }

    @Test
    void aPostTheServerSaysItDidNotProcessIsRetriedWithoutBlame() {
        // HTTP/2: REFUSED_STREAM, or a stream above a GOAWAY's last stream id (the bridge tells the handler)
        EmbeddedChannel first = forward(2, "POST /order HTTP/1.1\r\nHost: app\r\nContent-Length: 0\r\n\r\n");
        String request = received(first);
        first.pipeline().get(BackendHandler.class).serverEnded("reset the stream (REFUSED_STREAM)", true);
        first.close();

        assertThat(servers.opened).hasSize(2);
        EmbeddedChannel second = servers.opened.get(1);
        assertThat(received(second)).isEqualTo(request);
        answer(second, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("ok");
        assertThat(listener.stats().retries("app")).isEqualTo(1);
        assertThat(server(0).failures() + server(1).failures()).as("not the server's fault").isZero();
        assertThat(activeRequests()).isZero();
    }

    @Test
    void refusalsDoNotUseThePoolsRetriesButEndAfterAFewTries() {
        // the pool allows 2 retries; refusals (a rolling restart's GOAWAYs) take none of them.
        // 6 servers: a retry after a real failure goes to a server not tried yet
        EmbeddedChannel server = forward(6, "GET /a HTTP/1.1\r\nHost: app\r\n\r\n");
        for (int i = 0; i < ProxyExchange.MAX_REFUSED_TRIES; i++) {
            received(server);
            server.pipeline().get(BackendHandler.class).serverEnded("reset the stream (REFUSED_STREAM)", true);
            server.close();
            server = servers.opened.getLast();
        }
        assertThat(servers.opened).hasSize(ProxyExchange.MAX_REFUSED_TRIES + 1);
        reset(server); // a real failure still has the pool's retries
        assertThat(servers.opened).hasSize(ProxyExchange.MAX_REFUSED_TRIES + 2);
        answer(servers.opened.getLast(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("ok");
        assertThat(activeRequests()).isZero();
    }

    @Test
    void aServerThatRefusesEveryTryEndsIn502() {
        EmbeddedChannel server = forward(2, "GET /a HTTP/1.1\r\nHost: app\r\n\r\n");
        for (int i = 0; i <= ProxyExchange.MAX_REFUSED_TRIES; i++) {
            received(server);
            server.pipeline().get(BackendHandler.class).serverEnded("reset the stream (REFUSED_STREAM)", true);
            server.close();
            server = servers.opened.getLast();
        }
        assertThat(servers.opened).hasSize(ProxyExchange.MAX_REFUSED_TRIES + 1);
        assertThat(response()).startsWith("HTTP/1.1 502 ").contains("REFUSED_STREAM");
        assertThat(activeRequests()).isZero();
    }

    @Test
    void aRefusedPostWhoseBodyWentOutIsA502() {
        EmbeddedChannel first = forward(2, "POST /order HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(received(first)).endsWith("\r\n\r\nhello");
        first.pipeline().get(BackendHandler.class).serverEnded("reset the stream (REFUSED_STREAM)", true);
        first.close();

        assertThat(servers.opened).hasSize(1);
        assertThat(response()).startsWith("HTTP/1.1 502 ").contains("reset the stream (REFUSED_STREAM)");
        assertThat(activeRequests()).isZero();
    }

    @Test
    void refusedConnectIsRetriedEvenForAPost() {
        EmbeddedChannel second = refusing(1, "POST /order HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(received(second)).startsWith("POST /order HTTP/1.1\r\n").endsWith("\r\n\r\nhello");
        answer(second, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n");
        assertThat(listener.stats().retries("app")).isEqualTo(1);
        assertThat(server(0).failures() + server(1).failures()).isEqualTo(1);
        assertThat(activeRequests()).isZero();
    }

    @Test
    void everyServerRefusingIsA502NamingTheLastFailure() {
        assertThat(refusing(2, "GET / HTTP/1.1\r\nHost: app\r\n\r\n")).isNull();
        assertThat(response()).startsWith("HTTP/1.1 502 ").contains("refused the connection");
        assertThat(server(0).requests() + server(1).requests()).isEqualTo(2);
        assertThat(activeRequests()).isZero();
    }

    @Test
    void responseTimeoutRetriesAnIdempotentRequestOnTheOtherServer() {
        EmbeddedChannel first = forward(2, "GET /slow HTTP/1.1\r\nHost: app\r\n\r\n");
        assertThat(received(first)).startsWith("GET /slow ");
        passTime(4);
        assertThat(servers.opened).hasSize(1); // not yet: the timeout is 5 s
        passTime(2);

        assertThat(first.isOpen()).isFalse();
        assertThat(servers.opened).hasSize(2);
        EmbeddedChannel second = servers.opened.get(1);
        assertThat(received(second)).startsWith("GET /slow ");
        answer(second, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast");
        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("fast");
    }

    @Test
    void responseTimeoutOfAPostWithABodyIsA504() {
        EmbeddedChannel first = forward(2, "POST /pay HTTP/1.1\r\nHost: app\r\nContent-Length: 3\r\n\r\nabc");
        assertThat(received(first)).endsWith("abc");
        passTime(6);

        assertThat(servers.opened).hasSize(1);
        assertThat(first.isOpen()).isFalse();
        assertThat(response()).startsWith("HTTP/1.1 504 ").contains("did not answer within 5s");
        assertThat(activeRequests()).isZero();
    }

    // ---- 100-continue, interim responses, upgrade ------------------------------------------------

    @Test
    void expectContinueBodyFollowsTheServers100() {
        EmbeddedChannel s = forward(1,
                "PUT /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        assertThat(received(s)).startsWith("PUT /upload HTTP/1.1\r\n").endsWith("\r\n\r\n");
        assertThat(response()).isEmpty(); // the client waits for the 100 before it sends the body

        answer(s, "HTTP/1.1 100 Continue\r\n\r\n");
        assertThat(response()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        send("hello");
        assertThat(received(s)).isEqualTo("hello");
        answer(s, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 201 Created\r\n");
        assertThat(servers.idle).containsExactly(s);
    }

    @Test
    void aServerThatSendsInterimResponsesWithoutEndIsCutOff() {
        EmbeddedChannel s = forward(1, "GET /page HTTP/1.1\r\nHost: app\r\n\r\n");
        received(s);
        answer(s, "HTTP/1.1 103 Early Hints\r\n\r\n".repeat(ProxyExchange.MAX_INTERIM_RESPONSES));
        assertThat(response().split("HTTP/1.1 103 Early Hints", -1)).hasSize(ProxyExchange.MAX_INTERIM_RESPONSES + 1);
        answer(s, "HTTP/1.1 103 Early Hints\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 502 Bad Gateway\r\n")
                .contains("sent more than " + ProxyExchange.MAX_INTERIM_RESPONSES + " interim (1xx) responses");
        assertThat(s.isOpen()).isFalse();
        assertThat(servers.idle).isEmpty();
    }

    @Test
    void earlyHintsReachTheClientBeforeTheResponse() {
        EmbeddedChannel s = forward(1, "GET /page HTTP/1.1\r\nHost: app\r\n\r\n");
        received(s);
        answer(s, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        String response = response();
        assertThat(response).startsWith("HTTP/1.1 103 Early Hints\r\n").contains("</style.css>")
                .contains("\r\n\r\nHTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        assertThat(servers.idle).containsExactly(s);
    }

    @Test
    void webSocketUpgradeBecomesATunnelBothWays() {
        EmbeddedChannel s = forward(1,
                "GET /chat HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertThat(received(s)).startsWith("GET /chat HTTP/1.1\r\n").containsIgnoringCase("upgrade: websocket");
        answer(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 101 Switching Protocols\r\n").endsWith("\r\n\r\n");

        send("\u0081\u0005hello");
        assertThat(received(s)).isEqualTo("\u0081\u0005hello");
        answer(s, "\u0081\u0002hi");
        assertThat(response()).isEqualTo("\u0081\u0002hi");
        assertThat(server(0).activeRequests()).isOne(); // the tunnel is one long request

        client.close();
        client.runPendingTasks();
        s.runPendingTasks();
        assertThat(s.isOpen()).isFalse();
        assertThat(server(0).activeRequests()).isZero();
    }

    // ---- aborts -------------------------------------------------------------------------------

    @Test
    void clientAbortMidBodyClosesTheServerConnection() {
        EmbeddedChannel s = forward(1, "POST /big HTTP/1.1\r\nHost: app\r\nContent-Length: 100\r\n\r\nsome");
        assertThat(received(s)).endsWith("\r\n\r\nsome");
        assertThat(server(0).activeRequests()).isOne();

        client.close();
        s.runPendingTasks();
        assertThat(s.isOpen()).isFalse();
        assertThat(servers.idle).isEmpty();
        assertThat(server(0).activeRequests()).isZero();
        assertThat(server(0).activeConnections()).isZero();
    }

    @Test
    void serverAbortMidBodyTruncatesTheResponseWithoutRetry() {
        EmbeddedChannel s = forward(2, "GET /big HTTP/1.1\r\nHost: app\r\n\r\n");
        received(s);
        answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
        s.close();
        client.runPendingTasks();

        assertThat(response()).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 100")
                .endsWith("partial");
        assertThat(client.isOpen()).isFalse(); // the client sees fewer bytes than announced, then the close
        assertThat(servers.opened).hasSize(1);
        assertThat(listener.stats().retries("app")).isZero();
        assertThat(activeRequests()).isZero();
    }

    // ---- X-Request-Id and the access log ------------------------------------------------------------

    @Test
    void theServerGetsTheClientsRequestIdOrANewOne() {
        EmbeddedChannel s = forward(1, "GET /a HTTP/1.1\r\nHost: app\r\nX-Request-Id: client-7\r\n\r\n");
        assertThat(received(s)).containsOnlyOnce("X-Request-Id").contains("\r\nX-Request-Id: client-7\r\n");
        answer(s, "HTTP/1.1 204 No Content\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 204 ");

        send("GET /b HTTP/1.1\r\nHost: app\r\nX-Request-Id: has space\r\n\r\n");
        assertThat(received(s)).containsOnlyOnce("X-Request-Id").containsPattern("\r\nX-Request-Id: [0-9a-f]{32}\r\n");
    }

    @Test
    void fulcrumsOwnAnswersCarryTheRequestId() {
        assertThat(refusing(2, "GET / HTTP/1.1\r\nHost: app\r\nX-Request-Id: client-7\r\n\r\n")).isNull();
        assertThat(response()).startsWith("HTTP/1.1 502 ").contains("\r\nx-request-id: client-7\r\n");

        close();
        start(1);
        send("GET / HTTP/1.1\r\nHost: app\r\nBad Header: x\r\n\r\n");
        assertThat(response()).startsWith("HTTP/1.1 400 ").containsPattern("\r\nx-request-id: [0-9a-f]{32}\r\n");
    }

    /** The access log on, to a file: its lines as JSON, once there are {@code n}. */
    private List<JsonNode> logTo(int n) {
        Path file = tmp.resolve("access.log");
        if (accessLog == AccessLog.OFF) {
            accessLog = AccessLog.start(new AccessLogConfig(file, AccessLogConfig.Format.JSON));
        }
        if (n == 0) {
            return List.of();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> AppendedLines.of(file).size() >= n);
        ObjectMapper json = new ObjectMapper();
        return assertDoesNotThrow(() -> {
            List<JsonNode> out = new ArrayList<>();
            for (String line : AppendedLines.of(file)) {
                out.add(json.readTree(line));
            }
            return out;
        });
    }

    @Test
    void aProxiedRequestIsOneLineWithItsServerStatusAndBytes() {
        logTo(0);
        String request = "POST /up?x=1 HTTP/1.1\r\nHost: app\r\nUser-Agent: t/1\r\nX-Request-Id: r-1\r\n"
                + "Content-Length: 5\r\n\r\nhello";
        EmbeddedChannel s = forward(1, request);
        received(s);
        answer(s, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
        String response = response();

        JsonNode line = logTo(1).getFirst();
        assertThat(line.get("client").asText()).isEqualTo("unknown"); // an EmbeddedChannel's address is no IP
        assertThat(line.get("listener").asText()).isEqualTo("web");
        assertThat(line.get("route").asText()).isEqualTo("web#1");
        assertThat(line.get("pool").asText()).isEqualTo("app");
        assertThat(line.get("server").asText()).isEqualTo("10.0.0.1:8080");
        assertThat(line.get("method").asText()).isEqualTo("POST");
        assertThat(line.get("path").asText()).isEqualTo("/up?x=1");
        assertThat(line.get("protocol").asText()).isEqualTo("HTTP/1.1");
        assertThat(line.get("status").asInt()).isEqualTo(201);
        assertThat(line.get("bytes_in").asLong()).isEqualTo(request.length());
        assertThat(line.get("bytes_out").asLong()).isEqualTo(response.length());
        assertThat(line.get("request_id").asText()).isEqualTo("r-1");
        assertThat(line.get("user_agent").asText()).isEqualTo("t/1");
        assertThat(line.get("referer").isNull()).isTrue();
    }

    @Test
    void fulcrumsAnswersAndClientsThatLeaveAreOneLineEach() {
        logTo(0);
        assertThat(refusing(2, "GET /gone HTTP/1.1\r\nHost: app\r\n\r\n")).isNull();
        String bad = response();
        JsonNode refused = logTo(1).getFirst();
        assertThat(refused.get("status").asInt()).isEqualTo(502);
        assertThat(refused.get("server").asText()).as("the last server tried").matches("10\\.0\\.0\\.[12]:8080");
        assertThat(refused.get("bytes_out").asLong()).isEqualTo(bad.length());
        assertThat(bad).contains("\r\nx-request-id: " + refused.get("request_id").asText() + "\r\n");

        close();
        start(1);
        send("GET /slow HTTP/1.1\r\nHost: app\r\n\r\n");
        client.close(); // before any response byte
        JsonNode left = logTo(2).get(1);
        assertThat(left.get("status").asInt()).isEqualTo(ProxyExchange.CLIENT_CLOSED);
        assertThat(left.get("path").asText()).isEqualTo("/slow");

        close();
        start(1);
        send("GET / HTTP/1.1\r\nHost: app\r\nBad Header: x\r\n\r\n");
        JsonNode unread = logTo(3).get(2);
        assertThat(unread.get("status").asInt()).isEqualTo(400);
        assertThat(unread.get("method").isNull()).isTrue();
        assertThat(unread.get("server").isNull()).isTrue();
        assertThat(unread.get("request_id").asText()).matches("[0-9a-f]{32}");
    }

    // ---- the transition table -------------------------------------------------------------------

    /** Every transition the class comment lists, and no other. */
    private static final List<String> LEGAL = List.of(
            "NEW->CONNECTING", "NEW->FAILED",
            "CONNECTING->SENDING_HEAD", "CONNECTING->RETRYING", "CONNECTING->FAILED",
            "SENDING_HEAD->BODY_STREAMING", "SENDING_HEAD->AWAITING_RESPONSE", "SENDING_HEAD->RESPONSE_STREAMING",
            "SENDING_HEAD->TUNNEL", "SENDING_HEAD->RETRYING", "SENDING_HEAD->FAILED",
            "BODY_STREAMING->AWAITING_RESPONSE", "BODY_STREAMING->RESPONSE_STREAMING", "BODY_STREAMING->TUNNEL",
            "BODY_STREAMING->RETRYING", "BODY_STREAMING->FAILED",
            "AWAITING_RESPONSE->RESPONSE_STREAMING", "AWAITING_RESPONSE->TUNNEL", "AWAITING_RESPONSE->RETRYING",
            "AWAITING_RESPONSE->FAILED",
            "RESPONSE_STREAMING->DONE", "RESPONSE_STREAMING->FAILED",
            "RETRYING->CONNECTING", "RETRYING->FAILED");

    static Stream<Arguments> illegalTransitions() {
        return pairs().filter(p -> !LEGAL.contains(p[0] + "->" + p[1])).map(p -> Arguments.of(p[0], p[1]));
    }

    static Stream<Arguments> legalTransitions() {
        return pairs().filter(p -> LEGAL.contains(p[0] + "->" + p[1])).map(p -> Arguments.of(p[0], p[1]));
    }

    private static Stream<Phase[]> pairs() {
        return Stream.of(Phase.values()).flatMap(a -> Stream.of(Phase.values()).map(b -> new Phase[] {a, b}));
    }

    @ParameterizedTest(name = "{0} -> {1} is refused")
    @MethodSource("illegalTransitions")
    void illegalTransitionIsRefused(Phase from, Phase to) {
        assertThatThrownBy(() -> from.checkTransition(to)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("illegal transition").hasMessageContaining(from + " -> " + to);
    }

    @ParameterizedTest(name = "{0} -> {1} is allowed")
    @MethodSource("legalTransitions")
    void legalTransitionIsAllowed(Phase from, Phase to) {
        from.checkTransition(to);
        assertThat(from.isFinal()).isFalse();
    }

    @Test
    void theTableHasTheDocumentedTransitions() {
        assertThat(legalTransitions().count()).isEqualTo(LEGAL.size());
        int pairs = Phase.values().length * Phase.values().length;
        assertThat(illegalTransitions().count()).isEqualTo(pairs - LEGAL.size());
    }

    // ---- the harness ---------------------------------------------------------------------------

    /** A listener over a pool of {@code n} servers (health checks off), and one client connection to it. */
    private void start(int n) {
        List<ServerEntry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            entries.add(new ServerEntry(new HostPort("10.0.0." + (i + 1), 8080), 1));
        }
        PoolConfig poolConfig = new PoolConfig("app", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, "", entries,
                Duration.ofSeconds(2), Duration.ofSeconds(5), 2, Duration.ZERO, Duration.ofSeconds(30), 0,
                new HealthCheck(CheckType.NONE, "/health", "", 200, 399, Duration.ofSeconds(2),
                        Duration.ofSeconds(1), 2, 3, 0.1),
                OutlierDetection.DEFAULT, FulcrumConfig.UpstreamProtocol.HTTP_1_1, null, maxRequestsPerConnection);
        Listener listenerConfig = new Listener("web", new HostPort("127.0.0.1", 8080), Protocol.HTTP, "app", null,
                1000, Duration.ofMinutes(5), Duration.ofMinutes(1), 65536, Duration.ofMinutes(1), 1);
        registry = Registry.fromConfig(new FulcrumConfig("test", FulcrumConfig.Admin.DEFAULT,
                List.of(listenerConfig), List.of(poolConfig), List.of(), List.of(), null, null), Clock.systemUTC());
        PoolRuntime pool = registry.pool("app");
        servers = new EmbeddedServers();
        listener = new HttpListener(listenerConfig, pool, null, servers, ProxyObserver.NONE, null,
                HttpListener.DEFAULT_INSTANCE_NAME, accessLog);
        client = new EmbeddedChannel(listener.clientInitializer());
        client.freezeTime(); // only advance() moves the timeouts: a pause of this thread fires none
    }

    /** {@link #start}s with {@code n} servers, sends {@code request}: the one server connection it opened. */
    private EmbeddedChannel forward(int n, String request) {
        start(n);
        send(request);
        return servers.only();
    }

    /**
     * {@link #start}s with 2 servers whose next {@code refusals} connects are refused, sends
     * {@code request}: the one server connection it then opened, or null.
     */
    private EmbeddedChannel refusing(int refusals, String request) {
        start(2);
        servers.refuseNext = refusals;
        send(request);
        assertThat(servers.opened).hasSizeLessThanOrEqualTo(1);
        return servers.opened.isEmpty() ? null : servers.opened.getFirst();
    }

    /** Requests the pool's servers count as in progress: 0 once every try finished. */
    private int activeRequests() {
        return registry.pool("app").pool().servers().stream().mapToInt(Server::activeRequests).sum();
    }

    private Server server(int i) {
        return registry.pool("app").pool().servers().get(i);
    }

    private void send(String bytes) {
        client.writeInbound(Unpooled.copiedBuffer(bytes, ISO_8859_1));
    }

    /** What the client received since the last call. */
    private String response() {
        return drain(client);
    }

    private static void answer(EmbeddedChannel server, String bytes) {
        server.writeInbound(Unpooled.copiedBuffer(bytes, ISO_8859_1));
    }

    /** What {@code server} received since the last call. */
    private static String received(EmbeddedChannel server) {
        return drain(server);
    }

    /** The server resets the connection (an I/O error, then the close). */
    private static void reset(EmbeddedChannel server) {
        server.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        server.runPendingTasks();
    }

    private void passTime(long seconds) {
        client.advanceTimeBy(seconds, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        servers.opened.forEach(EmbeddedChannel::runPendingTasks);
    }

    private static String drain(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder out = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            out.append(b.toString(ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /**
     * Server connections as {@link EmbeddedChannel}s with the real server pipeline; each connect
     * succeeds at once unless a test asks for refusals. Keeps what a test asks about: every
     * connection opened, to which server, and the idle ones.
     */
    private static final class EmbeddedServers implements ServerConnector {
        final List<EmbeddedChannel> opened = new ArrayList<>();
        final Map<Channel, Server> serverOf = new HashMap<>();
        final ArrayDeque<Channel> idle = new ArrayDeque<>();
        /** How many of the next connects are refused (a {@link ConnectException}, as from a closed port). */
        int refuseNext;

        EmbeddedChannel only() {
            assertThat(opened).hasSize(1);
            return opened.getFirst();
        }

        @Override
        public Channel takeIdle(EventLoop loop, Server server) {
            for (Channel ch : idle) {
                if (serverOf.get(ch) == server && ch.isActive()) {
                    idle.remove(ch);
                    return ch;
                }
            }
            return null;
        }

        @Override
        public boolean hasIdle(EventLoop loop, Server server) {
            return idle.stream().anyMatch(ch -> serverOf.get(ch) == server);
        }

        @Override
        public Future<Channel> connect(EventLoop loop, Server server, Duration connectTimeout) {
            EmbeddedChannel ch = new EmbeddedChannel();
            if (refuseNext > 0) {
                refuseNext--;
                ch.close();
                return ch.eventLoop().newFailedFuture(new ConnectException("Connection refused"));
            }
            BackendConnectionPool.initServerPipeline(ch, server);
            server.connectionOpened();
            ch.closeFuture().addListener(f -> {
                server.connectionClosed();
                idle.remove(ch);
            });
            opened.add(ch);
            serverOf.put(ch, server);
            return ch.eventLoop().newSucceededFuture(ch);
        }

        @Override
        public void park(Channel ch) {
            ch.pipeline().get(BackendHandler.class).park(System.nanoTime());
            idle.add(ch);
        }

        @Override
        public void closeAll() {
            new ArrayList<>(idle).forEach(Channel::close);
        }
    }
}
