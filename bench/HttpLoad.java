import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * HTTP/1.1 load that wrk cannot make, for bench/run.sh. Run with {@code java bench/HttpLoad.java}.
 *
 * <pre>
 * paced HOST PORT PATH RATE SECONDS CONNECTIONS WARMUP_SECONDS
 *     RATE requests per second on a fixed schedule, spread over CONNECTIONS keep-alive
 *     connections (connection k sends request i at start + (i * CONNECTIONS + k) / RATE), for
 *     WARMUP_SECONDS unmeasured (this JVM's own JIT) and then SECONDS measured. Latency is counted from the scheduled send time, not from when the request could
 *     be sent: a stall delays the requests queued behind it and they count it (no coordinated
 *     omission, as in wrk2). Prints one line:
 *     "requests N errors E rate R p50 A p99 B p99.9 C p99.99 D max M" (latencies in ms).
 * idle HOST PORT PATH CONNECTIONS HOLD_SECONDS
 *     Opens CONNECTIONS keep-alive connections one after another, makes one request on each and
 *     reads the response, prints "ready N" (N: connections that got a 200), then holds them all
 *     open, idle, for HOLD_SECONDS (or until killed) and exits.
 * </pre>
 *
 * Responses must carry Content-Length (the bench's backends serve static files). Bounded: every
 * socket read times out after 5 s, a paced run stops at SECONDS + 5 s whatever happens.
 */
public final class HttpLoad {

    private static final int TIMEOUT_MS = 5000;

    public static void main(String[] args) throws Exception {
        if (args.length == 8 && args[0].equals("paced")) {
            paced(args[1], Integer.parseInt(args[2]), args[3], Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]), Integer.parseInt(args[7]));
        } else if (args.length == 6 && args[0].equals("idle")) {
            idle(args[1], Integer.parseInt(args[2]), args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        } else {
            System.err.println("usage: HttpLoad paced HOST PORT PATH RATE SECONDS CONNECTIONS WARMUP_SECONDS"
                    + " | idle HOST PORT PATH CONNECTIONS HOLD_SECONDS");
            System.exit(2);
        }
    }

    /** One keep-alive connection: sends a request, reads one Content-Length response. */
    private static final class Conn implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;
        private final byte[] request;
        private final byte[] buf = new byte[64 * 1024];
        private int start;
        private int end;

        Conn(String host, int port, String path) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            out = socket.getOutputStream();
            in = socket.getInputStream();
            request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nUser-Agent: fulcrum-bench\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        }

        /** Sends the request and reads the response; returns its status code. */
        int exchange() throws IOException {
            out.write(request);
            out.flush();
            int headEnd;
            while ((headEnd = find()) < 0) {
                fill();
            }
            String head = new String(buf, start, headEnd - start, StandardCharsets.ISO_8859_1);
            int status = Integer.parseInt(head.substring(9, 12));
            long length = -1;
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                    length = Long.parseLong(line.substring(colon + 1).trim());
                }
            }
            if (length < 0) {
                throw new IOException("response without Content-Length");
            }
            start = headEnd + 4;
            while (length > 0) {
                if (start == end) {
                    fill();
                }
                int n = (int) Math.min(length, end - start);
                start += n;
                length -= n;
            }
            return status;
        }

        /** Index of the CRLFCRLF that ends the head in the buffer, or -1. */
        private int find() {
            for (int i = start; i + 3 < end; i++) {
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }

        private void fill() throws IOException {
            if (start == end) {
                start = end = 0;
            } else if (end == buf.length) {
                if (start == 0) {
                    throw new IOException("response head over " + buf.length + " bytes");
                }
                System.arraycopy(buf, start, buf, 0, end - start);
                end -= start;
                start = 0;
            }
            int n = in.read(buf, end, buf.length - end);
            if (n < 0) {
                throw new IOException("connection closed");
            }
            end += n;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void paced(String host, int port, String path, int rate, int seconds, int connections,
            int warmupSeconds) throws InterruptedException {
        if (rate < 1 || seconds < 1 || connections < 1 || warmupSeconds < 0
                || (long) rate * (seconds + warmupSeconds) > 10_000_000) {
            throw new IllegalArgumentException("RATE, SECONDS, CONNECTIONS >= 1 and RATE * SECONDS <= 10M");
        }
        long total = (long) rate * (seconds + warmupSeconds);
        long warmupNanos = warmupSeconds * 1_000_000_000L;
        double intervalNanos = 1e9 / rate;
        AtomicLong errors = new AtomicLong();
        long[][] latencies = new long[connections][];
        int[] counts = new int[connections];
        List<Thread> threads = new ArrayList<>();
        long begin = System.nanoTime() + 200_000_000L; // time for every thread to connect first
        long deadline = begin + (warmupSeconds + seconds + 5) * 1_000_000_000L;
        for (int k = 0; k < connections; k++) {
            int conn = k;
            int mine = (int) ((total - conn + connections - 1) / connections);
            latencies[conn] = new long[Math.max(mine, 0)];
            threads.add(Thread.ofPlatform().name("paced-" + k).start(() -> {
                Conn c = null;
                for (int i = 0; i < mine; i++) {
                    long offset = (long) (((long) i * connections + conn) * intervalNanos);
                    long scheduled = begin + offset;
                    long now;
                    while ((now = System.nanoTime()) < scheduled) {
                        LockSupport.parkNanos(scheduled - now);
                    }
                    if (now > deadline) {
                        errors.addAndGet(mine - i); // never sent: the target fell far behind
                        break;
                    }
                    try {
                        if (c == null) {
                            c = new Conn(host, port, path);
                        }
                        boolean ok = c.exchange() == 200;
                        if (offset >= warmupNanos) {
                            latencies[conn][counts[conn]++] = System.nanoTime() - scheduled;
                            if (!ok) {
                                errors.incrementAndGet();
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        if (offset >= warmupNanos) {
                            errors.incrementAndGet();
                        }
                        closeQuietly(c);
                        c = null; // reconnect for the next one
                    }
                }
                closeQuietly(c);
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - begin - warmupNanos) / 1e9;
        int n = 0;
        for (int c : counts) {
            n += c;
        }
        long[] all = new long[n];
        int at = 0;
        for (int k = 0; k < connections; k++) {
            System.arraycopy(latencies[k], 0, all, at, counts[k]);
            at += counts[k];
        }
        Arrays.sort(all);
        System.out.printf("requests %d errors %d rate %.0f p50 %.3f p99 %.3f p99.9 %.3f p99.99 %.3f max %.3f%n",
                n, errors.get(), n / elapsed, pct(all, 50), pct(all, 99), pct(all, 99.9), pct(all, 99.99),
                n == 0 ? Double.NaN : all[n - 1] / 1e6);
    }

    /** The p-th percentile of sorted nanoseconds, in ms (nearest rank). */
    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1] / 1e6;
    }

    private static void idle(String host, int port, String path, int connections, int holdSeconds)
            throws InterruptedException {
        List<Conn> open = new ArrayList<>(connections);
        int ok = 0;
        int failed = 0;
        for (int i = 0; i < connections && failed < 20; i++) {
            try {
                Conn c = new Conn(host, port, path);
                open.add(c);
                if (c.exchange() == 200) {
                    ok++;
                }
            } catch (IOException | RuntimeException e) {
                failed++; // 20 failures end the opening: the target holds no more, or is gone
                System.err.println("idle: connection " + i + ": " + e);
            }
        }
        System.out.println("ready " + ok);
        System.out.flush();
        Thread.sleep(holdSeconds * 1000L);
        open.forEach(HttpLoad::closeQuietly);
    }

    private static void closeQuietly(Conn c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing: nothing to do
            }
        }
    }
}
