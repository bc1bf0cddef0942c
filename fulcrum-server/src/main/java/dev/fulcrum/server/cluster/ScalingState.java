package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fulcrum.server.autoscale.PendingAction;
import dev.fulcrum.server.autoscale.ScaledServer;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What etcd records about auto-scaling, as of one applied revision (spec cluster.md): each pool's
 * last action ({@link KeyLayout#scaling}, the cooldown), its pending actions
 * ({@link KeyLayout#pending}), the servers an auto-scaler started (the {@code "scaled"} object of
 * a server's entry: {@code {"node","at","pid","started"}}), with their entries as they are (a
 * change compares against them), and the member list. Values are read leniently: a record that is
 * not one (hostile or from a later version) is left out, so nothing acts on it. Also the JSON of
 * the records this node writes. Immutable.
 */
record ScalingState(Map<String, Instant> lastAction, Map<String, Map<String, ScaledServer>> scaled,
                    Map<String, String> entries, Map<String, List<PendingAction>> pending, Set<String> members) {

    static final ScalingState EMPTY = new ScalingState(Map.of(), Map.of(), Map.of(), Map.of(), Set.of());
    private static final ObjectMapper JSON = new ObjectMapper();

    static ScalingState of(Map<String, String> keys, KeyLayout layout) {
        Map<String, Instant> last = new HashMap<>();
        Map<String, Map<String, ScaledServer>> scaled = new HashMap<>();
        Map<String, String> entries = new HashMap<>();
        Map<String, List<PendingAction>> pending = new HashMap<>();
        Set<String> members = new TreeSet<>();
        keys.forEach((key, value) -> {
            switch (layout.parse(key)) {
                case KeyLayout.Scaling s -> {
                    Instant at = instant(read(value).path("lastAction"));
                    if (at != null) {
                        last.put(s.pool(), at);
                    }
                }
                case KeyLayout.Pending p -> {
                    PendingAction action = pendingAction(p.id(), read(value));
                    if (action != null) {
                        pending.computeIfAbsent(p.pool(), _ -> new ArrayList<>()).add(action);
                    }
                }
                case KeyLayout.PoolServer ps -> {
                    ScaledServer server = scaledServer(ps.address(), read(value).path("scaled"));
                    if (server != null) {
                        scaled.computeIfAbsent(ps.pool(), _ -> new TreeMap<>()).put(ps.address(), server);
                        entries.put(key, value);
                    }
                }
                case KeyLayout.Member m -> members.add(m.node());
                case KeyLayout.Listener _, KeyLayout.Pool _, KeyLayout.Autoscale _, KeyLayout.Alerts _,
                     KeyLayout.Leader _, KeyLayout.Other _ -> {
                }
            }
        });
        Map<String, List<PendingAction>> frozen = new HashMap<>();
        pending.forEach((pool, list) -> frozen.put(pool, List.copyOf(list)));
        Map<String, Map<String, ScaledServer>> frozenScaled = new HashMap<>();
        scaled.forEach((pool, map) -> frozenScaled.put(pool, Map.copyOf(map)));
        return new ScalingState(Map.copyOf(last), Map.copyOf(frozenScaled), Map.copyOf(entries), Map.copyOf(frozen),
                Set.copyOf(members));
    }

    // ------------------------------------------------------------------ the records' JSON

    /** A {@link KeyLayout#scaling} value. */
    static String lastActionJson(Instant at, String node) {
        return SharedConfig.json(JSON.createObjectNode().put("lastAction", at.toString()).put("node", node));
    }

    /** A server's shared entry as the auto-scaler adds it: weight 1 and its {@code scaled} record. */
    static String serverJson(ScaledServer s) {
        ObjectNode entry = JSON.createObjectNode().put("address", s.address()).put("weight", 1);
        entry.set("scaled", scaledJson(s));
        return SharedConfig.json(entry);
    }

    /** {@code entry} (a server's whole entry) with its {@code scaled} record replaced by {@code s}'s. */
    static String withScaled(String entry, ScaledServer s) {
        JsonNode node = read(entry);
        ObjectNode copy = node instanceof ObjectNode o ? o.deepCopy() : JSON.createObjectNode().put("address", s.address());
        copy.set("scaled", scaledJson(s));
        return SharedConfig.json(copy);
    }

    static String pendingJson(PendingAction a) {
        ObjectNode node = JSON.createObjectNode().put("direction", a.out() ? "out" : "in").put("node", a.node())
                .put("since", a.since().toString());
        if (a.server() != null) {
            node.set("server", scaledJson(a.server()).put("address", a.server().address()));
        }
        return SharedConfig.json(node);
    }

    private static ObjectNode scaledJson(ScaledServer s) {
        ObjectNode node = JSON.createObjectNode().put("node", s.node()).put("at", s.at().toString());
        if (s.isProcess()) {
            node.put("pid", s.pid()).put("started", s.started().toString());
        }
        return node;
    }

    private static ScaledServer scaledServer(String address, JsonNode node) {
        if (!node.isObject() || !node.path("node").isTextual() || address.isEmpty()) {
            return null;
        }
        Instant at = instant(node.path("at"));
        long pid = node.path("pid").asLong(0);
        Instant started = instant(node.path("started"));
        if (at == null || pid < 0 || (pid > 0) != (started != null)) {
            return null;
        }
        return new ScaledServer(address, node.path("node").asText(), at, pid, started);
    }

    private static PendingAction pendingAction(String id, JsonNode node) {
        String direction = node.path("direction").asText("");
        Instant since = instant(node.path("since"));
        if (!node.path("node").isTextual() || since == null || !(direction.equals("out") || direction.equals("in"))) {
            return null;
        }
        ScaledServer server = null;
        if (direction.equals("in")) {
            server = scaledServer(node.path("server").path("address").asText(""), node.path("server"));
            if (server == null) {
                return null;
            }
        }
        return new PendingAction(id, direction.equals("out"), node.path("node").asText(), since, server);
    }

    private static JsonNode read(String json) {
        try {
            JsonNode node = json == null ? null : JSON.readTree(json);
            return node == null ? JSON.missingNode() : node;
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    private static Instant instant(JsonNode node) {
        try {
            return node.isTextual() ? Instant.parse(node.asText()) : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
