package dev.fulcrum.server.http;

import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * gRPC by hand for the tests that call a grpc-java server through an HTTP/1.1 client: a unary
 * {@code test.Echo/Shout} on raw bytes (no protobuf needed to exercise the transport) and the
 * HTTP/1.1 request carrying one message in gRPC's framing.
 */
final class GrpcFrames {

    /** Bytes as they are: no protobuf needed to exercise the transport. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    /** {@code test.Echo/Shout}, unary, on bytes. */
    static final MethodDescriptor<byte[], byte[]> SHOUT = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("test.Echo/Shout")
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();

    private GrpcFrames() {
    }

    /** An HTTP/1.1 POST of {@code message} as one uncompressed gRPC message (shorter than 256 bytes). */
    static String request(String path, String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        String framed = "\0\0\0\0" + (char) m.length + message; // uncompressed, 4-byte length (< 256 here)
        return "POST " + path + " HTTP/1.1\r\nHost: grpc.test\r\nContent-Type: application/grpc\r\nTE: trailers\r\n"
                + "Content-Length: " + framed.length() + "\r\n\r\n" + framed;
    }
}
