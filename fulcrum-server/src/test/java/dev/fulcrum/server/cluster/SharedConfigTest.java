package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SortedMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A file split into etcd keys and joined again with a node's own file gives the config the file
 * describes, with the node's local sections and listen addresses.
 */
class SharedConfigTest {

    private static final String PUSHED = """
            name: ops
            cluster:
              etcd: ["http://127.0.0.1:2379"]
            listeners:
              - name: web
                listen: 127.0.0.1:8080
                pool: app
            pools:
              - name: app
                algorithm: least-connections
                servers:
                  - {address: 127.0.0.1:9002, weight: 3}
                  - {address: 127.0.0.1:9001}
            alerts:
              - type: log
            """;

    private static final String NODE = """
            name: lb-2
            admin: {listen: 127.0.0.1:9902}
            cluster:
              etcd: ["http://127.0.0.1:2379"]
            listeners:
              - {name: web, listen: 127.0.0.1:8081}
            """;

    private final KeyLayout layout = new KeyLayout("/fulcrum");

    private static ObjectNode tree(String yaml) throws Exception {
        return (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(yaml);
    }

    @Test
    void splitGivesOneKeyPerListenerPoolServerAndTheAlerts() throws Exception {
        SortedMap<String, String> keys = SharedConfig.split(tree(PUSHED), layout);
        assertThat(keys).containsOnlyKeys("/fulcrum/config/listeners/web", "/fulcrum/config/pools/app",
                "/fulcrum/config/pools/app/servers/127.0.0.1:9001", "/fulcrum/config/pools/app/servers/127.0.0.1:9002",
                "/fulcrum/config/alerts");
        assertThat(keys.get("/fulcrum/config/pools/app")).isEqualTo("{\"name\":\"app\",\"algorithm\":\"least-connections\"}");
        assertThat(keys.get("/fulcrum/config/pools/app/servers/127.0.0.1:9002"))
                .isEqualTo("{\"address\":\"127.0.0.1:9002\",\"weight\":3}");
        // a node's listen-only listener is local, never pushed
        assertThat(SharedConfig.split(tree(NODE), layout)).isEmpty();
    }

    @Test
    void aDrainWrittenThroughTheAdminApiIsAdminIntentNotConfig() throws Exception {
        SortedMap<String, String> keys = SharedConfig.split(tree(PUSHED), layout);
        keys.put(layout.server("app", "127.0.0.1:9002"), "{\"address\":\"127.0.0.1:9002\",\"weight\":3,\"drain\":true}");
        FulcrumConfig local = ConfigLoader.parse(NODE, "node.yaml", Map.of());
        // the file format has no drain key: the entry still builds, weight and all
        FulcrumConfig node = SharedConfig.build(tree(NODE), keys, layout, local.cluster().listens(), "etcd@8", Map.of());
        assertThat(node.pool("app").servers()).extracting(FulcrumConfig.ServerEntry::weight).containsExactly(1, 3);
        assertThat(SharedConfig.drained(keys, layout)).containsExactly(new KeyLayout.PoolServer("app", "127.0.0.1:9002"));
    }

    @Test
    void aNodeRunsTheSharedConfigWithItsOwnSectionsAndAddresses() throws Exception {
        SortedMap<String, String> keys = SharedConfig.split(tree(PUSHED), layout);
        keys.put(layout.member("lb-1"), "{\"node\":\"lb-1\"}"); // members are not config
        FulcrumConfig local = ConfigLoader.parse(NODE, "node.yaml", Map.of());
        assertThat(local.cluster().listens()).containsExactly(Map.entry("web", HostPort.parse("127.0.0.1:8081")));
        assertThat(local.listeners()).isEmpty();

        FulcrumConfig node = SharedConfig.build(tree(NODE), keys, layout, local.cluster().listens(), "etcd@7", Map.of());
        FulcrumConfig pushed = ConfigLoader.parse(PUSHED, "pushed.yaml", Map.of());
        assertThat(node.name()).isEqualTo("lb-2");
        assertThat(node.admin().listen()).isEqualTo(HostPort.parse("127.0.0.1:9902"));
        assertThat(node.listeners()).singleElement().satisfies(l -> {
            assertThat(l.listen()).isEqualTo(HostPort.parse("127.0.0.1:8081"));
            assertThat(l.pool()).isEqualTo("app");
        });
        // servers come back in address order, every other setting as pushed
        FulcrumConfig.PoolConfig app = node.pool("app");
        assertThat(app.servers()).extracting(s -> s.address().toString(), FulcrumConfig.ServerEntry::weight)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("127.0.0.1:9001", 1),
                        org.assertj.core.groups.Tuple.tuple("127.0.0.1:9002", 3));
        assertThat(app.algorithm()).isEqualTo(pushed.pool("app").algorithm());
        assertThat(node.alerts()).isEqualTo(pushed.alerts());
        assertThat(node.cluster().node()).isEqualTo("lb-2");
    }

    @Test
    void theExampleClusterComposesIntoThreeNodesOnTheirOwnAddresses() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        java.nio.file.Path examples = java.nio.file.Path.of("../examples/cluster");
        FulcrumConfig shared = ConfigLoader.load(examples.resolve("shared.yaml"), Map.of());
        SortedMap<String, String> keys = SharedConfig.split(
                (ObjectNode) yaml.readTree(examples.resolve("shared.yaml").toFile()), layout);
        for (int i = 1; i <= 3; i++) {
            java.nio.file.Path file = examples.resolve("lb-" + i + ".yaml");
            FulcrumConfig local = ConfigLoader.load(file, Map.of());
            FulcrumConfig node = SharedConfig.build((ObjectNode) yaml.readTree(file.toFile()), keys, layout,
                    local.cluster().listens(), "etcd@1", Map.of());
            assertThat(node.cluster().node()).isEqualTo("lb-" + i);
            assertThat(node.listeners()).singleElement().extracting(l -> l.listen().port()).isEqualTo(8079 + i);
            assertThat(node.pools()).isEqualTo(shared.pools());
        }
    }

    @Test
    void aNodesDsrNamesASharedPoolCheckedAgainstEtcdsPools() throws Exception {
        String node = """
                name: lb-2
                cluster:
                  etcd: ["http://127.0.0.1:2379"]
                dsr:
                  interface: eth0
                  virtual-ip: 10.0.0.100
                  pool: %s
                """;
        SortedMap<String, String> keys = SharedConfig.split(tree(PUSHED.replace("127.0.0.1:9001", "10.0.0.21:80")
                .replace("127.0.0.1:9002", "10.0.0.22:80")), layout);
        // the node's file alone has no pools: the name is checked once etcd's are there
        assertThat(ConfigLoader.parse(node.formatted("app"), "node.yaml", Map.of()).dsr().pool()).isEqualTo("app");
        assertThat(SharedConfig.build(tree(node.formatted("app")), keys, layout, Map.of(), "etcd@3", Map.of())
                .dsr().pool()).isEqualTo("app");
        assertThatThrownBy(() -> SharedConfig.build(tree(node.formatted("video")), keys, layout, Map.of(), "etcd@3",
                Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("dsr.pool: no pool named \"video\"; defined pools: app");
    }

    @Test
    void anEmptyEtcdGivesANodeWithoutListeners() throws Exception {
        FulcrumConfig node = SharedConfig.build(tree(NODE), new java.util.TreeMap<>(), layout, Map.of(), "etcd@1",
                Map.of());
        assertThat(node.listeners()).isEmpty();
        assertThat(node.pools()).isEmpty();
    }
}
