package dev.fulcrum.server.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where processes started by integration tests write their output: {@code target/it-logs/NAME.log}
 * (relative to the module, where failsafe runs), kept after the run so a failure can be read.
 * Stateless; thread-safe.
 */
public final class ItLogs {

    private static final Path DIR = Path.of("target", "it-logs");

    private ItLogs() {
    }

    /** The directory, created if missing. */
    public static Path dir() throws IOException {
        return Files.createDirectories(DIR);
    }

    /** {@code target/it-logs/NAME.log}; the directory is created if missing. */
    public static Path file(String name) throws IOException {
        return dir().resolve(name + ".log");
    }

    /** Everything in {@code log} so far, or why it cannot be read; for failure messages. */
    public static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }
}
