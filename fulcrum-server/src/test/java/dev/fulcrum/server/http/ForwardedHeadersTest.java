package dev.fulcrum.server.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardedHeadersTest {

    private static HttpRequest request(HttpVersion version, String... headers) {
        HttpRequest r = new DefaultHttpRequest(version, HttpMethod.POST, "/p?q=1");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    @Test
    void requestLosesHopByHopHeadersAndGainsForwardedOnes() {
        HttpRequest in = request(HttpVersion.HTTP_1_0, "Host", "h.example", "Connection", "keep-alive, X-Secret",
                "X-Secret", "s", "Keep-Alive", "timeout=5", "Proxy-Connection", "close", "TE", "trailers",
                "Trailer", "X-T", "Upgrade", "h2c", "X-Forwarded-For", "10.0.0.1", "X-Forwarded-For", "10.0.0.2",
                "Content-Length", "3");
        HttpRequest out = ForwardedHeaders.toServer(in, "192.0.2.9", true, "edge-1");
        assertThat(out.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        assertThat(out.method()).isEqualTo(HttpMethod.POST);
        assertThat(out.uri()).isEqualTo("/p?q=1");
        assertThat(out.headers().names()).containsExactlyInAnyOrder("Host", "X-Forwarded-For", "Content-Length",
                "X-Forwarded-Proto", "X-Forwarded-Host", "Via");
        assertThat(out.headers().get("Via")).isEqualTo("1.1 edge-1");
        assertThat(out.headers().get("X-Forwarded-For")).isEqualTo("10.0.0.1, 10.0.0.2, 192.0.2.9");
        assertThat(out.headers().get("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(out.headers().get("X-Forwarded-Host")).isEqualTo("h.example");
        assertThat(out.headers().get("Content-Length")).isEqualTo("3");
        assertThat(out.headers()).as("rewritten in place: no copy on the request path").isSameAs(in.headers());
    }

    @Test
    void chunkedRequestStaysChunkedAndUpgradeIsKept() {
        HttpRequest chunked = request(HttpVersion.HTTP_1_1, "Transfer-Encoding", "chunked");
        assertThat(ForwardedHeaders.toServer(chunked, "1.2.3.4", false, "lb").headers().get("Transfer-Encoding"))
                .isEqualTo("chunked");
        HttpRequest ws = get("Connection", "Upgrade", "Upgrade", "websocket");
        assertThat(ForwardedHeaders.isUpgrade(ws)).isTrue();
        HttpRequest out = ForwardedHeaders.toServer(ws, "1.2.3.4", false, "lb");
        assertThat(out.headers().get("Connection")).isEqualTo("upgrade");
        assertThat(out.headers().get("Upgrade")).isEqualTo("websocket");
        assertThat(ForwardedHeaders.isUpgrade(get("Upgrade", "websocket"))).isFalse();
    }

    private static HttpRequest get(String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    @Test
    void connectionCannotRemoveFramingRoutingOrFulcrumsOwnHeaders() {
        HttpRequest in = request(HttpVersion.HTTP_1_1, "Host", "h.example", "Content-Length", "5",
                "Connection", "Content-Length, Host, X-Forwarded-For, Via, X-Request-Id, X-Drop",
                "X-Forwarded-For", "10.0.0.1", "Via", "1.0 upstream", "X-Request-Id", "r1", "X-Drop", "1");
        HttpRequest out = ForwardedHeaders.toServer(in, "192.0.2.9", false, "lb");
        assertThat(out.headers().get("Content-Length")).isEqualTo("5");
        assertThat(out.headers().get("Host")).isEqualTo("h.example");
        assertThat(out.headers().get("X-Forwarded-For")).isEqualTo("10.0.0.1, 192.0.2.9");
        assertThat(out.headers().get("Via")).isEqualTo("1.0 upstream, 1.1 lb");
        assertThat(out.headers().get("X-Request-Id")).isEqualTo("r1");
        assertThat(out.headers().contains("X-Drop")).as("an ordinary header named in Connection still goes").isFalse();

        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set("Content-Length", "7").set("Connection", "Content-Length");
        assertThat(ForwardedHeaders.toClient(response, HttpVersion.HTTP_1_1, true, true).headers()
                .get("Content-Length")).isEqualTo("7");
    }

    @Test
    void onlyAWebSocketGetIsAnUpgradeAndH2cIsDropped() {
        assertThat(ForwardedHeaders.isUpgrade(get("Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c",
                "HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"))).isFalse();
        HttpRequest post = request(HttpVersion.HTTP_1_1, "Connection", "Upgrade", "Upgrade", "websocket");
        assertThat(ForwardedHeaders.isUpgrade(post)).as("a WebSocket handshake is a GET").isFalse();

        HttpRequest h2c = get("Host", "h", "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c",
                "HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA");
        HttpRequest out = ForwardedHeaders.toServer(h2c, "1.2.3.4", false, "lb");
        assertThat(out.headers().names()).doesNotContain("Upgrade", "HTTP2-Settings", "Connection");
    }

    @Test
    void aViaEntryOfThisInstanceIsALoop() {
        assertThat(ForwardedHeaders.hasLooped(get("Via", "1.1 edge-1"), "edge-1")).isTrue();
        assertThat(ForwardedHeaders.hasLooped(get("Via", "1.0 cdn, HTTP/1.1 EDGE-1 (Fulcrum)"), "edge-1")).isTrue();
        assertThat(ForwardedHeaders.hasLooped(get("Via", "1.0 cdn", "Via", "1.1 edge-1"), "edge-1")).isTrue();
        assertThat(ForwardedHeaders.hasLooped(get("Via", "1.1 edge-2, 1.1 edge-10"), "edge-1")).isFalse();
        assertThat(ForwardedHeaders.hasLooped(get(), "edge-1")).isFalse();
        assertThat(ForwardedHeaders.viaName("lb one/π")).as("a token").isEqualTo("lb-one--");
    }

    @Test
    void trailersLoseFieldsThatMustNotBeTrailers() {
        HttpHeaders trailers = new DefaultHttpHeaders()
                .add("Host", "evil").add("Content-Length", "0").add("Authorization", "x").add("Cookie", "c")
                .add("X-Forwarded-For", "1.1.1.1").add("Content-Type", "text/html").add("grpc-status", "0")
                .add("X-Checksum", "abc");
        ForwardedHeaders.filterTrailers(trailers);
        assertThat(trailers.names()).containsExactlyInAnyOrder("grpc-status", "X-Checksum");
    }

    @Test
    void responseIsReframedForTheClient() {
        HttpResponse chunked = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        chunked.headers().set("Transfer-Encoding", "chunked").set("Connection", "keep-alive, X-Hop").set("X-Hop", "1");
        HttpResponse out = ForwardedHeaders.toClient(chunked, HttpVersion.HTTP_1_1, true, true);
        assertThat(out.headers().get("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(out.headers().contains("X-Hop")).isFalse();
        assertThat(out.headers().contains("Connection")).isFalse();

        // close-delimited from the server: chunked for HTTP/1.1, closing for HTTP/1.0
        HttpResponse unframed = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        assertThat(ForwardedHeaders.toClient(unframed, HttpVersion.HTTP_1_1, true, true).headers()
                .get("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(ForwardedHeaders.needsCloseDelimiting(unframed, HttpVersion.HTTP_1_0, true)).isTrue();
        HttpResponse old = ForwardedHeaders.toClient(unframed, HttpVersion.HTTP_1_0, true, false);
        assertThat(old.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_0);
        assertThat(old.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(old.headers().get("Connection")).isEqualTo("close");

        HttpResponse sized = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        sized.headers().set("Content-Length", "5");
        HttpResponse kept = ForwardedHeaders.toClient(sized, HttpVersion.HTTP_1_0, true, true);
        assertThat(kept.headers().get("Connection")).isEqualTo("keep-alive");
        assertThat(kept.headers().get("Content-Length")).isEqualTo("5");
    }
}
