package dev.fulcrum.server.net;

import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.nio.channels.UnresolvedAddressException;

import static org.assertj.core.api.Assertions.assertThat;

/** The reason an operator reads when a listener cannot bind: words, never "null". */
class BindFailureTest {

    @Test
    void aHostThatDoesNotResolveSaysSo() {
        assertThat(BindFailure.describe(new UnresolvedAddressException())).isEqualTo("unknown host");
    }

    @Test
    void anExceptionWithoutAMessageIsNamedByItsType() {
        assertThat(BindFailure.describe(new BindException())).isEqualTo("BindException");
    }

    @Test
    void aPortInUseIsSaidTheSameOnEveryTransport() {
        assertThat(BindFailure.describe(new BindException("bind(..) failed with error(-98): Address already in use")))
                .isEqualTo("address already in use");
    }
}
