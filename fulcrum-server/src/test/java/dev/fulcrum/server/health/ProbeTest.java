package dev.fulcrum.server.health;

import io.netty.channel.ConnectTimeoutException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;

import static org.assertj.core.api.Assertions.assertThat;

/** The one-line reasons a failed check reports (they end up in events and alerts). */
class ProbeTest {

    @Test
    void describesFailuresInOneLowerCaseLine() {
        assertThat(Probe.describe(new ConnectException("Connection refused: /127.0.0.1:9102")))
                .isEqualTo("connection refused");
        assertThat(Probe.describe(new IOException("Connection reset by peer"))).isEqualTo("connection reset");
        assertThat(Probe.describe(new ConnectTimeoutException("connection timed out after 1000 ms: /10.0.0.1:80")))
                .isEqualTo("connect timeout");
        assertThat(Probe.describe(new IOException("Broken pipe: /127.0.0.1:9102"))).isEqualTo("broken pipe");
    }

}
