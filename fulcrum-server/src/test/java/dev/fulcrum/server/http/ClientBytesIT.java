package dev.fulcrum.server.http;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code fulcrum_bytes_total} of a plain-text listener is what the client's socket sent and
 * received, byte for byte: no handler counts there, the decoder, the writer, Fulcrum's own answers
 * and a tunnel's relays do. A raw socket counts its side: keep-alive requests (a Content-Length and
 * a chunked response), an error answer, a WebSocket tunnel; and, with TLS, the records.
 */
class ClientBytesIT {

    private static final Duration BOUND = Duration.ofSeconds(5);

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    private ProxyFixture proxyTo(TestBackend backend) throws Exception {
        closer.add(backend);
        return closer.add(new ProxyFixture().servers(backend)).start();
    }

    @Test
    void keepAliveRequestsCountWhatTheClientSentAndReceived() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        try (CountingClient client = new CountingClient(proxy.port)) {
            for (String path : new String[] {"/bytes?n=5000", "/chunked?n=70000", "/"}) {
                client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\nUser-Agent: bytes\r\n\r\n");
                assertThat(client.readResponse()).startsWith("HTTP/1.1 200");
            }
            assertCounted(proxy, client);
        }
    }

    @Test
    void anErrorAnswerCountsWhatTheClientSentAndReceived() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.start("a"));
        try (CountingClient client = new CountingClient(proxy.port)) {
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.readResponse()).startsWith("HTTP/1.1 200");
            client.send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
            String refused = client.readResponse();
            assertThat(refused).startsWith("HTTP/1.1 400");
            client.readToEnd();
            assertCounted(proxy, client);
        }
    }

    @Test
    void aWebSocketTunnelCountsWhatTheClientSentAndReceived() throws Exception {
        ProxyFixture proxy = proxyTo(TestBackend.webSocket("ws"));
        try (CountingClient client = new CountingClient(proxy.port)) {
            client.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            assertThat(client.readHead()).startsWith("HTTP/1.1 101");
            client.send(maskedFrame(0x81, "hello".getBytes(StandardCharsets.US_ASCII)));
            byte[] echo = client.readBytes(2 + "echo hello".length());
            assertThat(new String(echo, 2, echo.length - 2, StandardCharsets.US_ASCII)).isEqualTo("echo hello");
            client.send(maskedFrame(0x88, new byte[] {0x03, (byte) 0xe8})); // close, 1000
            client.readToEnd(); // the server's close frame, then the end of the tunnel
            assertCounted(proxy, client);
        }
    }

    /**
     * With TLS the counting handler stays before the SslHandler: the records count, handshake
     * included, and nothing behind it counts the plain bytes a second time.
     */
    @Test
    void aTlsListenerCountsTheRecordsOnTheWire(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost")
                .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).isZero();
        TestBackend backend = closer.add(TestBackend.start("a"));
        ProxyFixture proxy = closer.add(new ProxyFixture().servers(backend));
        proxy.tls = new FulcrumConfig.Tls(cert, key);
        proxy.start();
        CountingSocket wire = new CountingSocket();
        wire.connect(new InetSocketAddress("127.0.0.1", proxy.port), 2000);
        SSLSocket tls = (SSLSocket) TestCertificates.trustingClient(null).getSocketFactory()
                .createSocket(wire, "127.0.0.1", proxy.port, true);
        try (CountingClient client = new CountingClient(tls)) {
            client.send("GET /bytes?n=20000 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.readResponse()).startsWith("HTTP/1.1 200");
            assertThat(wire.sent.get()).as("TLS adds its records to the plain bytes").isGreaterThan(client.sent);
            ProxyStats stats = proxy.listener.stats();
            await().atMost(BOUND).untilAsserted(() -> {
                assertThat(stats.bytesIn()).as("bytes in").isEqualTo(wire.sent.get());
                assertThat(stats.bytesOut()).as("bytes out").isEqualTo(wire.received.get());
            });
        }
    }

    /** Counting happens as bytes are read and written, so it may trail the client by a moment. */
    private static void assertCounted(ProxyFixture proxy, CountingClient client) {
        ProxyStats stats = proxy.listener.stats();
        await().atMost(BOUND).untilAsserted(() -> {
            assertThat(stats.bytesIn()).as("bytes in").isEqualTo(client.sent);
            assertThat(stats.bytesOut()).as("bytes out").isEqualTo(client.received);
        });
    }

    /** A socket that counts the bytes under the TLS layered on it: what goes on the wire. */
    private static final class CountingSocket extends Socket {

        final AtomicLong sent = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        private InputStream in;
        private OutputStream out;

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                in = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) {
                            received.incrementAndGet();
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) {
                            received.addAndGet(n);
                        }
                        return n;
                    }
                };
            }
            return in;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (out == null) {
                OutputStream raw = super.getOutputStream();
                out = new FilterOutputStream(raw) {
                    @Override
                    public void write(int b) throws IOException {
                        raw.write(b);
                        sent.incrementAndGet();
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        raw.write(b, off, len);
                        sent.addAndGet(len);
                    }
                };
            }
            return out;
        }
    }

    /** One client-to-server WebSocket frame (masked, as a client must) of fewer than 126 bytes. */
    private static byte[] maskedFrame(int first, byte[] payload) {
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        byte[] frame = new byte[2 + 4 + payload.length];
        frame[0] = (byte) first;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** A raw HTTP/1.1 client that counts every byte it sends and receives. */
    private static final class CountingClient implements AutoCloseable {

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        long sent;
        long received;

        CountingClient(int port) throws IOException {
            this(plain(port));
        }

        /** Over {@code socket}, connected (a TLS socket: the bytes counted here are the plain ones). */
        CountingClient(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(5000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        private static Socket plain(int port) throws IOException {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return socket;
        }

        void send(String text) throws IOException {
            send(text.getBytes(StandardCharsets.US_ASCII));
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
            sent += bytes.length;
        }

        private int read() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed early");
            }
            received++;
            return b;
        }

        byte[] readBytes(int n) throws IOException {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) read();
            }
            return b;
        }

        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = read()) != '\n') {
                line.write(b);
            }
            return line.toString(StandardCharsets.ISO_8859_1).stripTrailing();
        }

        /** The head up to and with its blank line. */
        String readHead() throws IOException {
            StringBuilder head = new StringBuilder();
            String line;
            while (!(line = readLine()).isEmpty()) {
                head.append(line).append('\n');
            }
            return head.toString();
        }

        /** One response, its body framed by Content-Length or chunked (without trailers); returns its head. */
        String readResponse() throws IOException {
            String head = readHead();
            String lower = head.toLowerCase(Locale.ROOT);
            if (lower.contains("transfer-encoding: chunked")) {
                long size;
                do {
                    size = Long.parseLong(readLine(), 16);
                    readBytes((int) size);
                    assertThat(readLine()).isEmpty();
                } while (size > 0);
            } else {
                int at = lower.indexOf("content-length: ");
                if (at >= 0) {
                    readBytes(Integer.parseInt(lower.substring(at + 16, lower.indexOf('\n', at)).strip()));
                }
            }
            return head;
        }

        void readToEnd() throws IOException {
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) >= 0) {
                received += n;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
