package dev.fulcrum.server.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvSubstitutionTest {

    private static final Map<String, String> ENV = Map.of("HOST", "10.0.0.1", "PORT", "8080", "EMPTY", "",
            "NESTED", "${HOST}");

    @Test
    void replacesEachReference() {
        assertThat(EnvSubstitution.substitute("${HOST}:${PORT}", ENV)).isEqualTo("10.0.0.1:8080");
        assertThat(EnvSubstitution.substitute("plain text", ENV)).isEqualTo("plain text");
        assertThat(EnvSubstitution.substitute("cost: $5 {x}", ENV)).isEqualTo("cost: $5 {x}");
    }

    @Test
    void defaultAppliesWhenUnsetOrEmptyAsInTheShell() {
        assertThat(EnvSubstitution.substitute("${MISSING:-127.0.0.1}:${PORT:-1}", ENV)).isEqualTo("127.0.0.1:8080");
        assertThat(EnvSubstitution.substitute("${EMPTY:-fallback}", ENV)).isEqualTo("fallback");
        assertThat(EnvSubstitution.substitute("${MISSING:-}", ENV)).isEmpty();
        assertThat(EnvSubstitution.substitute("${EMPTY}", ENV)).isEmpty();
    }

    @Test
    void replacedTextIsNotScannedAgain() {
        assertThat(EnvSubstitution.substitute("${NESTED}", ENV)).isEqualTo("${HOST}");
    }

    @Test
    void unsetWithoutDefaultNamesTheVariable() {
        assertThatThrownBy(() -> EnvSubstitution.substitute("x-${TOKEN}", ENV))
                .hasMessage("environment variable TOKEN is not set (write ${TOKEN:-default} to give a default)");
    }

    @Test
    void malformedReferencesAreErrors() {
        assertThatThrownBy(() -> EnvSubstitution.substitute("${HOST", ENV))
                .hasMessage("unclosed \"${\" in \"${HOST\"; expected ${NAME} or ${NAME:-default}");
        assertThatThrownBy(() -> EnvSubstitution.substitute("${1X}", ENV))
                .hasMessage("\"${1X}\" is not a variable reference; expected ${NAME} or ${NAME:-default}");
        assertThatThrownBy(() -> EnvSubstitution.substitute("${HOST:default}", ENV))
                .hasMessage("\"${HOST:default}\" is not a variable reference; expected ${NAME} or ${NAME:-default}");
    }
}
