package dev.fulcrum.server.http;

import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A grpc-java server with one service of four methods, one per call type, on strings (no protoc
 * here: the marshaller is UTF-8): {@code test.Echo/Shout} (unary, upper-cases; "fail" answers a
 * status with a non-ASCII message and trailing metadata), {@code Count} (server streaming: "n"
 * gives 1..n; "-n" gives 1..n then ABORTED with trailing metadata), {@code Join} (client streaming: joins with ","), {@code PingPong} (bidi: "ping i"
 * answers "pong i" at once) and {@code Hang} (unary that never answers, to watch cancellation and
 * deadlines arrive). It records what the tests check at the server: the request metadata, when a
 * call's cancellation arrived, and which client connections (remote ports) it saw.
 */
final class GrpcTestService implements AutoCloseable {

    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    static final MethodDescriptor<String, String> SHOUT = method("Shout", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<String, String> COUNT = method("Count", MethodDescriptor.MethodType.SERVER_STREAMING);
    static final MethodDescriptor<String, String> JOIN = method("Join", MethodDescriptor.MethodType.CLIENT_STREAMING);
    static final MethodDescriptor<String, String> PING_PONG = method("PingPong", MethodDescriptor.MethodType.BIDI_STREAMING);
    static final MethodDescriptor<String, String> HANG = method("Hang", MethodDescriptor.MethodType.UNARY);
    /** Not served: the server answers UNIMPLEMENTED trailers-only. */
    static final MethodDescriptor<String, String> MISSING = method("Missing", MethodDescriptor.MethodType.UNARY);

    static final Metadata.Key<String> TAG = Metadata.Key.of("x-tag", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<byte[]> BLOB = Metadata.Key.of("x-blob-bin", Metadata.BINARY_BYTE_MARSHALLER);
    static final Metadata.Key<String> ECHO_TAG = Metadata.Key.of("x-echo-tag", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<byte[]> ECHO_BLOB = Metadata.Key.of("x-echo-blob-bin", Metadata.BINARY_BYTE_MARSHALLER);
    static final Metadata.Key<String> TIMEOUT = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
    /** The status message of "fail": non-ASCII, so it travels percent-encoded. */
    static final String FAIL_MESSAGE = "échec: 100% kaputt ✗";
    static final byte[] FAIL_BLOB = {0, 1, 2, (byte) 0xfe, (byte) 0xff, '\r', '\n'};

    private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder().setType(type).setFullMethodName("test.Echo/" + name)
                .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();
    }

    final Server server;
    /** The request metadata of the last call. */
    final AtomicReference<Metadata> lastHeaders = new AtomicReference<>();
    /** {@link System#nanoTime()} when the last Hang call's cancellation reached the server; 0 before. */
    final AtomicLong hangCancelledAt = new AtomicLong();
    /** Counts Hang calls whose cancellation reached the server. */
    final AtomicLong hangsCancelled = new AtomicLong();
    /** Counts Hang calls that arrived, so a test knows when to cancel. */
    final AtomicLong hangsStarted = new AtomicLong();
    /** The client ports the server saw calls from: one per connection Fulcrum opened to it. */
    final Set<Integer> remotePorts = ConcurrentHashMap.newKeySet();
    /** Hang calls wait on it; a test counts it down to let them finish with "done". */
    final CountDownLatch release = new CountDownLatch(1);

    private GrpcTestService(int maxConcurrentStreams) throws IOException {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(SHOUT, ServerCalls.asyncUnaryCall(GrpcTestService::shout))
                .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((request, response) -> {
                    int n = Integer.parseInt(request);
                    for (int i = 1; i <= Math.abs(n); i++) {
                        response.onNext(Integer.toString(i));
                    }
                    if (n < 0) { // a failure after messages: the status travels in real trailers
                        Metadata trailers = new Metadata();
                        trailers.put(BLOB, FAIL_BLOB);
                        response.onError(Status.ABORTED.withDescription(FAIL_MESSAGE).asRuntimeException(trailers));
                        return;
                    }
                    response.onCompleted();
                }))
                .addMethod(JOIN, ServerCalls.asyncClientStreamingCall(response -> new StreamObserver<>() {
                    private final StringBuilder joined = new StringBuilder();

                    @Override
                    public void onNext(String value) {
                        joined.append(joined.isEmpty() ? "" : ",").append(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        response.onNext(joined.toString());
                        response.onCompleted();
                    }
                }))
                .addMethod(PING_PONG, ServerCalls.asyncBidiStreamingCall(response -> new StreamObserver<>() {
                    @Override
                    public void onNext(String value) {
                        response.onNext(value.replace("ping", "pong"));
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        response.onCompleted();
                    }
                }))
                .addMethod(HANG, ServerCalls.asyncUnaryCall((request, response) -> {
                    Context.current().addListener(c -> {
                        hangCancelledAt.set(System.nanoTime());
                        hangsCancelled.incrementAndGet();
                    }, Runnable::run);
                    hangsStarted.incrementAndGet();
                    Thread.ofVirtual().start(() -> {
                        try {
                            if (release.await(30, TimeUnit.SECONDS) && !Context.current().isCancelled()) {
                                response.onNext("done");
                                response.onCompleted();
                            }
                        } catch (InterruptedException | RuntimeException ignored) {
                            // the call was cancelled: nothing to answer
                        }
                    });
                }))
                .build();
        ServerInterceptor recorder = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                lastHeaders.set(headers);
                if (call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR) instanceof InetSocketAddress a) {
                    remotePorts.add(a.getPort());
                }
                // request metadata comes back as trailing metadata, so a client sees it crossed both ways
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        if (headers.containsKey(TAG)) {
                            trailers.put(ECHO_TAG, headers.get(TAG));
                        }
                        if (headers.containsKey(BLOB)) {
                            trailers.put(ECHO_BLOB, headers.get(BLOB));
                        }
                        super.close(status, trailers);
                    }
                }, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .maxConcurrentCallsPerConnection(maxConcurrentStreams)
                .addService(ServerInterceptors.intercept(echo, recorder)).build().start();
    }

    static GrpcTestService start() throws IOException {
        return new GrpcTestService(Integer.MAX_VALUE);
    }

    /** @param maxConcurrentStreams the SETTINGS_MAX_CONCURRENT_STREAMS the server announces */
    static GrpcTestService start(int maxConcurrentStreams) throws IOException {
        return new GrpcTestService(maxConcurrentStreams);
    }

    int port() {
        return server.getPort();
    }

    private static void shout(String request, StreamObserver<String> response) {
        if (request.equals("fail")) {
            Metadata trailers = new Metadata();
            trailers.put(TAG, "failed-tag");
            trailers.put(BLOB, FAIL_BLOB);
            response.onError(Status.FAILED_PRECONDITION.withDescription(FAIL_MESSAGE).asRuntimeException(trailers));
            return;
        }
        response.onNext(request.toUpperCase());
        response.onCompleted();
    }

    @Override
    public void close() throws InterruptedException {
        release.countDown();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
