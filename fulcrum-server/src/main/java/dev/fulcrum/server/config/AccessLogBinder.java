package dev.fulcrum.server.config;

import dev.fulcrum.core.text.Escape;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Binds the {@code access-log} section. The path is checked now, so that {@code validate} and a
 * reload refuse a file that cannot be written (no such directory, a directory, no permission)
 * instead of the running instance dropping every line. Stateless.
 */
final class AccessLogBinder {

    static final List<String> KEYS = List.of("path", "format");
    static final String STDOUT = "-";

    private AccessLogBinder() {
    }

    /** The section at {@code access-log}; null when absent (reported mistakes make the config invalid). */
    static AccessLogConfig bind(Section root) {
        Section s = root.section("access-log", KEYS);
        if (s == null) {
            return null;
        }
        // empty for "-" (stdout); null when missing or wrong (reported: the config is invalid then)
        Optional<Path> file = s.require("path",
                text -> text.equals(STDOUT) ? Optional.<Path>empty() : Optional.of(writableFile(text)));
        AccessLogConfig.Format format = s.get("format", AccessLogConfig.Format.JSON,
                text -> ConfigValues.choice(text, AccessLogConfig.Format.values()));
        return new AccessLogConfig(file == null ? null : file.orElse(null), format);
    }

    /**
     * A file Fulcrum can append to: an existing file it may write, or a new one in an existing
     * directory it may write in. Relative paths are relative to the working directory.
     */
    static Path writableFile(String text) {
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("invalid path " + ConfigValues.quote(text));
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException("expected a file path, or \"-\" for standard output");
        }
        String shown = Escape.text(text);
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException("cannot write " + shown + ": is a directory");
        }
        if (Files.exists(path)) {
            if (!Files.isWritable(path)) {
                throw new IllegalArgumentException("cannot write " + shown + ": permission denied");
            }
            return path;
        }
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.exists(dir)) {
            throw new IllegalArgumentException("cannot write " + shown + ": no such directory "
                    + Escape.text(String.valueOf(dir)));
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot write " + shown + ": " + Escape.text(dir.toString())
                    + " is not a directory");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot write " + shown + ": cannot create files in "
                    + Escape.text(dir.toString()) + " (permission denied)");
        }
        return path;
    }
}
