package dev.fulcrum.core.ratelimit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitKeysTest {

    /** The SipHash paper's key, 00 01 .. 0f, as two little-endian longs. */
    private static final RateLimitKeys REFERENCE = new RateLimitKeys(0x0706050403020100L, 0x0f0e0d0c0b0a0908L);

    /** The message 00 01 .. (n - 1), as chars. */
    private static String message(int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append((char) i);
        }
        return s.toString();
    }

    @Test
    void isSipHash24PinnedToTheReferenceVectors() {
        // vectors_sip64 of the reference implementation; n = 15 is the paper's Appendix A example
        assertThat(REFERENCE.of(message(0))).isEqualTo(0x726fdb47dd0e0e31L);
        assertThat(REFERENCE.of(message(1))).isEqualTo(0x74f839c593dc67fdL);
        assertThat(REFERENCE.of(message(7))).isEqualTo(0xab0200f58b01d137L);
        assertThat(REFERENCE.of(message(8))).isEqualTo(0x93f5f5799a932462L);
        assertThat(REFERENCE.of(message(15))).isEqualTo(0xa129ca6149be45e5L);
        assertThat(REFERENCE.of(message(16))).isEqualTo(0x3f2acc7f57c29bdbL);
    }

    @Test
    void anotherSecretGivesOtherKeys() {
        RateLimitKeys other = new RateLimitKeys(0x0706050403020100L, 0x0f0e0d0c0b0a0909L);
        assertThat(other.of("203.0.113.7")).isNotEqualTo(REFERENCE.of("203.0.113.7"));
        assertThat(other.of("203.0.113.7")).isEqualTo(other.of(new StringBuilder("203.0.113.7")));
    }
}
