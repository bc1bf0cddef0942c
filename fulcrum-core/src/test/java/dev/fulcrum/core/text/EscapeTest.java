package dev.fulcrum.core.text;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EscapeTest {

    @Test
    void quoteEscapesWhatCouldForgeALineOrMoveATerminal() {
        assertThat(Escape.quote("a\r\nb")).isEqualTo("\"a\\r\\nb\"");
        assertThat(Escape.quote("tab\tnul\u0000esc\u001b[2J")).isEqualTo("\"tab\\tnul\\u0000esc\\u001b[2J\"");
        assertThat(Escape.quote("nel\u0085ls\u2028rlo\u202e")).isEqualTo("\"nel\\u0085ls\\u2028rlo\\u202e\"");
        assertThat(Escape.quote("say \"hi\" \\")).isEqualTo("\"say \\\"hi\\\" \\\\\"");
        assertThat(Escape.quote("héllo wörld")).isEqualTo("\"héllo wörld\"");
        assertThat(Escape.quote(null)).isEqualTo("null");
    }

    @Test
    void quoteCutsLongInput() {
        String quoted = Escape.quote("x".repeat(1_000_000));
        assertThat(quoted).startsWith("\"" + "x".repeat(Escape.MAX_ECHO) + "\"").endsWith("(999800 more characters)");
    }

    @Test
    void textEscapesControlsAndKeepsTheRest() {
        assertThat(Escape.text("GET /a\r\nFAKE")).isEqualTo("GET /a\\r\\nFAKE");
        String plain = "pool=app server=127.0.0.1:9101 \"quoted\"";
        assertThat(Escape.text(plain)).isSameAs(plain);
        assertThat(Escape.isSafe("ok")).isTrue();
        assertThat(Escape.isSafe("no\u0007")).isFalse();
    }
}
