package dev.fulcrum.server.config;

import dev.fulcrum.server.config.FulcrumConfig.Http2;
import dev.fulcrum.server.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** {@code listeners[].http2}: its two forms, its defaults (on with TLS, off without) and its mistakes. */
class Http2ConfigTest {

    private static final String LISTENER = """
            listeners:
              - name: web
                listen: 127.0.0.1:8080
                pool: app
            """;
    private static final String POOL = """
            pools:
              - name: app
            """;

    private static Http2 http2(String listenerLines) {
        return ConfigLoader.parse(LISTENER + listenerLines + POOL, "fulcrum.yaml", Map.of())
                .listeners().getFirst().http2();
    }

    private static void assertErrors(String listenerLines, String... expected) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(LISTENER + listenerLines + POOL, "fulcrum.yaml", Map.of()));
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(expected);
    }

    @Test
    void plainTextListenerHasHttp2OffByDefault() {
        assertThat(http2("")).isEqualTo(new Http2(false, 100));
    }

    @Test
    void tlsListenerHasHttp2OnByDefault(@TempDir Path dir) throws Exception {
        TestCertificates.Files a = TestCertificates.create(dir.resolve("a.pem"), dir.resolve("a.key"));
        assertThat(http2("    tls: {cert: %s, key: %s}\n".formatted(a.cert(), a.key()))).isEqualTo(new Http2(true, 100));
        assertThat(http2("    http2: false\n    tls: {cert: %s, key: %s}\n".formatted(a.cert(), a.key())))
                .isEqualTo(new Http2(false, 100));
    }

    @Test
    void shortFormTurnsItOn() {
        assertThat(http2("    http2: true\n")).isEqualTo(new Http2(true, 100));
    }

    @Test
    void longFormSetsTheStreamLimitAndIsOnUnlessSaidOtherwise() {
        assertThat(http2("    http2: {max-concurrent-streams: 250}\n")).isEqualTo(new Http2(true, 250));
        assertThat(http2("    http2: {enabled: false, max-concurrent-streams: 1}\n")).isEqualTo(new Http2(false, 1));
    }

    @Test
    void mistakesAreReportedAtTheirLines() {
        assertErrors("    http2: yes\n",
                "fulcrum.yaml:5:5: listeners[0].http2: expected true or false, got \"yes\"");
        assertErrors("    http2: {enabled: true, max-concurrent-streams: 0, max-frames: 3}\n",
                "fulcrum.yaml:5:28: listeners[0].http2.max-concurrent-streams: 0 is out of range; expected 1..10000",
                "fulcrum.yaml:5:55: listeners[0].http2.max-frames: unknown key; expected one of enabled, max-concurrent-streams");
    }

    @Test
    void tcpListenerTakesNoHttp2() {
        assertErrors("    protocol: tcp\n    http2: true\n",
                "fulcrum.yaml:6:5: listeners[0].http2: not allowed for protocol tcp (only for protocol http)");
    }
}
