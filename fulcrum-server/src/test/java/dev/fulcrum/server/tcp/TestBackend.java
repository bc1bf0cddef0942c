package dev.fulcrum.server.tcp;

import dev.fulcrum.core.HostPort;

import dev.fulcrum.server.testing.Loopback;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A blocking test server on 127.0.0.1, one virtual thread per connection. */
final class TestBackend implements AutoCloseable {

    interface Behaviour {
        void serve(Socket socket) throws IOException;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    private TestBackend(Behaviour behaviour) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.submit(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    threads.submit(() -> {
                        try (socket) {
                            behaviour.serve(socket);
                        } catch (IOException ignored) {
                            // the client went away; nothing to check here
                        }
                        return null;
                    });
                } catch (IOException e) {
                    return null;
                }
            }
            return null;
        });
    }

    /** Echoes every byte back; closes after the client's EOF. */
    static TestBackend echo() throws IOException {
        return new TestBackend(socket -> {
            socket.getInputStream().transferTo(socket.getOutputStream());
            socket.shutdownOutput();
        });
    }

    /** Reads until the client's EOF, then answers "got N bytes" and closes. */
    static TestBackend replyAfterEof() throws IOException {
        return new TestBackend(socket -> {
            long n = socket.getInputStream().transferTo(OutputStream.nullOutputStream());
            socket.getOutputStream().write(("got " + n + " bytes").getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
        });
    }

    /** Sends {@code banner}, shuts its output down, then counts what the client sends until EOF. */
    static TestBackend bannerThenCount(String banner, java.util.concurrent.CompletableFuture<Long> counted)
            throws IOException {
        return new TestBackend(socket -> {
            socket.getOutputStream().write(banner.getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            counted.complete(socket.getInputStream().transferTo(OutputStream.nullOutputStream()));
        });
    }

    /** Reads nothing until {@code go} opens, then discards everything until EOF. */
    static TestBackend stalled(java.util.concurrent.CountDownLatch go) throws IOException {
        return new TestBackend(socket -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            socket.getInputStream().transferTo(OutputStream.nullOutputStream());
        });
    }

    HostPort address() {
        return new HostPort("127.0.0.1", server.getLocalPort());
    }

    /** A loopback address where nothing listens (a port just freed). */
    static HostPort deadAddress() throws IOException {
        return new HostPort("127.0.0.1", Loopback.freePort());
    }

    static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
