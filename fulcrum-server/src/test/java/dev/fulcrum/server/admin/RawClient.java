package dev.fulcrum.server.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * One raw TCP connection to the admin API, for what an HTTP client library will not send: any
 * {@code Host}, a half-sent head, a {@code Content-Length} without the body. Reads with a socket
 * timeout, so no read blocks a test for ever. Not thread-safe.
 */
final class RawClient implements AutoCloseable {

    /** A response as read off the wire. */
    record Response(int status, String head, String body) {
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    RawClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads one response (head, and a body of its Content-Length); fails when the server closed first. */
    Response read() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before a response head; got " + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(text.substring(9, 12));
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        return new Response(status, text, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }

    /** True when the server has closed the connection (end of stream or reset), reading and dropping what comes. */
    boolean closedByServer() throws IOException {
        int before = socket.getSoTimeout();
        socket.setSoTimeout(50);
        try {
            byte[] buf = new byte[8192];
            while (true) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        } finally {
            socket.setSoTimeout(before);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
