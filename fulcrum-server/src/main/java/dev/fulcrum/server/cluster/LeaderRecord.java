package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * The auto-scaling leader's record at {@link KeyLayout#leader} (spec cluster.md: "auto-scaling
 * acts on one node only: the holder of an etcd election"): the node's name and the member lease
 * the key is bound to. Bound to that lease, the key goes when the node dies, is cut off past
 * lease-ttl, or stops; whoever then creates it first leads. The lease tells a node's current life
 * from an earlier one of the same name whose lease has not expired yet. Immutable.
 */
record LeaderRecord(String node, long lease) {

    private static final ObjectMapper JSON = new ObjectMapper();

    String json() {
        return SharedConfig.json(JSON.createObjectNode().put("node", node).put("lease", lease));
    }

    /** The record of {@code json}; null for null or a value that is not one. */
    static LeaderRecord parse(String json) {
        if (json == null) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(json);
            return node.hasNonNull("node") ? new LeaderRecord(node.path("node").asText(), node.path("lease").asLong(0)) : null;
        } catch (IOException e) {
            return null;
        }
    }
}
