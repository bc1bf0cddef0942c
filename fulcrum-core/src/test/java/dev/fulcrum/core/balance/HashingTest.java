package dev.fulcrum.core.balance;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Hashing.hash64 places every client on Maglev, the ring and sticky cookies: it must never drift. */
class HashingTest {

    @Test
    void hash64ValuesArePinned() {
        assertThat(Hashing.hash64("")).isEqualTo(0xefd01f60ba992926L);
        assertThat(Hashing.hash64("a")).isEqualTo(0x86fc2d0407502de5L);
        assertThat(Hashing.hash64("127.0.0.1:9101")).isEqualTo(0x83deaf08aa02df50L);
    }
}
