package dev.fulcrum.server.http;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    @Test
    void failedConnectIsRetriedForEveryMethod() {
        for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH}) {
            assertThat(RetryPolicy.mayRetry(m, false, false, false, false)).as(m.name()).isTrue();
        }
    }

    @Test
    void closeBeforeTheResponseIsRetriedForIdempotentMethodsOnly() {
        for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.PUT,
                HttpMethod.DELETE, HttpMethod.TRACE}) {
            assertThat(RetryPolicy.mayRetry(m, true, true, false, false)).as(m.name()).isTrue();
        }
        assertThat(RetryPolicy.mayRetry(HttpMethod.POST, true, true, false, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(HttpMethod.PATCH, true, true, false, false)).isFalse();
        // the head never left: nothing of the POST reached the server
        assertThat(RetryPolicy.mayRetry(HttpMethod.POST, true, false, false, false)).isTrue();
    }

    @Test
    void noRetryOnceBodyBytesWentOutOrTheResponseStarted() {
        assertThat(RetryPolicy.mayRetry(HttpMethod.PUT, true, true, true, false)).isFalse();
        assertThat(RetryPolicy.mayRetry(HttpMethod.GET, true, true, false, true)).isFalse();
    }

    @Test
    void responseTimeoutIsRetriedForIdempotentMethodsWithNoBodySent() {
        for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.PUT,
                HttpMethod.DELETE, HttpMethod.TRACE}) {
            assertThat(RetryPolicy.mayRetryAfterTimeout(m, false)).as(m.name()).isTrue();
        }
        assertThat(RetryPolicy.mayRetryAfterTimeout(HttpMethod.POST, false)).isFalse();
        assertThat(RetryPolicy.mayRetryAfterTimeout(HttpMethod.PATCH, false)).isFalse();
        // the server may be working on the part of the body it took
        assertThat(RetryPolicy.mayRetryAfterTimeout(HttpMethod.PUT, true)).isFalse();
    }
}
