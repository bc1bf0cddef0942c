package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static dev.fulcrum.server.http.TestHeads.written;
import static dev.fulcrum.server.http.TestHeads.writtenResponse;
import static org.assertj.core.api.Assertions.assertThat;

class ForwardedHeadersTest {










    // ---- the same cases on heads as bytes: the bytes the server or client receives -------------

    @Test
    void requestLosesHopByHopFieldsAndGainsForwardedOnes() {
        MessageHead in = TestHeads.request("POST /p?q=1 HTTP/1.0\r\nHost: h.example\r\n"
                + "Connection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n"
                + "Proxy-Connection: close\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\n"
                + "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nContent-Length: 3\r\n");
        ForwardedHeaders.toServer(in, ForwardedHeaders.isUpgrade(in), "192.0.2.9", true, "edge-1", false);
        assertThat(written(in)).isEqualTo("POST /p?q=1 HTTP/1.1\r\nHost: h.example\r\nContent-Length: 3\r\n"
                + "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.9\r\nX-Forwarded-Proto: https\r\n"
                + "X-Forwarded-Host: h.example\r\nVia: 1.0 edge-1\r\n\r\n"); // the version received (RFC 9110 7.6.3)
    }

    @Test
    void viaNamesTheProtocolVersionTheRequestCameIn() {
        MessageHead h2 = TestHeads.request("GET / HTTP/1.1\r\nHost: h\r\nVia: 1.0 cdn\r\n");
        ForwardedHeaders.toServer(h2, false, "1.2.3.4", true, "lb", true); // an HTTP/2 stream's rendering
        assertThat(written(h2)).endsWith("Via: 1.0 cdn, 2 lb\r\n\r\n").startsWith("GET / HTTP/1.1\r\n");
        MessageHead h11 = TestHeads.request("GET / HTTP/1.1\r\nHost: h\r\n");
        ForwardedHeaders.toServer(h11, false, "1.2.3.4", true, "lb", false);
        assertThat(written(h11)).endsWith("Via: 1.1 lb\r\n\r\n");
    }

    @Test
    void chunkedRequestStaysChunkedAndUpgradeIsKept() {
        MessageHead chunked = TestHeads.request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                + "X-Forwarded-Proto: ftp\r\n");
        ForwardedHeaders.toServer(chunked, ForwardedHeaders.isUpgrade(chunked), "1.2.3.4", false, "lb", false);
        assertThat(written(chunked)).isEqualTo("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                + "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\nVia: 1.1 lb\r\n\r\n");

        MessageHead decoded = TestHeads.request("POST / HTTP/1.1\r\nHost: h\r\n");
        decoded.setFraming(-1, true); // what the decoder decided counts, as the field would
        ForwardedHeaders.toServer(decoded, ForwardedHeaders.isUpgrade(decoded), "1.2.3.4", false, "lb", false);
        assertThat(written(decoded)).contains("\r\nTransfer-Encoding: chunked\r\n");

        MessageHead ws = TestHeads.request("GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n");
        assertThat(ForwardedHeaders.isUpgrade(ws)).isTrue();
        ForwardedHeaders.toServer(ws, ForwardedHeaders.isUpgrade(ws), "1.2.3.4", false, "lb", false);
        assertThat(written(ws)).isEqualTo("GET /chat HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\n"
                + "Connection: upgrade\r\nUpgrade: websocket\r\nX-Forwarded-For: 1.2.3.4\r\n"
                + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nVia: 1.1 lb\r\n\r\n");
        assertThat(ForwardedHeaders.isUpgrade(TestHeads.request("GET / HTTP/1.1\r\nUpgrade: websocket\r\n")))
                .isFalse();
        assertThat(ForwardedHeaders.isUpgrade(TestHeads.request(
                "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"))).as("HTTP/1.0").isFalse();
    }

    @Test
    void connectionCannotRemoveFramingRoutingOrFulcrumsOwnFields() {
        MessageHead in = TestHeads.request("POST / HTTP/1.1\r\nHost: h.example\r\nContent-Length: 5\r\n"
                + "Connection: Content-Length, Host, X-Forwarded-For, Via, X-Request-Id, X-Drop\r\n"
                + "X-Forwarded-For: 10.0.0.1\r\nVia: 1.0 upstream\r\nX-Request-Id: r1\r\nX-Drop: 1\r\n");
        ForwardedHeaders.toServer(in, ForwardedHeaders.isUpgrade(in), "192.0.2.9", false, "lb", false);
        assertThat(written(in)).isEqualTo("POST / HTTP/1.1\r\nHost: h.example\r\nContent-Length: 5\r\n"
                + "X-Request-Id: r1\r\nX-Forwarded-For: 10.0.0.1, 192.0.2.9\r\nX-Forwarded-Proto: http\r\n"
                + "X-Forwarded-Host: h.example\r\nVia: 1.0 upstream, 1.1 lb\r\n\r\n");

        MessageHead response = TestHeads.response("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
                + "Connection: Content-Length\r\n");
        ForwardedHeaders.toClient(response, 1, true, true);
        assertThat(writtenResponse(response, 1)).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n");
    }

    @Test
    void everyConnectionFieldNamesFieldsToRemove() {
        // a Connection field naming Connection itself must not hide the next one's names
        MessageHead in = TestHeads.request("GET / HTTP/1.1\r\nConnection: connection\r\nConnection: X-A, x-b\r\n"
                + "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\n");
        ForwardedHeaders.toServer(in, ForwardedHeaders.isUpgrade(in), "1.2.3.4", false, "lb", false);
        assertThat(written(in)).startsWith("GET / HTTP/1.1\r\nX-C: 3\r\nX-Forwarded-For: 1.2.3.4\r\n");
    }

    @Test
    void onlyAWebSocketGetIsAnUpgradeAndH2cIsDropped() {
        assertThat(ForwardedHeaders.isUpgrade(TestHeads.request("GET / HTTP/1.1\r\n"
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n")))
                .isFalse();
        assertThat(ForwardedHeaders.isUpgrade(TestHeads.request(
                "POST / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"))).isFalse();
        MessageHead h2c = TestHeads.request("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n");
        ForwardedHeaders.toServer(h2c, ForwardedHeaders.isUpgrade(h2c), "1.2.3.4", false, "lb", false);
        assertThat(written(h2c)).isEqualTo("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n"
                + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nVia: 1.1 lb\r\n\r\n");
    }

    @Test
    void hostOfAnHttp10RequestIsTheServersPerTry() {
        MessageHead in = TestHeads.request("GET / HTTP/1.0\r\nX-Forwarded-Host: spoof\r\n");
        boolean hostMissing = !in.contains(io.netty.handler.codec.http.HttpHeaderNames.HOST);
        ForwardedHeaders.toServer(in, ForwardedHeaders.isUpgrade(in), "1.2.3.4", false, "lb", false);
        assertThat(hostMissing).isTrue();
        ForwardedHeaders.setServerHost(in, "10.0.0.1:80");
        ForwardedHeaders.setServerHost(in, "10.0.0.2:80"); // the retry's server
        assertThat(written(in)).isEqualTo("GET / HTTP/1.1\r\nX-Forwarded-Host: spoof\r\n"
                + "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\nVia: 1.0 lb\r\nHost: 10.0.0.2:80\r\n\r\n");
    }

    @Test
    void aViaEntryOfThisInstanceIsALoop() {
        assertThat(ForwardedHeaders.hasLooped(TestHeads.request("GET / HTTP/1.1\r\nVia: 1.1 edge-1\r\n"), "edge-1"))
                .isTrue();
        assertThat(ForwardedHeaders.hasLooped(TestHeads.request(
                "GET / HTTP/1.1\r\nVia: 1.0 cdn, HTTP/1.1 EDGE-1 (Fulcrum)\r\n"), "edge-1")).isTrue();
        assertThat(ForwardedHeaders.hasLooped(TestHeads.request(
                "GET / HTTP/1.1\r\nVia: 1.0 cdn\r\nVia: 1.1\tedge-1\r\n"), "edge-1")).isTrue();
        assertThat(ForwardedHeaders.hasLooped(TestHeads.request(
                "GET / HTTP/1.1\r\nVia: 1.1 edge-2, 1.1 edge-10, 1.1 edge-1x, edge-1\r\n"), "edge-1")).isFalse();
        assertThat(ForwardedHeaders.hasLooped(TestHeads.request("GET / HTTP/1.1\r\n"), "edge-1")).isFalse();
    }

    @Test
    void trailersLoseFieldsThatMustNotBeTrailers() {
        MessageHead trailers = TestHeads.trailers("Host: evil\r\nContent-Length: 0\r\nAuthorization: x\r\n"
                + "Cookie: c\r\nX-Forwarded-For: 1.1.1.1\r\nContent-Type: text/html\r\ngrpc-status: 0\r\n"
                + "X-Checksum: abc\r\n");
        ForwardedHeaders.filterTrailers(trailers);
        assertThat(trailers.toString()).isEqualTo("grpc-status: 0\r\nX-Checksum: abc\r\n\r\n");
    }

    @Test
    void responseIsReframedForTheClient() {
        MessageHead chunked = TestHeads.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Kept: 2\r\n");
        ForwardedHeaders.toClient(chunked, 1, true, true);
        assertThat(writtenResponse(chunked, 1))
                .isEqualTo("HTTP/1.1 200 OK\r\nX-Kept: 2\r\nTransfer-Encoding: chunked\r\n\r\n");

        // close-delimited from the server: chunked for HTTP/1.1, closing for HTTP/1.0
        MessageHead unframed = TestHeads.response("HTTP/1.0 200 OK\r\nConnection: close\r\n");
        assertThat(ForwardedHeaders.needsCloseDelimiting(unframed, 1, true)).isFalse();
        assertThat(ForwardedHeaders.needsCloseDelimiting(unframed, 0, true)).isTrue();
        assertThat(ForwardedHeaders.needsCloseDelimiting(unframed, 0, false)).isFalse();
        MessageHead to11 = TestHeads.response("HTTP/1.0 200 OK\r\nConnection: close\r\n");
        ForwardedHeaders.toClient(to11, 1, true, true);
        assertThat(writtenResponse(to11, 1)).isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        ForwardedHeaders.toClient(unframed, 0, true, false);
        assertThat(writtenResponse(unframed, 0)).isEqualTo("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n");

        MessageHead sized = TestHeads.response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n");
        ForwardedHeaders.toClient(sized, 0, true, true);
        assertThat(writtenResponse(sized, 0))
                .isEqualTo("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n");

        // the answer to HEAD keeps what it declares; nothing is added for a bodyless 304
        MessageHead notModified = TestHeads.response("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n");
        ForwardedHeaders.toClient(notModified, 1, false, true);
        assertThat(writtenResponse(notModified, 1)).isEqualTo("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
    }

    @Test
    void interimAndSwitchingProtocolsLoseHopByHopFields() {
        MessageHead early = TestHeads.response("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nConnection: X-H\r\n"
                + "X-H: 1\r\n");
        ForwardedHeaders.interim(early);
        assertThat(writtenResponse(early, 1)).isEqualTo("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n");

        MessageHead switching = TestHeads.response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade, X-H\r\nX-H: 1\r\nKeep-Alive: 5\r\nSec-WebSocket-Accept: a\r\n");
        ForwardedHeaders.switchingProtocols(switching);
        assertThat(writtenResponse(switching, 1)).isEqualTo("HTTP/1.1 101 Switching Protocols\r\n"
                + "Sec-WebSocket-Accept: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
    }

    @Test
    void keepAliveIsReadAsNettyReadsIt() {
        assertThat(ForwardedHeaders.isKeepAlive(TestHeads.request("GET / HTTP/1.1\r\n"))).isTrue();
        assertThat(ForwardedHeaders.isKeepAlive(TestHeads.request("GET / HTTP/1.1\r\nConnection: foo, Close\r\n")))
                .isFalse();
        assertThat(ForwardedHeaders.isKeepAlive(TestHeads.request("GET / HTTP/1.0\r\n"))).isFalse();
        assertThat(ForwardedHeaders.isKeepAlive(TestHeads.request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n")))
                .isTrue();
        assertThat(ForwardedHeaders.isKeepAlive(TestHeads.response("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n")))
                .isTrue();
        assertThat(ForwardedHeaders.isKeepAlive(TestHeads.response("HTTP/1.1 200 OK\r\nConnection: close\r\n")))
                .isFalse();
    }

    /** The typical browser request: no String, list or array per field when the head has room. */
    @Test
    void rewriteOfABrowserRequestAllocatesNothing() {
        String text = "GET /products/shoes?color=blue HTTP/1.1\r\nHost: shop.example.com\r\n"
                + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
                + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                + "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
                + "Referer: https://shop.example.com/products?category=footwear\r\nConnection: keep-alive\r\n"
                + "Cookie: session=7f3a9c2e41b84d0f9e6a5c3b2d1e0f4a; prefs=lang%3Den\r\n"
                + "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n"
                + "Sec-Fetch-Site: same-origin\r\nSec-Fetch-User: ?1\r\nIf-None-Match: \"5d8c72a5edda8d6a\"\r\n"
                + "Priority: u=0, i\r\nCache-Control: max-age=0\r\n";
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = -1;
        for (int round = 0; round < 2000; round++) {
            MessageHead h = TestHeads.request(text, 256);
            long before = threads.getCurrentThreadAllocatedBytes();
            boolean keepAlive = ForwardedHeaders.isKeepAlive(h);
            boolean looped = ForwardedHeaders.hasLooped(h, "fulcrum");
            boolean upgrade = ForwardedHeaders.isUpgrade(h);
            ForwardedHeaders.toServer(h, ForwardedHeaders.isUpgrade(h), "203.0.113.7", true, "fulcrum", false);
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(keepAlive && !looped && !upgrade).isTrue();
            if (allocated == 0) {
                break;
            }
        }
        assertThat(allocated).isZero();
    }
}
