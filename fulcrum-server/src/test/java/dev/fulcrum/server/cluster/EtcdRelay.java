package dev.fulcrum.server.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A TCP relay on loopback between one node and one etcd member (the node's only endpoint), which
 * forwards every byte both ways until told to lose the network at the worst moment of a write:
 * when the node's request bytes carry {@code marker} (a server's JSON entry, which only the
 * write's transaction holds, not the reads before it). Then either
 * <ul>
 * <li>{@link #withholdAnswersAfter}: the request goes on to etcd, which commits it, but nothing
 *     etcd sends reaches the node any more — the write landed, and its answer is lost; or</li>
 * <li>{@link #withholdRequestAt}: the request and everything after it stay here — the write never
 *     reaches etcd, as long as {@link #cut()} drops them.</li>
 * </ul>
 * Either way the node's transaction passes its deadline without an answer: outcome unknown.
 * {@link #resume()} delivers what was held; {@link #cut()} closes every connection and drops it,
 * after which new connections are relayed as before. gRPC's frames travel as they are (h2c, no
 * compression), so the marker's bytes appear in the request unchanged.
 *
 * <p>Thread-safe: two threads per connection pump bytes; the test thread switches the modes.
 */
final class EtcdRelay implements AutoCloseable {

    private enum Mode { FORWARD, WITHHOLD_ANSWERS, WITHHOLD_REQUESTS }

    private final ServerSocket server;
    private final InetSocketAddress etcd;
    private final List<Socket> sockets = new ArrayList<>();
    private byte[] marker;
    private Mode armed = Mode.FORWARD;
    /** What happens now: FORWARD until the marker went by with a mode armed. */
    private Mode mode = Mode.FORWARD;
    private boolean closed;

    private EtcdRelay(ServerSocket server, InetSocketAddress etcd) {
        this.server = server;
        this.etcd = etcd;
    }

    /** A relay to the etcd member at {@code endpoint} ({@code http://127.0.0.1:PORT}). */
    static EtcdRelay to(String endpoint) throws IOException {
        java.net.URI uri = java.net.URI.create(endpoint);
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        EtcdRelay relay = new EtcdRelay(server, new InetSocketAddress(uri.getHost(), uri.getPort()));
        Thread.ofVirtual().name("etcd-relay-accept").start(relay::accept);
        return relay;
    }

    /** The URL a node's {@code cluster.etcd} names. */
    String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** Once a request carrying {@code marker} went through, etcd's answers stop reaching the node. */
    synchronized void withholdAnswersAfter(String marker) {
        arm(Mode.WITHHOLD_ANSWERS, marker);
    }

    /** The request carrying {@code marker}, and all that follow it, are held here (not sent to etcd). */
    synchronized void withholdRequestAt(String marker) {
        arm(Mode.WITHHOLD_REQUESTS, marker);
    }

    private void arm(Mode m, String text) {
        this.marker = text.getBytes(StandardCharsets.UTF_8);
        this.armed = m;
    }

    /** Whether the marker went by and bytes are being held. */
    synchronized boolean withholding() {
        return mode != Mode.FORWARD;
    }

    /** Delivers what was held, and forwards again. */
    synchronized void resume() {
        mode = Mode.FORWARD;
        armed = Mode.FORWARD;
        notifyAll();
    }

    /** Closes every relayed connection, dropping what was held; new ones are relayed as before. */
    synchronized void cut() {
        // closed before the held pumps wake: what they hold cannot be written any more
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
        mode = Mode.FORWARD;
        armed = Mode.FORWARD;
        notifyAll();
    }

    private void accept() {
        while (true) {
            Socket node;
            try {
                node = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Socket member = new Socket();
            try {
                member.connect(etcd, 2_000);
            } catch (IOException e) {
                closeQuietly(node);
                continue;
            }
            synchronized (this) {
                if (closed) {
                    closeQuietly(node);
                    closeQuietly(member);
                    return;
                }
                sockets.add(node);
                sockets.add(member);
            }
            Thread.ofVirtual().name("etcd-relay-request").start(() -> pump(node, member, true));
            Thread.ofVirtual().name("etcd-relay-answer").start(() -> pump(member, node, false));
        }
    }

    /** Copies {@code from} to {@code to}; the request direction looks for the marker, and either waits while held. */
    private void pump(Socket from, Socket to, boolean request) {
        byte[] buffer = new byte[16 * 1024];
        byte[] tail = new byte[0]; // the end of the last chunk, for a marker split between two reads
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                if (request) {
                    byte[] window = concat(tail, buffer, n);
                    synchronized (this) {
                        if (armed != Mode.FORWARD && contains(window, marker)) {
                            mode = armed; // before the bytes go on: etcd's answer cannot overtake it
                            armed = Mode.FORWARD;
                        }
                    }
                    tail = Arrays.copyOfRange(window, Math.max(0, window.length - 256), window.length);
                }
                awaitForwarding(request ? Mode.WITHHOLD_REQUESTS : Mode.WITHHOLD_ANSWERS);
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // a side closed or the relay was cut: the other pump ends too
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private synchronized void awaitForwarding(Mode holding) throws InterruptedException {
        while (mode == holding && !closed) {
            wait();
        }
    }

    private static byte[] concat(byte[] a, byte[] b, int bLength) {
        byte[] out = Arrays.copyOf(a, a.length + bLength);
        System.arraycopy(b, 0, out, a.length, bLength);
        return out;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        server.close();
        cut();
    }
}
