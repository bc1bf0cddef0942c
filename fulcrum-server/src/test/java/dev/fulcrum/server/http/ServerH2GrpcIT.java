package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.FulcrumConfig.UpstreamProtocol;
import dev.fulcrum.server.testing.CloseAfterEach;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A grpc-java server behind an h2c pool, called by an HTTP/1.1 client with gRPC's framing by hand
 * (HTTP/2 from clients, and so grpc-java clients, come with another piece of work): the unary
 * answer arrives chunked with {@code grpc-status} in the trailer section, and grpc-java's
 * trailers-only error keeps its status in the head.
 */
class ServerH2GrpcIT {

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    private Server grpcServer() throws IOException {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(GrpcFrames.SHOUT, ServerCalls.asyncUnaryCall((request, response) -> {
                    String text = new String(request, StandardCharsets.UTF_8);
                    if (text.equals("fail")) {
                        response.onError(Status.FAILED_PRECONDITION.withDescription("asked to fail").asRuntimeException());
                        return;
                    }
                    response.onNext(text.toUpperCase().getBytes(StandardCharsets.UTF_8));
                    response.onCompleted();
                }))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(echo).build().start();
        closer.add((AutoCloseable) () -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return server;
    }

    @Test
    void aUnaryCallsAnswerCarriesItsStatusAsATrailer() throws Exception {
        Server grpc = grpcServer();
        ProxyFixture proxy = new ProxyFixture();
        proxy.servers.add(new HostPort("127.0.0.1", grpc.getPort()));
        proxy.protocol = UpstreamProtocol.H2C;
        closer.add(proxy).start();
        try (RawHttp raw = new RawHttp(proxy.port, 5000)) {
            String ok = raw.send(GrpcFrames.request("/test.Echo/Shout", "hello")).readResponse(false);
            assertThat(ok).startsWith("HTTP/1.1 200 ");
            assertThat(ok.toLowerCase()).contains("content-type: application/grpc").contains("transfer-encoding: chunked");
            assertThat(ok).contains("\0\0\0\0\5HELLO").contains("\r\n0\r\ngrpc-status: 0\r\n").endsWith("\r\n\r\n");

            String failed = raw.send(GrpcFrames.request("/test.Echo/Shout", "fail")).readResponse(false);
            assertThat(failed).startsWith("HTTP/1.1 200 ").contains("grpc-status: 9\r\n").contains("grpc-message: asked to fail\r\n");

            String unknown = raw.send(GrpcFrames.request("/test.Echo/Whisper", "x")).readResponse(false);
            assertThat(unknown).as("a trailers-only answer").startsWith("HTTP/1.1 200 ")
                    .contains("grpc-status: 12\r\n").containsIgnoringCase("content-length: 0\r\n");
        }
    }
}
