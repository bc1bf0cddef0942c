package dev.fulcrum.core;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HostPortTest {

    @Test
    void onlyDottedQuadsAreIpv4() {
        assertThat(HostPort.parse("10.0.0.21:80").isIpv4()).isTrue();
        assertThat(HostPort.parse("255.255.255.255:80").isIpv4()).isTrue();
        assertThat(HostPort.parse("backend.local:80").isIpv4()).isFalse();
        assertThat(HostPort.parse("[::1]:80").isIpv4()).isFalse();
        assertThat(HostPort.parse("10.0.0.256:80").isIpv4()).as("a part over 255").isFalse();
        assertThat(HostPort.parse("10.0.0:80").isIpv4()).as("three parts").isFalse();
        assertThat(HostPort.parse("10.0.0.1.2:80").isIpv4()).as("five parts").isFalse();
        assertThat(HostPort.parse("10.0..1:80").isIpv4()).as("an empty part").isFalse();
        assertThat(HostPort.parse("1.2.3.4a:80").isIpv4()).as("a name that starts like an address").isFalse();
    }

    @Test
    void parsesAndPrintsTheCanonicalSpelling() {
        assertThat(HostPort.parse("[::1]:8080")).isEqualTo(new HostPort("::1", 8080));
        assertThat(new HostPort("::1", 8080)).hasToString("[::1]:8080");
        assertThat(HostPort.parse("127.0.0.1:9101")).hasToString("127.0.0.1:9101");
    }
}
