package dev.fulcrum.server.cluster;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A program (JDK only) that a test runs inside a client namespace ({@code ip netns exec CLIENT
 * java -cp TEST_CLASSES dev.fulcrum.server.cluster.FlowClient HOST PORT}) to hold many keep-alive
 * HTTP/1.1 connections — many TCP flows — open between commands the test sends on stdin:
 *
 * <ul>
 *   <li>{@code open N}: opens N new connections and sends {@code GET /} on each;
 *   <li>{@code again}: sends {@code GET /} once more on every connection still open;
 * </ul>
 *
 * one line per connection, {@code LOCALPORT STATUS BODY} or {@code LOCALPORT fail REASON} (0 when
 * it never connected), then {@code done}. A connection that failed is closed and not asked again.
 * End of stdin closes everything and exits. Each connect and each answer is bounded by
 * {@link #TIMEOUT_MS}; answers must be {@code Content-Length} framed (they are, from Fulcrum).
 */
public final class FlowClient {

    static final int TIMEOUT_MS = 3000;
    private static final int MAX_HEAD = 16 * 1024;
    private static final int MAX_BODY = 64 * 1024;
    private static final int PARALLEL = 16;

    private final InetSocketAddress target;
    private final String request;
    private final List<Socket> open = new ArrayList<>();

    private FlowClient(String host, int port) {
        this.target = new InetSocketAddress(host, port);
        this.request = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    public static void main(String[] args) throws Exception {
        FlowClient client = new FlowClient(args[0], Integer.parseInt(args[1]));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ExecutorService pool = Executors.newFixedThreadPool(PARALLEL)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] words = line.strip().split(" ");
                List<String> results = switch (words[0]) {
                    case "open" -> client.open(pool, Integer.parseInt(words[1]));
                    case "again" -> client.again(pool);
                    default -> List.of("0 fail unknown command " + words[0]);
                };
                results.forEach(out::println);
                out.println("done");
                out.flush();
            }
        } finally {
            client.closeAll();
        }
    }

    private List<String> open(ExecutorService pool, int count) throws Exception {
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            answers.add(pool.submit(() -> {
                Socket s = new Socket();
                try {
                    s.connect(target, TIMEOUT_MS);
                } catch (IOException e) {
                    s.close();
                    return "0 fail connect: " + e.getMessage();
                }
                s.setSoTimeout(TIMEOUT_MS);
                synchronized (open) {
                    open.add(s);
                }
                return exchange(s);
            }));
        }
        return collect(answers);
    }

    private List<String> again(ExecutorService pool) throws Exception {
        List<Socket> sockets;
        synchronized (open) {
            sockets = List.copyOf(open);
        }
        List<Future<String>> answers = new ArrayList<>();
        for (Socket s : sockets) {
            answers.add(pool.submit(() -> exchange(s)));
        }
        return collect(answers);
    }

    private static List<String> collect(List<Future<String>> answers) throws Exception {
        List<String> lines = new ArrayList<>();
        for (Future<String> f : answers) {
            lines.add(f.get());
        }
        return lines;
    }

    /** One request and its answer on {@code s}; a failure closes {@code s} and drops it. */
    private String exchange(Socket s) {
        int port = s.getLocalPort();
        try {
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = readHead(in);
            String[] lines = head.split("\r\n");
            String[] status = lines[0].split(" ", 3);
            if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP/1 status line: " + lines[0]);
            }
            int length = -1;
            for (String line : lines) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals("content-length")) {
                    length = Integer.parseInt(line.substring(colon + 1).strip());
                }
            }
            if (length < 0 || length > MAX_BODY) {
                throw new IOException("no usable Content-Length: " + length);
            }
            String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            return port + " " + Integer.parseInt(status[1]) + " " + body.strip().replace('\n', ' ');
        } catch (IOException | RuntimeException e) {
            drop(s);
            return port + " fail " + e;
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head.size() + " bytes of the answer");
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                throw new IOException("answer head over " + MAX_HEAD + " bytes");
            }
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private void drop(Socket s) {
        synchronized (open) {
            open.remove(s);
        }
        try {
            s.close();
        } catch (IOException e) {
            // already failed; nothing more to learn
        }
    }

    private void closeAll() {
        synchronized (open) {
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing at exit: the process ends anyway
                }
            }
            open.clear();
        }
    }
}
