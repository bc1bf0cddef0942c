package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.fulcrum.core.HostPort;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The config file split into etcd keys ({@link #split}) and etcd keys joined with a node's own
 * file into the config it runs ({@link #compose}), in the {@link KeyLayout}. Both sides work on
 * the file's YAML tree as written, so {@code ${NAME}} is substituted on each node (per node
 * secrets and addresses), and the joined document goes through {@link ConfigLoader} like any file:
 * one validation, one set of defaults. Stateless and thread-safe.
 *
 * <p>Shared (spec cluster.md): {@code listeners} (with their routes), {@code pools} with their
 * servers, {@code autoscale}, {@code alerts}. Local: everything else ({@code name}, {@code admin},
 * {@code ha}, {@code dsr}, {@code cluster}, {@code access-log}); a node file's listener written with
 * only {@code name} and {@code listen} binds that shared listener at its own address.
 */
public final class SharedConfig {

    /** The sections etcd holds; a node's file has the rest. */
    public static final List<String> SHARED_SECTIONS = List.of("listeners", "pools", "autoscale", "alerts");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private SharedConfig() {
    }

    /** The YAML tree of a config file as written (no substitution, no defaults). */
    public static ObjectNode readTree(Path file) throws IOException {
        JsonNode tree = YAML.readTree(Files.readString(file));
        return tree instanceof ObjectNode o ? o : JSON.createObjectNode();
    }

    /**
     * The shared sections of a file, key by key ({@link KeyLayout}); values are compact JSON. The
     * file must have been validated ({@link ConfigLoader}): names are unique, entries are maps.
     * A listener written with only {@code name} and {@code listen} is a node's local address, not
     * shared, and left out.
     */
    public static SortedMap<String, String> split(ObjectNode file, KeyLayout layout) {
        SortedMap<String, String> keys = new TreeMap<>();
        for (JsonNode listener : file.path("listeners")) {
            if (listener.size() == 2 && listener.has("name") && listener.has("listen")) {
                continue;
            }
            keys.put(layout.listener(listener.path("name").asText()), json(listener));
        }
        for (JsonNode pool : file.path("pools")) {
            String name = pool.path("name").asText();
            ObjectNode settings = ((ObjectNode) pool).deepCopy();
            settings.remove("servers");
            keys.put(layout.pool(name), json(settings));
            for (JsonNode server : pool.path("servers")) {
                keys.put(layout.server(name, server.path("address").asText()), json(server));
            }
        }
        for (JsonNode entry : file.path("autoscale")) {
            keys.put(layout.autoscale(entry.path("pool").asText()), json(entry));
        }
        if (file.has("alerts")) {
            keys.put(layout.alerts(), json(file.get("alerts")));
        }
        return keys;
    }

    /**
     * The document a node runs: its file's local sections, and the shared ones from {@code etcd}
     * (key -> JSON, every key under the prefix; members and unknown keys are ignored). Listeners
     * and pools are in name order and servers in address order, the same on every node.
     *
     * @param listens this node's addresses for shared listeners (name -> listen)
     */
    public static ObjectNode compose(ObjectNode localFile, Map<String, String> etcd, KeyLayout layout,
                                     Map<String, HostPort> listens) {
        ObjectNode doc = JSON.createObjectNode();
        localFile.properties().forEach(e -> {
            if (!SHARED_SECTIONS.contains(e.getKey())) {
                doc.set(e.getKey(), e.getValue());
            }
        });
        Map<String, ObjectNode> listeners = new TreeMap<>();
        Map<String, ObjectNode> pools = new TreeMap<>();
        Map<String, Map<String, JsonNode>> servers = new TreeMap<>();
        Map<String, JsonNode> autoscale = new TreeMap<>();
        JsonNode alerts = null;
        for (Map.Entry<String, String> e : etcd.entrySet()) {
            switch (layout.parse(e.getKey())) {
                case KeyLayout.Listener l -> listeners.put(l.name(), object(e.getValue()));
                case KeyLayout.Pool p -> pools.put(p.name(), object(e.getValue()));
                case KeyLayout.PoolServer s ->
                        servers.computeIfAbsent(s.pool(), _ -> new TreeMap<>()).put(s.address(), withoutRuntimeState(e.getValue()));
                case KeyLayout.Autoscale a -> autoscale.put(a.pool(), parse(e.getValue()));
                case KeyLayout.Alerts _ -> alerts = parse(e.getValue());
                case KeyLayout.Member _, KeyLayout.Leader _, KeyLayout.Scaling _, KeyLayout.Pending _, KeyLayout.Other _ -> {
                }
            }
        }
        ArrayNode listenerList = doc.putArray("listeners");
        listeners.forEach((name, entry) -> {
            HostPort local = listens.get(name);
            if (local != null) {
                entry.put("listen", local.toString());
            }
            listenerList.add(entry);
        });
        ArrayNode poolList = doc.putArray("pools");
        pools.forEach((name, settings) -> {
            ArrayNode list = settings.putArray("servers");
            servers.getOrDefault(name, Map.of()).values().forEach(list::add);
            poolList.add(settings);
        });
        if (!autoscale.isEmpty()) {
            doc.putArray("autoscale").addAll(autoscale.values());
        }
        if (alerts != null) {
            doc.set("alerts", alerts);
        }
        return doc;
    }

    /**
     * The config of {@link #compose}, validated as a file named {@code source} (say
     * {@code etcd@1234}) would be.
     *
     * @throws dev.fulcrum.server.config.ConfigException when etcd holds something invalid
     */
    public static FulcrumConfig build(ObjectNode localFile, Map<String, String> etcd, KeyLayout layout,
                                      Map<String, HostPort> listens, String source, Map<String, String> env) {
        ObjectNode doc = compose(localFile, etcd, layout, listens);
        return ConfigLoader.parse(prettyJson(doc), source, env);
    }

    /**
     * The servers an operator drained through the admin API ({@code "drain": true} in their entry):
     * admin intent, not config, so the file format has no such key and each node applies it to
     * its registry after the reload ({@link ClusterNode}).
     */
    public static java.util.Set<KeyLayout.PoolServer> drained(Map<String, String> etcd, KeyLayout layout) {
        java.util.Set<KeyLayout.PoolServer> out = new java.util.HashSet<>();
        etcd.forEach((key, value) -> {
            if (layout.parse(key) instanceof KeyLayout.PoolServer s) {
                try {
                    if (JSON.readTree(value).path("drain").asBoolean(false)) {
                        out.add(s);
                    }
                } catch (JsonProcessingException e) {
                    // not JSON: compose reports it
                }
            }
        });
        return out;
    }

    /**
     * A server's entry without what the file format has no key for: {@code drain} (admin intent)
     * and {@code scaled} (which auto-scaler started it, {@link ScalingState}).
     */
    private static JsonNode withoutRuntimeState(String json) {
        JsonNode node = parse(json);
        if (node instanceof ObjectNode o && (o.has("drain") || o.has("scaled"))) {
            ObjectNode copy = o.deepCopy();
            copy.remove(List.of("drain", "scaled"));
            return copy;
        }
        return node;
    }

    /** Only the shared config's keys of {@code all}. */
    public static SortedMap<String, String> configKeys(Map<String, String> all, KeyLayout layout) {
        SortedMap<String, String> out = new TreeMap<>();
        all.forEach((k, v) -> {
            if (layout.isConfig(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    static String json(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One value per line, so that a config error in etcd's content points at a line worth reading. */
    private static String prettyJson(JsonNode node) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
    }

    private static ObjectNode object(String json) {
        return parse(json) instanceof ObjectNode o ? o : JSON.createObjectNode();
    }

    /** Insertion-ordered copy, for callers that want a stable map. */
    static Map<String, String> copy(Map<String, String> in) {
        return new LinkedHashMap<>(in);
    }
}
