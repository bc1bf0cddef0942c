package dev.fulcrum.server.http;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeoutException;

/**
 * A raw-socket HTTP/1.1 client that pipelines {@code GET} requests on ONE connection, so that the
 * proxy always finds the next request waiting: it sends them in batches, keeping about two batches
 * in flight, and reads the answers as they come (Content-Length framed, the only framing it
 * knows). It keeps counts, not answers: its memory is flat however many requests it sends.
 *
 * <p>Bounded by the count asked for and by a deadline; one thread at a time.
 */
final class PipeliningClient implements AutoCloseable {

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};
    private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(StandardCharsets.US_ASCII);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] batch;
    private final int requestLength;
    private final int batchSize;
    /** Bytes read and not yet parsed: {@code buf[start, end)}. */
    private final byte[] buf = new byte[1 << 16];
    private int start;
    private int end;
    private long ok;
    private String firstOther;

    /** @param request the bytes of one request, sent {@code batchSize} at a time */
    PipeliningClient(int port, String request, int batchSize, int readTimeoutMs) throws IOException {
        this.socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(readTimeoutMs);
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        byte[] one = request.getBytes(StandardCharsets.US_ASCII);
        this.requestLength = one.length;
        this.batchSize = batchSize;
        this.batch = new byte[one.length * batchSize];
        for (int i = 0; i < batchSize; i++) {
            System.arraycopy(one, 0, batch, i * one.length, one.length);
        }
    }

    /** Answers with status 200 so far. */
    long ok() {
        return ok;
    }

    /** The status line of the first answer that was not 200, or null. */
    String firstOther() {
        return firstOther;
    }

    /**
     * Sends {@code count} requests and reads their answers.
     *
     * @throws TimeoutException when {@code deadlineNanos} ({@link System#nanoTime()}) passes first
     */
    void run(long count, long deadlineNanos) throws IOException, TimeoutException {
        long sent = 0;
        for (long answered = 0; answered < count; answered++) {
            if (sent < count && sent - answered <= batchSize) {
                int n = (int) Math.min(batchSize, count - sent);
                out.write(batch, 0, n * requestLength);
                out.flush();
                sent += n;
            }
            if (answered % batchSize == 0 && System.nanoTime() - deadlineNanos > 0) {
                throw new TimeoutException(answered + " of " + count + " answered before the deadline");
            }
            readAnswer();
        }
    }

    private void readAnswer() throws IOException {
        int headEnd;
        while ((headEnd = indexOf(CRLF_CRLF, start, end)) < 0) {
            fill();
        }
        String statusLine = new String(buf, start, Math.min(12, headEnd - start), StandardCharsets.US_ASCII);
        if (statusLine.equals("HTTP/1.1 200")) {
            ok++;
        } else if (firstOther == null) {
            firstOther = new String(buf, start, headEnd - start, StandardCharsets.ISO_8859_1);
        }
        int total = headEnd + CRLF_CRLF.length - start + contentLength(start, headEnd);
        while (end - start < total) {
            fill();
        }
        start += total;
    }

    /** The Content-Length of the head in {@code buf[from, to)}; 0 when absent. */
    private int contentLength(int from, int to) {
        // every line of the head, the last one included, ends with the CRLF at or before `to`
        for (int line = from; line < to; line = indexOf(CRLF, line, to + CRLF.length) + CRLF.length) {
            if (startsWithIgnoreCase(line, CONTENT_LENGTH)) {
                int value = 0;
                for (int i = line + CONTENT_LENGTH.length; i < to && buf[i] != '\r'; i++) {
                    if (buf[i] >= '0' && buf[i] <= '9') {
                        value = value * 10 + buf[i] - '0';
                    }
                }
                return value;
            }
        }
        return 0;
    }

    private boolean startsWithIgnoreCase(int at, byte[] lowerCase) {
        for (int i = 0; i < lowerCase.length; i++) {
            if (at + i >= end || Character.toLowerCase(buf[at + i]) != lowerCase[i]) {
                return false;
            }
        }
        return true;
    }

    /** Where {@code pattern} starts in {@code buf[from, to)}, or -1. */
    private int indexOf(byte[] pattern, int from, int to) {
        for (int i = from; i + pattern.length <= to; i++) {
            int j = 0;
            while (j < pattern.length && buf[i + j] == pattern[j]) {
                j++;
            }
            if (j == pattern.length) {
                return i;
            }
        }
        return -1;
    }

    private void fill() throws IOException {
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buf.length) {
            throw new IOException("an answer longer than " + buf.length + " bytes");
        }
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) {
            throw new EOFException("the proxy closed the connection after " + ok + " answers of 200");
        }
        end += n;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
