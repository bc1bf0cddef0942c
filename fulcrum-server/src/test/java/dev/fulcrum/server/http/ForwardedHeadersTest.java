package dev.fulcrum.server.http;

import io.netty.handler.codec.http.DefaultHttpRequest;
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
        HttpRequest out = ForwardedHeaders.toServer(in, "192.0.2.9", true);
        assertThat(out.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        assertThat(out.method()).isEqualTo(HttpMethod.POST);
        assertThat(out.uri()).isEqualTo("/p?q=1");
        assertThat(out.headers().names()).containsExactlyInAnyOrder("Host", "X-Forwarded-For", "Content-Length",
                "X-Forwarded-Proto", "X-Forwarded-Host");
        assertThat(out.headers().get("X-Forwarded-For")).isEqualTo("10.0.0.1, 10.0.0.2, 192.0.2.9");
        assertThat(out.headers().get("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(out.headers().get("X-Forwarded-Host")).isEqualTo("h.example");
        assertThat(out.headers().get("Content-Length")).isEqualTo("3");
        assertThat(out.headers()).as("rewritten in place: no copy on the request path").isSameAs(in.headers());
    }

    @Test
    void chunkedRequestStaysChunkedAndUpgradeIsKept() {
        HttpRequest chunked = request(HttpVersion.HTTP_1_1, "Transfer-Encoding", "chunked");
        assertThat(ForwardedHeaders.toServer(chunked, "1.2.3.4", false).headers().get("Transfer-Encoding"))
                .isEqualTo("chunked");
        HttpRequest ws = request(HttpVersion.HTTP_1_1, "Connection", "Upgrade", "Upgrade", "websocket");
        assertThat(ForwardedHeaders.isUpgrade(ws)).isTrue();
        HttpRequest out = ForwardedHeaders.toServer(ws, "1.2.3.4", false);
        assertThat(out.headers().get("Connection")).isEqualTo("upgrade");
        assertThat(out.headers().get("Upgrade")).isEqualTo("websocket");
        assertThat(ForwardedHeaders.isUpgrade(request(HttpVersion.HTTP_1_1, "Upgrade", "websocket"))).isFalse();
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
