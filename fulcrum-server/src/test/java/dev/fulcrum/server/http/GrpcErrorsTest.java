package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class GrpcErrorsTest {

    private static MessageHead post(String contentType) {
        MessageHead h = MessageHead.newRequest(HttpMethod.POST, "/test.Echo/Shout");
        if (contentType != null) {
            h.add(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        return h;
    }

    @Test
    void grpcIsTheContentTypeApplicationGrpcOrASubtype() {
        assertThat(GrpcErrors.isGrpc(post("application/grpc"))).isTrue();
        assertThat(GrpcErrors.isGrpc(post("application/grpc+proto"))).isTrue();
        assertThat(GrpcErrors.isGrpc(post("Application/GRPC-web"))).isTrue();
        assertThat(GrpcErrors.isGrpc(post("application/grpcx"))).isFalse();
        assertThat(GrpcErrors.isGrpc(post("application/json"))).isFalse();
        assertThat(GrpcErrors.isGrpc(post(null))).isFalse();
    }

    /** gRPC's "HTTP to gRPC status code mapping", and where Fulcrum knows the cause better. */
    @Test
    void fulcrumsStatusesMapToGrpcCodes() {
        assertThat(GrpcErrors.status(400)).isEqualTo(13); // INTERNAL
        assertThat(GrpcErrors.status(401)).isEqualTo(16); // UNAUTHENTICATED
        assertThat(GrpcErrors.status(403)).isEqualTo(7); // PERMISSION_DENIED
        assertThat(GrpcErrors.status(404)).isEqualTo(12); // UNIMPLEMENTED: no route
        assertThat(GrpcErrors.status(408)).isEqualTo(4); // DEADLINE_EXCEEDED: request too slow
        assertThat(GrpcErrors.status(413)).isEqualTo(8); // RESOURCE_EXHAUSTED
        assertThat(GrpcErrors.status(429)).isEqualTo(8); // RESOURCE_EXHAUSTED: rate limit
        assertThat(GrpcErrors.status(502)).isEqualTo(14); // UNAVAILABLE
        assertThat(GrpcErrors.status(503)).isEqualTo(14); // UNAVAILABLE: no server up
        assertThat(GrpcErrors.status(504)).isEqualTo(4); // DEADLINE_EXCEEDED: response-timeout
        assertThat(GrpcErrors.status(500)).isEqualTo(2); // UNKNOWN
    }

    @Test
    void messagesArePercentEncodedUtf8() {
        assertThat(GrpcErrors.percentEncode("plain text: ok")).isEqualTo("plain text: ok");
        assertThat(GrpcErrors.percentEncode("100% é\n")).isEqualTo("100%25 %C3%A9%0A");
    }

    @Test
    void anErrorIsATrailersOnlyAnswer() {
        ByteBuf out = GrpcErrors.encode(UnpooledByteBufAllocator.DEFAULT, 503, "no server of pool app is up", "id-1");
        try {
            assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK\r\n"
                    + "server: fulcrum\r\ncontent-type: application/grpc\r\ngrpc-status: 14\r\n"
                    + "grpc-message: 503 no server of pool app is up\r\ncontent-length: 0\r\nconnection: close\r\n"
                    + "x-request-id: id-1\r\n\r\n");
        } finally {
            out.release();
        }
    }
}
