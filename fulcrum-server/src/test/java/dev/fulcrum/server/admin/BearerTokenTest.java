package dev.fulcrum.server.admin;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BearerTokenTest {

    @Test
    void withoutATokenEveryRequestPasses() {
        BearerToken none = new BearerToken("");
        assertThat(none.required()).isFalse();
        assertThat(none.allows(null)).isTrue();
        assertThat(none.allows("Bearer anything")).isTrue();
    }

    @Test
    void withATokenOnlyTheExactBearerTokenPasses() {
        BearerToken token = new BearerToken("s3cret");
        assertThat(token.allows("Bearer s3cret")).isTrue();
        assertThat(token.allows("bearer s3cret")).as("the scheme is case-insensitive (RFC 9110)").isTrue();
        assertThat(token.allows(null)).isFalse();
        assertThat(token.allows("")).isFalse();
        assertThat(token.allows("Bearer")).isFalse();
        assertThat(token.allows("Bearer S3CRET")).as("the token is not").isFalse();
        assertThat(token.allows("Bearer s3cre")).isFalse();
        assertThat(token.allows("Bearer s3crett")).isFalse();
        assertThat(token.allows("Basic s3cret")).isFalse();
        assertThat(token.allows("s3cret")).isFalse();
    }
}
