package dev.fulcrum.server.log;

import dev.fulcrum.server.config.AccessLogConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * Where the access log's bytes go: a file opened for appending (so a file that logrotate copied
 * and truncated, or that another process appends to, stays whole), or standard output. Confined
 * to the writer thread.
 */
interface LogTarget extends AutoCloseable {

    /** Writes {@code bytes[0, length)} whole. */
    void write(byte[] bytes, int length) throws IOException;

    @Override
    void close() throws IOException;

    /** Opens the target of {@code config} (creates the file when it does not exist). */
    static LogTarget open(AccessLogConfig config) throws IOException {
        if (config.toStdout()) {
            return new Stdout(System.out);
        }
        FileChannel channel = FileChannel.open(config.file(), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        return new Appending(channel);
    }

    /** A file, by its channel. */
    record Appending(FileChannel channel) implements LogTarget {
        @Override
        public void write(byte[] bytes, int length) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(bytes, 0, length);
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * Standard output, through the {@link PrintStream} Fulcrum's own log writes to: one
     * {@code write} call holds the stream's lock, so a batch of lines and a log line never
     * interleave mid-line. Never closed: the process keeps its standard output.
     */
    record Stdout(PrintStream out) implements LogTarget {
        @Override
        public void write(byte[] bytes, int length) throws IOException {
            out.write(bytes, 0, length);
            out.flush();
            if (out.checkError()) {
                throw new IOException("standard output is closed or failed");
            }
        }

        @Override
        public void close() {
        }
    }
}
