package dev.fulcrum.server.http;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code Connection} header may name hop-by-hop headers for removal, but never the ones that
 * frame or route the message: a POST sent on without its Content-Length would reach the server with
 * its body read as a second request (without X-Forwarded-For, answered to whoever uses the pooled
 * connection next). A {@link RawBackend} records the exact bytes the server gets.
 */
class ConnectionHeaderSmugglingIT {

    private static final String HIDDEN = "GET /smuggled HTTP/1.1\r\nHost: example\r\n\r\n";

    @RegisterExtension
    final RawBackendProxy raw = new RawBackendProxy();

    @Test
    void connectionNamingContentLengthDoesNotStripIt() throws Exception {
        raw.start(RawBackend::echoPath);
        try (RawHttp client = raw.client()) {
            String response = client.send("POST /upload HTTP/1.1\r\nHost: example\r\nConnection: Content-Length\r\n"
                    + "Content-Length: " + HIDDEN.length() + "\r\n\r\n" + HIDDEN).readResponse(false);
            assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n/upload");
            // a second request on the same client connection gets its own answer, not /smuggled's
            assertThat(client.send("GET /after HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false))
                    .endsWith("\r\n\r\n/after");
        }
        assertThat(raw.backend.heads()).as("heads the server read").hasSize(2)
                .noneMatch(h -> h.contains("/smuggled"));
        assertThat(raw.backend.heads().getFirst()).containsIgnoringCase("content-length: " + HIDDEN.length() + "\r\n");
        assertThat(raw.backend.received()).contains("\r\n\r\n" + HIDDEN + "GET /after ");
    }

    @Test
    void connectionNamingHostOrFulcrumsHeadersDoesNotStripThem() throws Exception {
        raw.start(RawBackend::echoPath);
        try (RawHttp client = raw.client()) {
            client.send("GET /a HTTP/1.1\r\nHost: example\r\nConnection: Host, X-Forwarded-For, Via, X-Secret\r\n"
                    + "X-Secret: s\r\n\r\n").readResponse(false);
        }
        String head = raw.backend.heads().getFirst();
        assertThat(head).containsIgnoringCase("host: example\r\n").containsIgnoringCase("x-forwarded-for: 127.0.0.1\r\n")
                .containsIgnoringCase("via: 1.1 fulcrum\r\n").doesNotContainIgnoringCase("x-secret");
    }

    @Test
    void aServerNamingContentLengthInConnectionKeepsItsResponseFramed() throws Exception {
        raw.start(head -> head.startsWith("GET /first ")
                ? "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello"
                : RawBackend.echoPath(head));
        try (RawHttp client = raw.client()) {
            String first = client.send("GET /first HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false);
            assertThat(first).containsIgnoringCase("content-length: 5\r\n").endsWith("\r\n\r\nhello");
            assertThat(client.send("GET /second HTTP/1.1\r\nHost: example\r\n\r\n").readResponse(false))
                    .startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n/second");
        }
    }
}
