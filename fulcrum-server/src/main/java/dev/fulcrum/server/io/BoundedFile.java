package dev.fulcrum.server.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads a small file that someone else wrote (the config file, a PEM certificate, a program's
 * output, a {@code /proc} table) without trusting its size: only a regular file is read, and never
 * more than {@code limit} bytes. {@code -c /dev/zero} or a 50 MB file is refused in one line
 * instead of filling the heap. Symbolic links are followed: what counts is the file they name.
 *
 * <p>The size is checked twice: from the file's attributes before reading (a cheap refusal of a
 * large file), and by reading at most {@code limit + 1} bytes, because a file can grow between the
 * two and {@code /proc} files report a size of 0. Stateless and thread-safe.
 */
public final class BoundedFile {

    /** 1 MiB: far more than any config file or PEM bundle Fulcrum reads. */
    public static final int ONE_MIB = 1 << 20;

    private BoundedFile() {
    }

    /** Why a file cannot be read within the bounds; its message is one line, e.g. "not a regular file". */
    public static final class RefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /**
     * The whole content of {@code file}.
     *
     * @throws RefusedException when it is not a regular file or has more than {@code limit} bytes
     * @throws IOException      when it cannot be read (no such file, permission denied...)
     */
    public static byte[] read(Path file, int limit) throws IOException {
        Optional<String> problem = problem(file, limit);
        if (problem.isPresent()) {
            throw new RefusedException(problem.get());
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw new RefusedException(tooLarge(limit));
            }
            return bytes;
        }
    }

    /**
     * What stops {@code file} from being read within {@code limit} bytes, judged from its attributes
     * (a directory, a device or pipe, too large), or empty when it looks fine; a missing file is
     * left to the read, which says so. Used where a path is validated before it is read.
     */
    public static Optional<String> problem(Path file, int limit) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        if (Files.isDirectory(file)) {
            return Optional.of("is a directory");
        }
        if (!Files.isRegularFile(file)) {
            return Optional.of("not a regular file (a device, pipe or socket)");
        }
        try {
            long size = Files.size(file);
            if (size > limit) {
                return Optional.of("is " + describe(size) + ", larger than the " + describe(limit) + " allowed");
            }
        } catch (IOException e) {
            return Optional.empty(); // the read that follows reports it
        }
        return Optional.empty();
    }

    private static String tooLarge(int limit) {
        return "larger than the " + describe(limit) + " allowed";
    }

    /** Bytes in the largest unit that keeps it whole-ish: "1 MiB", "50 MiB", "812 KiB", "17 bytes". */
    static String describe(long bytes) {
        if (bytes >= ONE_MIB) {
            return (bytes + ONE_MIB / 2) / ONE_MIB + " MiB";
        }
        if (bytes >= 1024) {
            return (bytes + 512) / 1024 + " KiB";
        }
        return bytes + " bytes";
    }
}
