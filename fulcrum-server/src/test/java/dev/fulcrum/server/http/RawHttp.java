package dev.fulcrum.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A raw-socket HTTP client for what java.net.http will not send (hop-by-hop headers, oversized or
 * malformed heads) and for watching a connection close. Reads responses until the server closes.
 */
final class RawHttp implements AutoCloseable {

    final Socket socket;

    RawHttp(int port, int timeoutMs) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(timeoutMs);
    }

    RawHttp send(String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    /** Everything until the server closes the connection. */
    String readUntilClose() throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    /**
     * One response: its head and its body, framed by Content-Length or chunked (a response to HEAD,
     * or a 1xx/204/304, has none when {@code bodyless}). Leaves the connection open for the next.
     */
    String readResponse(boolean bodyless) throws IOException {
        InputStream in = socket.getInputStream();
        String head = readThrough(in, "\r\n\r\n");
        StringBuilder all = new StringBuilder(head);
        java.util.regex.Matcher cl = java.util.regex.Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(head);
        if (bodyless) {
            return all.toString();
        }
        if (cl.find()) {
            byte[] body = in.readNBytes(Integer.parseInt(cl.group(1)));
            all.append(new String(body, StandardCharsets.ISO_8859_1));
        } else if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
            while (true) {
                String size = readThrough(in, "\r\n");
                all.append(size);
                int n = Integer.parseInt(size.strip(), 16);
                if (n == 0) {
                    String trailer;
                    do { // trailer lines through the blank line
                        trailer = readThrough(in, "\r\n");
                        all.append(trailer);
                    } while (!trailer.equals("\r\n"));
                    break;
                }
                all.append(new String(in.readNBytes(n + 2), StandardCharsets.ISO_8859_1));
            }
        }
        return all.toString();
    }

    private static String readThrough(InputStream in, String end) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            b.append((char) c);
            if (b.length() >= end.length() && b.lastIndexOf(end) == b.length() - end.length()) {
                return b.toString();
            }
        }
        throw new java.io.EOFException("connection closed after: " + b);
    }

    /** True when the server closed the connection (EOF) before the socket timeout. */
    boolean closedByServer() throws IOException {
        try {
            return socket.getInputStream().read() < 0;
        } catch (java.net.SocketException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
