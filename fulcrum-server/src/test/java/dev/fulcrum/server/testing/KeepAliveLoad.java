package dev.fulcrum.server.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;

/**
 * A client loop for tests: {@code connections} threads, each sending {@code GET /} over ONE
 * keep-alive HTTP/1.1 connection to 127.0.0.1:PORT, one request at a time, about every
 * {@code pause}. Every answer is recorded with the time its request was sent; anything else (a
 * refused connect, a connection closed under a request, a timeout, a body that is not
 * {@code Content-Length} framed) is a failure, after which that thread opens a new connection — so
 * {@link #connects()} above {@code connections} means a connection was lost.
 *
 * <p>Bounded: stops after {@code maxRequests} in all or {@code maxTime}, whichever comes first,
 * or at {@link #close()}. Thread-safe.
 */
public final class KeepAliveLoad implements AutoCloseable {

    /** One answered request: its connection, when it was sent and answered (nanoTime), status and body. */
    public record Exchange(int connection, long sentNanos, long answeredNanos, int status, String body) {
    }

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

    private final javax.net.SocketFactory sockets;
    private final int port;
    private final Duration pause;
    private final int maxRequests;
    private final long deadlineNanos;
    private final ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger connects = new AtomicInteger();
    private final AtomicLong sent = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    private KeepAliveLoad(javax.net.SocketFactory sockets, int port, Duration pause, int maxRequests, Duration maxTime) {
        this.sockets = sockets;
        this.port = port;
        this.pause = pause;
        this.maxRequests = maxRequests;
        this.deadlineNanos = System.nanoTime() + maxTime.toNanos();
    }

    /** Starts the loop; waits until every connection has had one answer or failure. */
    public static KeepAliveLoad start(int port, int connections, Duration pause, int maxRequests, Duration maxTime) {
        return start(javax.net.SocketFactory.getDefault(), port, connections, pause, maxRequests, maxTime);
    }

    /**
     * The same over sockets from {@code sockets}: an {@link javax.net.ssl.SSLSocketFactory} makes
     * it a TLS keep-alive load (each connection handshakes once, at its first request).
     */
    public static KeepAliveLoad start(javax.net.SocketFactory sockets, int port, int connections, Duration pause,
                                      int maxRequests, Duration maxTime) {
        KeepAliveLoad load = new KeepAliveLoad(sockets, port, pause, maxRequests, maxTime);
        for (int i = 0; i < connections; i++) {
            int connection = i;
            load.threads.add(Thread.ofPlatform().daemon().name("keep-alive-load-" + i)
                    .start(() -> load.run(connection)));
        }
        await("a first answer on every connection").atMost(Duration.ofSeconds(10))
                .until(() -> load.exchanges.size() + load.failures.size() >= connections);
        return load;
    }

    private void run(int connection) {
        while (running()) {
            try (Socket socket = sockets.createSocket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
                socket.setTcpNoDelay(true);
                connects.incrementAndGet();
                InputStream in = new BufferedInputStream(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                while (running()) {
                    sent.incrementAndGet();
                    long sentNanos = System.nanoTime();
                    out.write("GET / HTTP/1.1\r\nHost: fulcrum\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    exchanges.add(readResponse(in, connection, sentNanos));
                    LockSupport.parkNanos(pause.toNanos());
                }
            } catch (IOException e) {
                if (!stopped) {
                    failures.add("connection " + connection + ": " + e);
                    LockSupport.parkNanos(pause.toNanos());
                }
            }
        }
    }

    private boolean running() {
        return !stopped && sent.get() < maxRequests && System.nanoTime() < deadlineNanos;
    }

    private static Exchange readResponse(InputStream in, int connection, long sentNanos) throws IOException {
        String statusLine = line(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP status line: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            String lower = header.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(header.substring("content-length:".length()).strip());
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                throw new IOException("the proxy closes the connection (" + header + ")");
            }
        }
        if (length < 0) {
            throw new IOException("no Content-Length in the answer " + statusLine);
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
            throw new IOException("connection closed inside a body");
        }
        return new Exchange(connection, sentNanos, System.nanoTime(), status, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed by the proxy");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Every answer so far, in arrival order. */
    public List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    /** Answers to requests sent after {@code nanos} (a {@link System#nanoTime()}). */
    public List<Exchange> sentAfter(long nanos) {
        return exchanges.stream().filter(e -> e.sentNanos() - nanos > 0).toList();
    }

    /** Waits until some answer to a request sent after {@code nanos} matches; returns the first. */
    public Exchange awaitAnswer(long nanos, Predicate<Exchange> wanted, Duration bound) {
        return await("an answer matching after " + exchanges.size() + " answers").atMost(bound)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> sentAfter(nanos).stream().filter(wanted).findFirst().orElse(null),
                        e -> e != null);
    }

    /** Waits until at least {@code count} requests sent after {@code nanos} were answered. */
    public List<Exchange> awaitAnswers(long nanos, int count, Duration bound) {
        return await(count + " answers").atMost(bound).pollInterval(Duration.ofMillis(20))
                .until(() -> sentAfter(nanos), list -> list.size() >= count);
    }

    /** What went wrong, one line each; empty when every request was answered. */
    public List<String> failures() {
        return List.copyOf(failures);
    }

    /** Connections opened so far: the number of connections when none was lost. */
    public int connects() {
        return connects.get();
    }

    /** Stops the loop and waits for its threads (they end within the read timeout). */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(READ_TIMEOUT.toSeconds() + 1));
        }
    }
}
