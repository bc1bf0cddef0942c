package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fulcrum.server.admin.ClusterStatus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The member records among etcd keys ({@link KeyLayout#member}), read leniently: a bad record shows as empty. */
public final class ClusterMembers {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterMembers() {
    }

    /** The members among {@code keys}, in node order (keys are sorted). */
    public static List<ClusterStatus.Member> parse(Map<String, String> keys, KeyLayout layout) {
        List<ClusterStatus.Member> out = new ArrayList<>();
        keys.forEach((key, value) -> {
            if (layout.parse(key) instanceof KeyLayout.Member m) {
                try {
                    JsonNode json = JSON.readTree(value);
                    out.add(new ClusterStatus.Member(m.node(), json.path("address").asText(""),
                            json.path("appliedRevision").asLong(0), json.path("lastRenewal").asText("")));
                } catch (IOException e) {
                    out.add(new ClusterStatus.Member(m.node(), "", 0, ""));
                }
            }
        });
        return out;
    }

    /** The node holding the auto-scaling election among {@code keys}; null when nobody does. */
    public static String leader(Map<String, String> keys, KeyLayout layout) {
        LeaderRecord leader = LeaderRecord.parse(keys.get(layout.leader()));
        return leader == null ? null : leader.node();
    }
}
