package dev.fulcrum.server.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The key layout under the prefix, both ways: every key Fulcrum writes parses back to what it names. */
class KeyLayoutTest {

    private final KeyLayout layout = new KeyLayout("/fulcrum");

    @Test
    void keysAreWrittenUnderThePrefix() {
        assertThat(layout.listener("web")).isEqualTo("/fulcrum/config/listeners/web");
        assertThat(layout.pool("app")).isEqualTo("/fulcrum/config/pools/app");
        assertThat(layout.server("app", "10.0.0.21:80")).isEqualTo("/fulcrum/config/pools/app/servers/10.0.0.21:80");
        assertThat(layout.autoscale("app")).isEqualTo("/fulcrum/config/autoscale/app");
        assertThat(layout.alerts()).isEqualTo("/fulcrum/config/alerts");
        assertThat(layout.member("lb-1")).isEqualTo("/fulcrum/members/lb-1");
    }

    @Test
    void everyKeyParsesBackToWhatItNames() {
        assertThat(layout.parse(layout.listener("web"))).isEqualTo(new KeyLayout.Listener("web"));
        assertThat(layout.parse(layout.pool("app"))).isEqualTo(new KeyLayout.Pool("app"));
        assertThat(layout.parse(layout.server("app", "[::1]:8080")))
                .isEqualTo(new KeyLayout.PoolServer("app", "[::1]:8080"));
        assertThat(layout.parse(layout.autoscale("app"))).isEqualTo(new KeyLayout.Autoscale("app"));
        assertThat(layout.parse(layout.leader())).isEqualTo(new KeyLayout.Leader());
        assertThat(layout.isConfig(layout.leader())).as("the leader is not shared config").isFalse();
        assertThat(layout.parse(layout.scaling("app"))).isEqualTo(new KeyLayout.Scaling("app"));
        assertThat(layout.scaling("app")).isEqualTo("/fulcrum/scaling/app");
        assertThat(layout.pending("app", "x1")).isEqualTo("/fulcrum/scaling/app/pending/x1");
        assertThat(layout.parse(layout.pending("app", "x1"))).isEqualTo(new KeyLayout.Pending("app", "x1"));
        assertThat(layout.parse(layout.alerts())).isEqualTo(new KeyLayout.Alerts());
        assertThat(layout.parse(layout.member("lb-1"))).isEqualTo(new KeyLayout.Member("lb-1"));
    }

    @Test
    void keysOutsideTheLayoutAreOther() {
        for (String key : new String[]{"/fulcrum/config/pools/app/extra", "/fulcrum/config/pools/", "/fulcrum/x",
                "/fulcrumx/config/alerts", "/fulcrum/members/", "/fulcrum/members/a/b",
                "/fulcrum/config/pools/app/servers/", "/fulcrum/scaling/app/pending/", "/fulcrum/scaling/app/x/y",
                "/fulcrum/scaling/"}) {
            assertThat(layout.parse(key)).as(key).isEqualTo(new KeyLayout.Other(key));
        }
        assertThat(layout.isConfig("/fulcrum/config/alerts")).isTrue();
        assertThat(layout.isConfig("/fulcrum/members/lb-1")).isFalse();
    }
}
