package dev.fulcrum.server.admin;

import java.util.List;

/**
 * {@code GET /api/v1/cluster} (spec cluster.md): this node, whether it reaches etcd, the revision
 * it has applied, the auto-scaling leader (null: no election yet) and the live members as the
 * member list in etcd shows them. Immutable.
 *
 * @param etcd {@code up} or {@code down}
 */
public record ClusterStatus(String node, String etcd, long revision, String leader, List<Member> members) {

    public ClusterStatus {
        members = List.copyOf(members);
    }

    /**
     * One live member: its admin address, the revision it last reported applied, and when it last
     * renewed its lease (ISO-8601, UTC).
     */
    public record Member(String node, String address, long appliedRevision, String lastRenewal) {
    }
}
