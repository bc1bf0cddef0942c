package dev.fulcrum.core.text;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RedactTest {

    @Test
    void hidesTheUserinfoPasswordOfEveryUrl() {
        assertThat(Redact.urls("http://user:pass@alerts.example/api/v2/alerts"))
                .isEqualTo("http://user:***@alerts.example/api/v2/alerts");
        assertThat(Redact.urls("post to https://am:s3cr%40t@10.0.0.9:9093/x failed; retry http://a:b@c"))
                .isEqualTo("post to https://am:***@10.0.0.9:9093/x failed; retry http://a:***@c");
        assertThat(Redact.urls("invalid URL \"http://u:p w@host/\"")).isEqualTo("invalid URL \"http://u:***@host/\"");
    }

    @Test
    void aUserinfoWithoutPasswordIsMaskedWhole() {
        assertThat(Redact.urls("https://ghp_token123@hooks.example/")).isEqualTo("https://***@hooks.example/");
    }

    @Test
    void hidesSecretQueryParameters() {
        assertThat(Redact.urls("https://hooks.example/x?channel=ops&token=abc123&api_key=k1#top"))
                .isEqualTo("https://hooks.example/x?channel=ops&token=***&api_key=***#top");
        assertThat(Redact.urls("http://h/?Signature=s1&X-Amz-Credential=c&password=p w"))
                .isEqualTo("http://h/?Signature=***&X-Amz-Credential=c&password=*** w");
    }

    @Test
    void leavesTextWithoutCredentialsAlone() {
        String plain = "http://127.0.0.1:9093/api/v2/alerts";
        assertThat(Redact.urls(plain)).isSameAs(plain);
        assertThat(Redact.urls("mail ops@example.org, see http://host/a@b")).isEqualTo("mail ops@example.org, see http://host/a@b");
        assertThat(Redact.urls(null)).isNull();
    }

    @Test
    void secretsAreMaskedWhole() {
        assertThat(Redact.secret("s3cret")).isEqualTo("***");
        assertThat(Redact.secret("")).isEmpty();
    }
}
