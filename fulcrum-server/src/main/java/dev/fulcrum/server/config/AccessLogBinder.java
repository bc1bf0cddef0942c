package dev.fulcrum.server.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Binds the {@code access-log} section. The path is checked now ({@link ConfigValues#writableFile}),
 * so that {@code validate} and a reload refuse a file that cannot be written (no such directory, a
 * directory, no permission) instead of the running instance dropping every line. Stateless.
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
        Optional<Path> file = s.require("path", text -> text.equals(STDOUT) ? Optional.<Path>empty()
                : Optional.of(ConfigValues.writableFile(text)));
        AccessLogConfig.Format format = s.get("format", AccessLogConfig.Format.JSON,
                text -> ConfigValues.choice(text, AccessLogConfig.Format.values()));
        return new AccessLogConfig(file == null ? null : file.orElse(null), format);
    }
}
