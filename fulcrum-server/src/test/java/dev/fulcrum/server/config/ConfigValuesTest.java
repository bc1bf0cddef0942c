package dev.fulcrum.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigValuesTest {

    @Test
    void durationsInEachUnit() {
        assertThat(ConfigValues.duration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(ConfigValues.duration("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(ConfigValues.duration("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(ConfigValues.duration("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(ConfigValues.duration("0s")).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2", "2 s", "1.5s", "-1s", "1m30s", "2S", "1d", "s"})
    void otherDurationSpellingsAreRejectedWithTheForms(String text) {
        assertThatThrownBy(() -> ConfigValues.duration(text))
                .hasMessage("invalid duration \"" + text + "\"; expected a whole number and a unit: 250ms, 2s, 1m, 1h");
    }

    @Test
    void positiveDurationRejectsZero() {
        assertThatThrownBy(() -> ConfigValues.positiveDuration("0ms")).hasMessage("must be more than 0, got 0ms");
    }

    @Test
    void integersWithRange() {
        assertThat(ConfigValues.integer("256", 0, 256)).isEqualTo(256);
        assertThatThrownBy(() -> ConfigValues.integer("257", 0, 256)).hasMessage("257 is out of range; expected 0..256");
        assertThatThrownBy(() -> ConfigValues.integer("99999999999", 1, Integer.MAX_VALUE))
                .hasMessage("99999999999 is out of range; expected at least 1");
        assertThatThrownBy(() -> ConfigValues.integer("1.0", 0, 9)).hasMessage("expected a whole number, got \"1.0\"");
        assertThatThrownBy(() -> ConfigValues.integer("0x10", 0, 99)).hasMessage("expected a whole number, got \"0x10\"");
    }

    @Test
    void percentIsAFraction() {
        assertThat(ConfigValues.percent("10%")).isEqualTo(0.10);
        assertThat(ConfigValues.percent("100%")).isEqualTo(1.0);
        assertThat(ConfigValues.percent("0%")).isZero();
        assertThatThrownBy(() -> ConfigValues.percent("10")).hasMessage("expected a percentage like 10%, got \"10\"");
        assertThatThrownBy(() -> ConfigValues.percent("101%")).hasMessage("101% is out of range; expected 0%..100%");
    }

    @Test
    void statusCodeOrRange() {
        assertThat(ConfigValues.statusRange("200")).containsExactly(200, 200);
        assertThat(ConfigValues.statusRange("200-399")).containsExactly(200, 399);
        assertThatThrownBy(() -> ConfigValues.statusRange("399-200"))
                .hasMessage("\"399-200\" is not a status range; expected codes 100..599, low first");
        assertThatThrownBy(() -> ConfigValues.statusRange("2xx"))
                .hasMessage("expected a status code like 200 or a range like 200-399, got \"2xx\"");
    }

    @Test
    void portRange() {
        assertThat(ConfigValues.portRange("9200-9299")).containsExactly(9200, 9299);
        assertThatThrownBy(() -> ConfigValues.portRange("0-10"))
                .hasMessage("\"0-10\" is not a port range; expected ports 1..65535, low first");
    }

    @Test
    void ipv4AndVirtualIps() {
        assertThat(ConfigValues.ipv4("10.0.0.100")).isEqualTo("10.0.0.100");
        assertThat(ConfigValues.ipv4WithPrefix("10.0.0.100/24")).isEqualTo("10.0.0.100/24");
        assertThatThrownBy(() -> ConfigValues.ipv4("fe80::1"))
                .hasMessage("expected an IPv4 address like 10.0.0.100, got \"fe80::1\"");
        assertThatThrownBy(() -> ConfigValues.ipv4WithPrefix("10.0.0.100"))
                .hasMessage("expected an IPv4 address with a prefix length like 10.0.0.100/24, got \"10.0.0.100\"");
        assertThatThrownBy(() -> ConfigValues.ipv4WithPrefix("10.0.0.100/33"))
                .hasMessage("prefix length \"33\" in \"10.0.0.100/33\" is out of range; expected 1..32");
    }

    @Test
    void names() {
        assertThat(ConfigValues.name("app-v2.blue_1")).isEqualTo("app-v2.blue_1");
        assertThatThrownBy(() -> ConfigValues.name("my pool")).hasMessageStartingWith("invalid name \"my pool\"");
        assertThatThrownBy(() -> ConfigValues.name("a/b")).hasMessageStartingWith("invalid name \"a/b\"");
    }
}
