package dev.fulcrum.server.net;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SniNamesTest {

    private final List<List<String>> names = List.of(
            List.of("default.test"),
            List.of("*.example.net"),
            List.of("api.example.net", "Other.Example.com"));

    @Test
    void exactBeforeWildcardEvenWhenTheWildcardComesFirst() {
        SniNames sni = new SniNames(names, false);
        assertThat(sni.pick("api.example.net")).isEqualTo(2);
        assertThat(sni.pick("www.example.net")).isEqualTo(1);
    }

    @Test
    void aWildcardCoversOneLabelOnly() {
        SniNames sni = new SniNames(names, true);
        assertThat(sni.pick("a.b.example.net")).isEqualTo(SniNames.NONE);
        assertThat(sni.pick("example.net")).isEqualTo(SniNames.NONE);
    }

    @Test
    void namesCompareWithoutCaseAndTrailingDot() {
        SniNames sni = new SniNames(names, true);
        assertThat(sni.pick("OTHER.example.com.")).isEqualTo(2);
    }

    @Test
    void anUncoveredNameGetsTheFirstCertificateUnlessStrict() {
        assertThat(new SniNames(names, false).pick("unknown.test")).isZero();
        assertThat(new SniNames(names, true).pick("unknown.test")).isEqualTo(SniNames.NONE);
    }

    @Test
    void noSniGetsTheDefaultEvenWhenStrict() {
        assertThat(new SniNames(names, true).pick(null)).isZero();
    }
}
