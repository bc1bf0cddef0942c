package dev.fulcrum.server.http;

import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.Loopback;
import dev.fulcrum.server.testing.TestCertificates;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.grpc.ClientInterceptors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * gRPC through {@code fulcrum run} as configured by an operator: a listener with {@code http2}
 * (prior knowledge h2c) and routes to a pool with {@code protocol: h2c} in front of a grpc-java
 * server that allows 100 concurrent streams per connection. Fulcrum's own errors reach gRPC
 * clients as statuses (no route, rate limit, response timeout, a server that cannot be reached),
 * 1000 concurrent calls on one client connection share ceil(1000 / 100) server connections, and
 * python3-grpcio works as a second client.
 */
class GrpcRunIT {

    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final int SERVER_STREAM_LIMIT = 100;
    /** Debian's python3-grpcio installs for the system interpreter, not whatever python3 is first on PATH. */
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    static Path tmp;

    private static GrpcTestService grpc;
    private static FulcrumProcess fulcrum;
    private static ManagedChannel channel;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        grpc = GrpcTestService.start(SERVER_STREAM_LIMIT);
        port = Loopback.freePort();
        int admin = Loopback.freePort();
        int dead = Loopback.freePort(); // nothing listens there
        Path config = Files.writeString(tmp.resolve("fulcrum.yaml"), """
                admin: {listen: 127.0.0.1:%d}
                listeners:
                  - name: grpc
                    listen: 127.0.0.1:%d
                    http2: {enabled: true, max-concurrent-streams: 1000}
                    routes:
                      - name: slow
                        match: {path: /test.Echo/Hang, headers: {x-slow: "1"}}
                        pool: echo
                        response-timeout: 300ms
                        retries: 0
                      - name: limited
                        match: {path: /test.Echo/Shout, headers: {x-limited: "1"}}
                        pool: echo
                        rate-limit: {requests-per-second: 0.01, burst: 1, key: "header:x-limited"}
                      - name: echo
                        match: {path-prefix: /test.Echo/}
                        pool: echo
                      - name: gone
                        match: {path-prefix: /gone.Service/}
                        pool: gone
                pools:
                  - name: echo
                    protocol: h2c
                    servers: [{address: 127.0.0.1:%d}]
                    health-check: {type: none}
                  - name: gone
                    protocol: h2c
                    servers: [{address: 127.0.0.1:%d}]
                    retries: 0
                    health-check: {type: none}
                """.formatted(admin, port, grpc.port(), dead));
        fulcrum = FulcrumProcess.start("grpc-run", List.of("-Xmx256m"), "run", "-c", config.toString());
        fulcrum.awaitPort(port, BOUND);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (fulcrum != null) {
            fulcrum.close();
        }
        if (grpc != null) {
            grpc.close();
        }
    }

    private static CallOptions within10s() {
        return CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static StatusRuntimeException failure(io.grpc.Channel ch, String method, String message) {
        var descriptor = GrpcTestService.SHOUT.toBuilder().setFullMethodName(method).build();
        return catchThrowableOfType(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(ch, descriptor, within10s(), message));
    }

    private static io.grpc.Channel withHeader(String name, String value) {
        Metadata m = new Metadata();
        m.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(m));
    }

    @Test
    void aUnaryCallGoesThrough() {
        assertThat(ClientCalls.blockingUnaryCall(channel, GrpcTestService.SHOUT, within10s(), "hi")).isEqualTo("HI");
    }

    @Test
    void noRouteIsUnimplemented() {
        StatusRuntimeException e = failure(channel, "other.Service/Call", "x");
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        assertThat(e.getStatus().getDescription()).isEqualTo("404 no route");
    }

    @Test
    void overTheRateLimitIsResourceExhausted() {
        io.grpc.Channel limited = withHeader("x-limited", "1");
        assertThat(ClientCalls.blockingUnaryCall(limited, GrpcTestService.SHOUT, within10s(), "one")).isEqualTo("ONE");
        StatusRuntimeException e = failure(limited, "test.Echo/Shout", "two");
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).isEqualTo("429 over the rate limit of route limited");
    }

    @Test
    void theResponseTimeoutIsDeadlineExceeded() {
        StatusRuntimeException e = failure(withHeader("x-slow", "1"), "test.Echo/Hang", "wait");
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(e.getStatus().getDescription()).startsWith("504 ");
    }

    @Test
    void aServerThatCannotBeReachedIsUnavailable() {
        StatusRuntimeException e = failure(channel, "gone.Service/Call", "x");
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).startsWith("502 ");
    }

    /**
     * 1000 calls in flight at once on one client connection: the server allows 100 streams per
     * connection, so Fulcrum may use at most 10 connections to it (counted at the server as
     * distinct client ports).
     */
    @Test
    void thousandConcurrentStreamsUseAtMostTenServerConnections() throws Exception {
        ManagedChannel one = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            grpc.remotePorts.clear();
            long before = grpc.hangsStarted.get();
            int calls = 1000;
            AtomicInteger done = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            for (int i = 0; i < calls; i++) {
                ClientCalls.asyncUnaryCall(one.newCall(GrpcTestService.HANG,
                        CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS)), "wait", new StreamObserver<>() {
                    @Override
                    public void onNext(String value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        failed.incrementAndGet();
                    }

                    @Override
                    public void onCompleted() {
                        done.incrementAndGet();
                    }
                });
            }
            await().atMost(BOUND).until(() -> grpc.hangsStarted.get() - before == calls || failed.get() > 0);
            assertThat(failed.get()).isZero();
            int connections = grpc.remotePorts.size();
            System.out.printf("GrpcRunIT: %d concurrent streams reached the server over %d connections%n", calls,
                    connections);
            assertThat(connections).isBetween(calls / SERVER_STREAM_LIMIT, calls / SERVER_STREAM_LIMIT);
            grpc.release.countDown();
            await().atMost(BOUND).until(() -> done.get() + failed.get() == calls);
            assertThat(done.get()).isEqualTo(calls);
        } finally {
            one.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void pythonGrpcioIsASecondClient() throws Exception {
        String script = script();
        String target = "127.0.0.1:" + port;
        String unary = TestCertificates.run(List.of(PYTHON, script, target, "unary", "/test.Echo/Shout", "from python"));
        assertThat(unary.strip()).isEqualTo("FROM PYTHON\nstatus OK");
        String stream = TestCertificates.run(List.of(PYTHON, script, target, "stream", "/test.Echo/Count", "3"));
        assertThat(stream.strip()).isEqualTo("1\n2\n3\nstatus OK");
        String failing = TestCertificates.run(List.of(PYTHON, script, target, "stream", "/test.Echo/Count", "-1"));
        assertThat(failing.strip()).isEqualTo("1\nstatus ABORTED " + GrpcTestService.FAIL_MESSAGE);
    }

    private static String script() throws URISyntaxException {
        return Path.of(Objects.requireNonNull(GrpcRunIT.class.getResource("/grpc/grpc_client.py")).toURI()).toString();
    }
}
