package dev.fulcrum.server.http.codec;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class HostSyntaxTest {

    @ParameterizedTest
    @ValueSource(strings = {"example", "example:80", "Example.COM:8080", "127.0.0.1", "127.0.0.1:9101", "[::1]",
            "[::1]:80", "[2001:db8::1.2.3.4]:443", "xn--bcher-kva.example", "a_b~c.example", "%41.example",
            "example:", "sub-delims!$&'()*+,;="})
    void acceptsUriHostWithOptionalPort(String value) {
        assertThat(HostSyntax.isValid(value)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ":80", "a b", "example/path", "user@example", "exa\"mple", "<x>", "example:80x",
            "example:123456", "[::1", "[::1]x", "[]", "[g::1]", "a:b:c", "%4", "%zz.example", "caf\u00e9",
            "a\tb", "example\\", "a{b}"})
    void refusesAnythingElse(String value) {
        assertThat(HostSyntax.isValid(value)).isFalse();
    }
}
