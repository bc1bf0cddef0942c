package dev.fulcrum.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The {@code access-log} section: its values, its defaults, and its mistakes at their line. */
class AccessLogConfigTest {

    private static final String LISTENER_AND_POOL = """
            listeners:
              - {name: web, listen: 127.0.0.1:8080, pool: app}
            pools:
              - name: app
            """;

    @TempDir
    Path tmp;

    private static FulcrumConfig parse(String accessLog) {
        return ConfigLoader.parse(LISTENER_AND_POOL + accessLog, "fulcrum.yaml", Map.of());
    }

    private static String errors(String accessLog) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(accessLog));
        assertThat(e).as("a ConfigException").isNotNull();
        return e.getMessage();
    }

    @Test
    void absentMeansNoAccessLog() {
        assertThat(parse("").accessLog()).isNull();
    }

    @Test
    void aFileInAWritableDirectoryAndJsonByDefault() {
        Path file = tmp.resolve("access.log");
        AccessLogConfig c = parse("access-log: {path: " + file + "}\n").accessLog();
        assertThat(c).isEqualTo(new AccessLogConfig(file, AccessLogConfig.Format.JSON));
        assertThat(c.toStdout()).isFalse();
        assertThat(c.where()).isEqualTo(file.toString());
    }

    @Test
    void dashIsStandardOutput() {
        AccessLogConfig c = parse("access-log: {path: \"-\", format: combined}\n").accessLog();
        assertThat(c.toStdout()).isTrue();
        assertThat(c.where()).isEqualTo("stdout");
        assertThat(c.format()).isEqualTo(AccessLogConfig.Format.COMBINED);
    }

    @Test
    void anExistingWritableFileIsFine() throws IOException {
        Path file = Files.writeString(tmp.resolve("old.log"), "earlier lines\n");
        assertThat(parse("access-log: {path: " + file + "}\n").accessLog().file()).isEqualTo(file);
    }

    @Test
    void aBadFormatIsReportedAtItsKey() {
        assertThat(errors("access-log:\n  path: \"-\"\n  format: apache\n"))
                .isEqualTo("fulcrum.yaml:7:3: access-log.format: unknown value \"apache\"; expected one of json, combined");
    }

    @Test
    void aMissingDirectoryIsReportedAtPath() {
        Path file = tmp.resolve("nope").resolve("access.log");
        assertThat(errors("access-log:\n  path: " + file + "\n"))
                .isEqualTo("fulcrum.yaml:6:3: access-log.path: cannot write " + file + ": no such directory "
                        + tmp.resolve("nope"));
    }

    @Test
    void aDirectoryOrAFileAsDirectoryIsReported() throws IOException {
        assertThat(errors("access-log: {path: " + tmp + "}\n"))
                .endsWith("access-log.path: cannot write " + tmp + ": is a directory");
        Path plain = Files.writeString(tmp.resolve("plain"), "");
        assertThat(errors("access-log: {path: " + plain.resolve("access.log") + "}\n"))
                .endsWith("access-log.path: cannot write " + plain.resolve("access.log") + ": " + plain
                        + " is not a directory");
    }

    @Test
    void pathIsRequiredAndKeysAreChecked() {
        assertThat(errors("access-log: {format: json, rotate: daily}\n")).isEqualTo(String.join("\n",
                "fulcrum.yaml:5:1: access-log.path: required key is missing",
                "fulcrum.yaml:5:28: access-log.rotate: unknown key; expected one of path, format"));
    }

    @Test
    void configsBuiltInCodeHaveNoAccessLog() {
        FulcrumConfig c = new FulcrumConfig("x", FulcrumConfig.Admin.DEFAULT, java.util.List.of(),
                java.util.List.of(), java.util.List.of(), java.util.List.of(), null, null);
        assertThat(c.accessLog()).isNull();
    }
}
