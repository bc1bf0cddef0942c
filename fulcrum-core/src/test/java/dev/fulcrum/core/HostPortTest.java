package dev.fulcrum.core;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostPortTest {

    @Test
    void onlyDottedQuadsAreIpv4() {
        assertThat(HostPort.parse("10.0.0.21:80").isIpv4()).isTrue();
        assertThat(HostPort.parse("255.255.255.255:80").isIpv4()).isTrue();
        assertThat(HostPort.parse("backend.local:80").isIpv4()).isFalse();
        assertThat(HostPort.parse("[::1]:80").isIpv4()).isFalse();
        assertThat(HostPort.parse("1.2.3.4a:80").isIpv4()).as("a name that starts like an address").isFalse();
    }

    @Test
    void parsesAndPrintsTheCanonicalSpelling() {
        assertThat(HostPort.parse("[::1]:8080")).isEqualTo(new HostPort("::1", 8080));
        assertThat(new HostPort("::1", 8080)).hasToString("[::1]:8080");
        assertThat(HostPort.parse("127.0.0.1:9101")).hasToString("127.0.0.1:9101");
        assertThat(HostPort.parse("Backend-1.example.org:443")).hasToString("Backend-1.example.org:443");
        assertThat(HostPort.parse("[2001:db8::13]:8080")).hasToString("[2001:db8::13]:8080");
        assertThat(HostPort.parse("[::ffff:10.0.0.1]:80").host()).isEqualTo("::ffff:10.0.0.1");
        assertThat(HostPort.parse("localhost:65535").port()).isEqualTo(65535);
        assertThat(HostPort.parse("a".repeat(63) + ".example:1").host()).hasSize(71);
    }

    /** Issue 12, item 8: what an attacker sent through the API, the config or a provisioner's output. */
    @Test
    void refusesAddressesThatAreNotHostAndPort() {
        assertRefused("evil.example\r\nINFO forged:80", "U+000D");
        assertRefused("a\nb:80", "U+000A");
        assertRefused("nul\u0000byte:80", "U+0000");
        assertRefused("<img src=x onerror=alert(1)>:80", "'<'");
        assertRefused("host/path:80", "'/'");
        assertRefused("user@host:80", "'@'");
        assertRefused("my host:80", "a space");
        assertRefused("under_score:80", "'_'");
        assertRefused("-lead.example:80", "starts or ends with '-'");
        assertRefused("trail-.example:80", "starts or ends with '-'");
        assertRefused("a..b:80", "empty label");
        assertRefused("example.org.:80", "empty label");
        assertRefused("a".repeat(64) + ".example:80", "longer than 63");
        assertRefused(("a".repeat(60) + ".").repeat(5) + "x:80", "longer than 253");
        assertRefused("10.0.0.256:80", "not an IPv4 address");
        assertRefused("10.0.0:80", "not an IPv4 address");
        assertRefused("10.0.0.1.2:80", "not an IPv4 address");
        assertRefused("127.1:80", "not an IPv4 address");
        assertRefused("[1::2::3]:80", "not an IPv6 address");
        assertRefused("[fe80::1%eth0]:80", "zone index");
        assertRefused("[example.org]:80", "only an IPv6 address");
        assertRefused("[::1]80", "expected [ipv6]:port");
        assertRefused("::1:80", "in brackets");
        assertRefused("host:0", "outside 1..65535");
        assertRefused("host:65536", "outside 1..65535");
        assertRefused("host:+80", "is not a number");
        assertRefused("host:", "is not a number");
        assertRefused(":80", "expected host:port");
        assertRefused("host", "expected host:port");
    }

    @Test
    void theConstructorKeepsTheSameRule() {
        assertThatThrownBy(() -> new HostPort("evil\r\nline", 80)).hasMessageContaining("U+000D");
        assertThatThrownBy(() -> new HostPort("a/b", 80)).hasMessageContaining("'/'");
        assertThat(HostPort.hostProblem("admin.example.org")).isNull();
        assertThat(HostPort.hostProblem("10.0.0.5")).isNull();
        assertThat(HostPort.hostProblem("::1")).isNull();
    }

    @Test
    void errorsAreOneLineAndEscapeTheInput() {
        assertThatThrownBy(() -> HostPort.parse("x\r\nINFO forged\u001b[2J:80"))
                .hasMessageNotContaining("\r").hasMessageNotContaining("\n").hasMessageNotContaining("\u001b")
                .hasMessageContaining("\"x\\r\\nINFO forged\\u001b[2J:80\"");
        assertThatThrownBy(() -> HostPort.parse("x".repeat(100_000)))
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400));
    }

    private static void assertRefused(String text, String why) {
        assertThatThrownBy(() -> HostPort.parse(text)).as(text)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(why)
                .hasMessageNotContaining("\r").hasMessageNotContaining("\n");
    }
}
