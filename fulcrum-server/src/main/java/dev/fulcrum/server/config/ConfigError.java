package dev.fulcrum.server.config;

import java.nio.file.Path;

/**
 * PLACEHOLDER (cli branch) until the config helper's version lands: one problem in a config file,
 * printed as {@code FILE:LINE:COLUMN: key: message}.
 */
public record ConfigError(Path file, int line, int column, String key, String message) {

    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + (key.isEmpty() ? "" : key + ": ") + message;
    }
}
