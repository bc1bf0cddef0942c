package dev.fulcrum.server.testing;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A client loop for TLS tests: {@code threads} threads, each opening a new TLS connection to
 * 127.0.0.1:PORT (a full handshake: each has a client context of its own, so nothing resumes), sending one
 * {@code GET / HTTP/1.1} with {@code Connection: close}, reading the answer to the end, and
 * recording the serial of the certificate it got and when the handshake started. Anything else —
 * a failed connect or handshake, a status other than 200, an answer cut short — is a failure.
 *
 * <p>Bounded: stops after {@code maxHandshakes} in all or {@code maxTime}, whichever comes first,
 * or at {@link #close()}. Thread-safe.
 */
public final class HandshakeLoad implements AutoCloseable {

    /** One answered request on a new connection: when its handshake started (nanoTime) and the certificate's serial. */
    public record Handshake(long startedNanos, BigInteger serial) {
    }

    private static final int TIMEOUT_MILLIS = 5000;

    private final int port;
    private final Duration pause;
    private final int maxHandshakes;
    private final long deadlineNanos;
    private final ConcurrentLinkedQueue<Handshake> handshakes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong started = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    private HandshakeLoad(int port, Duration pause, int maxHandshakes, Duration maxTime) {
        this.port = port;
        this.pause = pause;
        this.maxHandshakes = maxHandshakes;
        this.deadlineNanos = System.nanoTime() + maxTime.toNanos();
    }

    public static HandshakeLoad start(int port, int threads, Duration pause, int maxHandshakes, Duration maxTime) {
        HandshakeLoad load = new HandshakeLoad(port, pause, maxHandshakes, maxTime);
        for (int i = 0; i < threads; i++) {
            load.threads.add(Thread.ofPlatform().daemon().name("handshake-load-" + i).start(load::run));
        }
        return load;
    }

    private void run() {
        while (!stopped && started.incrementAndGet() <= maxHandshakes && System.nanoTime() < deadlineNanos) {
            long startedNanos = System.nanoTime();
            // a context per connection: a resumed session would report the certificate of its first handshake
            try (SSLSocket socket = (SSLSocket) fullHandshakes().createSocket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
                socket.setSoTimeout(TIMEOUT_MILLIS);
                socket.startHandshake();
                BigInteger serial = ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: fulcrum\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                String answer = readAll(socket.getInputStream());
                if (!answer.startsWith("HTTP/1.1 200 ")) {
                    throw new IOException("answered " + answer.lines().findFirst().orElse("nothing"));
                }
                handshakes.add(new Handshake(startedNanos, serial));
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                if (!stopped) {
                    failures.add(e.toString());
                }
            }
            LockSupport.parkNanos(pause.toNanos());
        }
    }

    private static SSLSocketFactory fullHandshakes() throws GeneralSecurityException {
        return TestCertificates.trustingClient(null).getSocketFactory();
    }

    /** Reads until the proxy closes the connection, as it must after a {@code Connection: close} answer. */
    private static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Every answered handshake so far. */
    public List<Handshake> handshakes() {
        return List.copyOf(handshakes);
    }

    /** What went wrong, one line each; empty when every connection was answered. */
    public List<String> failures() {
        return List.copyOf(failures);
    }

    /** Stops the loop and waits for its threads (they end within the socket timeout). */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        for (Thread t : threads) {
            t.join(TimeUnit.MILLISECONDS.toMillis(TIMEOUT_MILLIS + 1000));
        }
    }
}
