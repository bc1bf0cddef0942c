package dev.fulcrum.server.cluster;

import dev.fulcrum.server.admin.ClusterStatus;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** Member records as etcd holds them: read back in node order, a bad one shown empty, a stopping one told apart. */
class ClusterMembersTest {

    private final KeyLayout layout = new KeyLayout("/fulcrum");

    @Test
    void membersAreReadInNodeOrderAndOtherKeysIgnored() {
        TreeMap<String, String> keys = new TreeMap<>(Map.of(
                layout.member("lb-2"), "{\"node\":\"lb-2\",\"address\":\"127.0.0.1:9902\",\"appliedRevision\":7,"
                        + "\"lastRenewal\":\"2026-12-07T03:30:34Z\"}",
                layout.member("lb-1"), "not json",
                layout.pool("app"), "{\"name\":\"app\"}"));
        assertThat(ClusterMembers.parse(keys, layout)).containsExactly(
                new ClusterStatus.Member("lb-1", "", 0, ""),
                new ClusterStatus.Member("lb-2", "127.0.0.1:9902", 7, "2026-12-07T03:30:34Z"));
    }

    @Test
    void aStoppingRecordIsToldFromAnOrdinaryOne() {
        assertThat(MemberLease.stopping("{\"node\":\"lb-1\",\"stopping\":true}")).isTrue();
        assertThat(MemberLease.stopping("{\"node\":\"lb-1\"}")).isFalse();
        assertThat(MemberLease.stopping("garbage")).isFalse();
    }
}
