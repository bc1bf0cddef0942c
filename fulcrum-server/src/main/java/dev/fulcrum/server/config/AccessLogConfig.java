package dev.fulcrum.server.config;

import java.nio.file.Path;

/**
 * The {@code access-log} section: where each request's (and each TCP connection's) line goes and in
 * which format. Absent from the file = no access log ({@link FulcrumConfig#accessLog()} is null).
 * Immutable.
 *
 * @param file   the file lines are appended to, or null for standard output ({@code path: "-"})
 * @param format the line format
 */
public record AccessLogConfig(Path file, Format format) {

    /** {@code access-log.format}. */
    public enum Format {
        /** One JSON object per line, snake_case fields. */
        JSON,
        /** The Apache/nginx combined format, then the request time in seconds and the request id. */
        COMBINED
    }

    /** True when lines go to standard output ({@code path: "-"}). */
    public boolean toStdout() {
        return file == null;
    }

    /** Where the lines go, as an operator reads it: the path, or {@code stdout}. */
    public String where() {
        return file == null ? "stdout" : file.toString();
    }
}
