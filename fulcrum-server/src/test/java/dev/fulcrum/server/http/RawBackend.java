package dev.fulcrum.server.http;

import dev.fulcrum.core.HostPort;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server of raw bytes on 127.0.0.1 for the smuggling and poisoning tests: it records exactly what
 * each connection sent, and answers each request with whatever bytes its responder returns for that
 * request's head — valid or not, framed or not. It frames requests the way a typical lenient server
 * does (Content-Length, else chunked, else no body), so a head that reaches it without its framing
 * shows: the body is then read as the next request, and {@link #heads()} says so.
 */
final class RawBackend implements AutoCloseable {

    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:[ \\t]*(\\d+)[ \\t]*$");
    private static final Pattern CHUNKED = Pattern.compile("(?im)^transfer-encoding:.*chunked");

    /** A responder: answers each request with its own path as the body. */
    static String echoPath(String head) {
        String path = head.split(" ", 3)[1];
        return "HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path;
    }

    /** In a response: write what comes before, wait 200 ms, then write the rest. */
    static final String PAUSE = "<pause>";

    private final java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
    private final ServerSocket socket;
    /** Answers {@code Expect: 100-continue} with a 100 after this long; 0 = never sends a 100. */
    volatile long continueDelayMillis;
    private final Function<String, String> responder;
    private final List<ByteArrayOutputStream> connections = new CopyOnWriteArrayList<>();
    private final List<String> heads = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    /** @param responder the raw response (ISO-8859-1 text) to a request's head; null = close the connection */
    RawBackend(Function<String, String> responder) throws IOException {
        this.responder = responder;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("raw-backend-accept").start(this::acceptLoop);
    }

    HostPort address() {
        return new HostPort("127.0.0.1", socket.getLocalPort());
    }

    /** Responses written in full (both parts of a paused one). */
    int answered() {
        return answered.get();
    }

    /** Connections the proxy has not closed yet. */
    int openConnections() {
        return open.size();
    }

    int connectionsAccepted() {
        return connections.size();
    }

    /** Every request head received, in order, across connections. */
    List<String> heads() {
        return List.copyOf(heads);
    }

    /** The exact bytes connection {@code i} (in accept order) sent. */
    String received(int i) {
        synchronized (connections.get(i)) {
            return connections.get(i).toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** The exact bytes all connections sent, one after the other. */
    String received() {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < connections.size(); i++) {
            all.append(received(i));
        }
        return all.toString();
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                ByteArrayOutputStream record = new ByteArrayOutputStream();
                connections.add(record);
                open.add(s);
                Thread.ofVirtual().name("raw-backend-conn").start(() -> serve(s, record));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s, ByteArrayOutputStream record) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            Reader reader = new Reader(in, record);
            while (true) {
                String head = reader.head();
                if (head == null) {
                    return;
                }
                heads.add(head);
                if (continueDelayMillis > 0 && head.toLowerCase(Locale.ROOT).contains("expect: 100-continue")) {
                    Thread.sleep(continueDelayMillis); // a slow server: the client rightly holds its body
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
                reader.body(head);
                String response = responder.apply(head);
                if (response == null) {
                    return;
                }
                // PAUSE splits the answer into two writes 200 ms apart: bytes that come after the response
                String[] parts = response.split(PAUSE, 2);
                out.write(parts[0].getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (parts.length > 1) {
                    Thread.sleep(200);
                    out.write(parts[1].getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
                answered.incrementAndGet();
            }
        } catch (IOException | InterruptedException e) {
            // the proxy closed the connection
        } finally {
            open.remove(s);
        }
    }

    /** Reads heads and bodies off one connection, recording every byte. */
    private static final class Reader {
        private final InputStream in;
        private final ByteArrayOutputStream record;

        Reader(InputStream in, ByteArrayOutputStream record) {
            this.in = in;
            this.record = record;
        }

        private int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                synchronized (record) {
                    record.write(b);
                }
            }
            return b;
        }

        /** The next head through its blank line, or null at the end of the stream. */
        String head() throws IOException {
            return line("\r\n\r\n");
        }

        private String line(String end) throws IOException {
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = read()) >= 0) {
                b.append((char) c);
                if (b.length() >= end.length() && b.lastIndexOf(end) == b.length() - end.length()) {
                    return b.toString();
                }
            }
            return null;
        }

        void body(String head) throws IOException {
            Matcher cl = CONTENT_LENGTH.matcher(head);
            if (cl.find()) {
                long n = Long.parseLong(cl.group(1));
                for (long i = 0; i < n && read() >= 0; i++) {
                    // recorded
                }
            } else if (CHUNKED.matcher(head).find()) {
                while (true) {
                    String sizeLine = line("\r\n");
                    if (sizeLine == null) {
                        return;
                    }
                    int size = Integer.parseInt(sizeLine.strip().split(";")[0].toLowerCase(Locale.ROOT), 16);
                    if (size == 0) {
                        String trailer;
                        do { // trailer lines through the blank line
                            trailer = line("\r\n");
                        } while (trailer != null && !trailer.equals("\r\n"));
                        return;
                    }
                    for (int i = 0; i < size + 2; i++) {
                        read();
                    }
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket s : new ArrayList<>(open)) {
            s.close();
        }
    }
}
