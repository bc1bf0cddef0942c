package dev.fulcrum.server.log;

import dev.fulcrum.server.config.AccessLogConfig;

/**
 * One access-log line format, named by its config value ({@code json} → {@link JsonLine},
 * {@code combined} → {@link CombinedLine}). An instance keeps a time cache: one per writer thread.
 */
interface LineFormat {

    /** Appends {@code entry}'s line, newline included. */
    void append(AccessEntry entry, LineBuffer out);

    static LineFormat of(AccessLogConfig.Format format) {
        return switch (format) {
            case JSON -> new JsonLine();
            case COMBINED -> new CombinedLine();
        };
    }
}
