package dev.fulcrum.server.http;

import dev.fulcrum.server.http.codec.FramingCase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every request the strict decoder rejects ({@link FramingCase}), plus the classic CL.TE / TE.CL
 * smuggling payloads, sent over a raw socket to a real {@link HttpListener} in front of a
 * {@link TestBackend}: the client gets one error of Fulcrum's own and a closed connection; the
 * server behind gets nothing at all (no connection, no request) when the error is in the head, and
 * never the hidden or following request when it is in a chunked body (the head before it was valid,
 * so the proxy may have started passing that request on before its body broke the rules).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SmugglingIT {

    private static final String HOST = "Host: example\r\n";
    private static final String HIDDEN = "GET /smuggled HTTP/1.1\r\n" + HOST + "\r\n";
    /** A valid request right behind each case: it must not be served either. */
    private static final String NEXT = "GET /next HTTP/1.1\r\n" + HOST + "\r\n";
    private static final Pattern RESPONSE = Pattern.compile(
            "HTTP/1\\.1 (\\d{3}) [^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n(.*)", Pattern.DOTALL);

    private static TestBackend backend;
    private static ProxyFixture proxy;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start("app");
        proxy = new ProxyFixture().servers(backend);
        proxy.maxHeaderBytes = FramingCase.MAX_HEAD;
        proxy.start();
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** Errors in the request head, the classic smuggling payloads first. */
    static List<FramingCase> headErrors() {
        List<FramingCase> all = new ArrayList<>(classicSmuggling());
        all.addAll(FramingCase.rejected().stream().filter(c -> !c.inBody()).toList());
        return all;
    }

    /** Errors in a chunked body, after a valid head. */
    static List<FramingCase> bodyErrors() {
        return FramingCase.rejected().stream().filter(FramingCase::inBody).toList();
    }

    /** The payloads of the request-smuggling write-ups, each hiding a second request. */
    private static List<FramingCase> classicSmuggling() {
        String clTeBody = "0\r\n\r\n" + HIDDEN;
        String teClChunk = Integer.toHexString(HIDDEN.length()) + "\r\n" + HIDDEN + "\r\n0\r\n\r\n";
        return List.of(
                // front end goes by Content-Length, back end by chunked: the back end would see HIDDEN
                new FramingCase("CL.TE with a hidden request", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: "
                        + clTeBody.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n" + clTeBody,
                        400, "both Content-Length and Transfer-Encoding", false),
                // front end goes by chunked, back end by Content-Length: 4 bytes, then HIDDEN
                new FramingCase("TE.CL with a hidden request", "POST / HTTP/1.1\r\n" + HOST
                        + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + teClChunk,
                        400, "both Content-Length and Transfer-Encoding", false),
                // TE.TE: one side ignores the obfuscated header and falls back to Content-Length
                new FramingCase("TE obfuscated by a space, hidden request", "POST / HTTP/1.1\r\n" + HOST
                        + "Content-Length: " + clTeBody.length() + "\r\nTransfer-Encoding : chunked\r\n\r\n"
                        + clTeBody, 400, "whitespace between header name and colon", false),
                new FramingCase("CL.CL with a hidden request", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 0\r\n"
                        + "Content-Length: " + HIDDEN.length() + "\r\n\r\n" + HIDDEN,
                        400, "more than one Content-Length", false));
    }

    /** Runs first: no case before it can leave a late connection to the server behind. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("headErrors")
    @Order(1)
    void headErrorReachesNothingBehindTheProxy(FramingCase c) throws Exception {
        int connectionsBefore = backend.connectionsAccepted();
        int requestsBefore = backend.totalRequests();

        assertOneErrorThenClose(c);

        // the proxy starts no exchange for a head it rejected, so nothing can still be on its way
        assertThat(backend.connectionsAccepted()).as("connections to the server").isEqualTo(connectionsBefore);
        assertThat(backend.totalRequests()).as("requests to the server").isEqualTo(requestsBefore);
    }

    /**
     * The head before the broken body was valid, so the proxy may have begun passing that request
     * on (and breaks it off); neither the request hidden in the body nor the one after may pass.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("bodyErrors")
    @Order(2)
    void bodyErrorPassesNoFurtherRequest(FramingCase c) throws Exception {
        assertOneErrorThenClose(c);

        assertThat(backend.requests("/next")).isZero();
        // The broken POST / itself may reach the server at any time, even after the client's 400
        // (the proxy may have begun passing it on): so the check is on paths, not on counts.
        assertThat(backend.paths()).as("paths requested other than the broken POST /").isSubsetOf("/");
    }

    private static void assertOneErrorThenClose(FramingCase c) throws Exception {
        String answer;
        try (RawHttp client = new RawHttp(proxy.port, 10_000)) {
            answer = client.send(c.raw() + NEXT).readUntilClose(); // returns at the proxy's FIN
        }

        Matcher m = RESPONSE.matcher(answer);
        assertThat(m.matches()).as("a response in: %s", answer).isTrue();
        assertThat(Integer.parseInt(m.group(1))).isEqualTo(c.status());
        assertThat(m.group(2)).containsIgnoringCase("server: fulcrum\r\n");
        String body = m.group(3);
        assertThat(body).as("one line, no second response").endsWith("\n").contains(c.message())
                .doesNotContainPattern("HTTP/1\\.[01] \\d{3} ");
        assertThat(body.indexOf('\n')).isEqualTo(body.length() - 1);
        assertThat(backend.requests("/next")).isZero();
        assertThat(backend.requests("/smuggled")).isZero();
    }
}
