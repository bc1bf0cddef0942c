package dev.fulcrum.server.config;

import dev.fulcrum.core.HostPort;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The {@code cluster} section: defaults, a node file with listen-only listeners, and one-line errors at the line. */
class ClusterConfigTest {

    private static void assertErrors(String yaml, String... expected) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(yaml, "fulcrum.yaml", Map.of()));
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.errors()).extracting(ConfigError::toString).containsExactly(expected);
    }

    @Test
    void withoutAClusterSectionNothingChanges() {
        FulcrumConfig c = ConfigLoader.parse("""
                listeners: [{name: web, listen: 127.0.0.1:8080, pool: app}]
                pools: [{name: app}]
                """, "f.yaml", Map.of());
        assertThat(c.cluster()).isNull();
    }

    @Test
    void defaultsAndANodeFileWithOnlyTheListenAddress() {
        FulcrumConfig c = ConfigLoader.parse("""
                name: lb-1
                cluster:
                  etcd: ["http://10.0.0.5:2379", "http://10.0.0.6:2379"]
                listeners:
                  - {name: web, listen: 127.0.0.1:8081}
                """, "f.yaml", Map.of());
        FulcrumConfig.Cluster cluster = c.cluster();
        assertThat(cluster.etcd()).containsExactly(URI.create("http://10.0.0.5:2379"), URI.create("http://10.0.0.6:2379"));
        assertThat(cluster.prefix()).isEqualTo("/fulcrum");
        assertThat(cluster.node()).isEqualTo("lb-1");
        assertThat(cluster.leaseTtl()).isEqualTo(Duration.ofSeconds(5));
        assertThat(cluster.stateDir()).isEqualTo(Path.of("/var/lib/fulcrum"));
        assertThat(cluster.tls()).isNull();
        assertThat(cluster.listens()).containsExactly(Map.entry("web", HostPort.parse("127.0.0.1:8081")));
        assertThat(c.listeners()).isEmpty();
    }

    @Test
    void everyKeySet() {
        FulcrumConfig.Cluster cluster = ConfigLoader.parse("""
                cluster:
                  etcd: [http://127.0.0.1:2379]
                  prefix: /lb/prod
                  node: lb-7
                  lease-ttl: 3s
                  state-dir: /tmp/state
                  tls: {ca: "", cert: "", key: ""}
                """, "f.yaml", Map.of()).cluster();
        assertThat(cluster.prefix()).isEqualTo("/lb/prod");
        assertThat(cluster.node()).isEqualTo("lb-7");
        assertThat(cluster.leaseTtl()).isEqualTo(Duration.ofSeconds(3));
        assertThat(cluster.stateDir()).isEqualTo(Path.of("/tmp/state"));
        assertThat(cluster.tls()).isNull();
        assertThat(cluster.listens()).isEmpty();
    }

    @Test
    void mistakesAreReportedAtTheirLine() {
        assertErrors("""
                cluster:
                  etcd: ["ftp://10.0.0.5:2379"]
                  prefix: fulcrum/
                  node: "lb 1"
                  lease-ttl: 1500ms
                  colour: blue
                """,
                "fulcrum.yaml:2:10: cluster.etcd[0]: expected an etcd URL like http://10.0.0.5:2379, got \"ftp://10.0.0.5:2379\"",
                "fulcrum.yaml:3:3: cluster.prefix: expected a key prefix like /fulcrum (starting with /, no trailing /,"
                        + " letters, digits, '.', '_' or '-'), got \"fulcrum/\"",
                "fulcrum.yaml:4:3: cluster.node: invalid node name \"lb 1\"; expected letters, digits, '.', '_' or '-'"
                        + " (at most 63, starting with a letter or digit)",
                "fulcrum.yaml:5:3: cluster.lease-ttl: 1500ms is out of range; expected 2s..1h",
                "fulcrum.yaml:6:3: cluster.colour: unknown key; expected one of etcd, prefix, node, lease-ttl, state-dir, tls");
    }

    @Test
    void etcdIsRequired() {
        assertErrors("""
                cluster:
                  prefix: /fulcrum
                """, "fulcrum.yaml:1:1: cluster.etcd: at least one etcd URL is required, like [\"http://10.0.0.5:2379\"]");
    }

    @Test
    void aListenOnlyListenerOutsideAClusterStillNeedsItsPool() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse("""
                listeners:
                  - {name: web, listen: 127.0.0.1:8081}
                """, "f.yaml", Map.of()));
        assertThat(e).isNotNull();
    }

    @Test
    void aNodeFileMayHaveNoListenerAtAll() {
        assertThat(ConfigLoader.parse("cluster: {etcd: [http://127.0.0.1:2379]}\n", "f.yaml", Map.of())
                .listeners()).isEqualTo(List.of());
    }
}
