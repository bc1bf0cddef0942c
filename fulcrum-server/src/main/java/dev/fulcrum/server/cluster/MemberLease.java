package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;

/**
 * This node's place in the member list: a record under {@link KeyLayout#member} bound to an etcd
 * lease of {@code lease-ttl}, which jetcd keeps alive. When the keep-alive ends (the lease
 * expired during an outage, the stream closed) the lease is dropped and {@link #registered()} says
 * so: the node registers again with a new one. The record carries the admin address, the applied
 * revision and the last renewal; a node that stops marks it {@code stopping} before revoking the
 * lease, so the others tell a stop from a death.
 *
 * <p>Confined to the node's cluster thread ({@code thread}, where keep-alive ends are handed);
 * {@link #lastRenewal()} may be read anywhere. Calls to etcd throw {@link EtcdUnavailableException}.
 */
final class MemberLease {

    private static final Logger log = LoggerFactory.getLogger(MemberLease.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EtcdStore store;
    private final String key;
    private final String node;
    private final String address;
    private final Duration ttl;
    private final Executor thread;

    private long lease;
    private CloseableClient keepAlive;
    private Instant lastWrite = Instant.EPOCH;
    private volatile Instant lastRenewal = Instant.EPOCH;

    MemberLease(EtcdStore store, KeyLayout layout, String node, String address, Duration ttl, Executor thread) {
        this.store = store;
        this.key = layout.member(node);
        this.node = node;
        this.address = address;
        this.ttl = ttl;
        this.thread = thread;
    }

    /** The current lease's id; 0 while not registered. */
    long lease() {
        return lease;
    }

    boolean registered() {
        return lease != 0;
    }

    Instant lastRenewal() {
        return lastRenewal;
    }

    /** A new lease, the member record bound to it, and its keep-alive. */
    void register(long appliedRevision) {
        close();
        lease = store.grantLease(ttl);
        lastRenewal = Instant.now();
        try {
            write(appliedRevision, false);
        } catch (EtcdUnavailableException e) {
            lease = 0;
            throw e;
        }
        long granted = lease;
        keepAlive = store.keepAlive(granted, new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse response) {
                lastRenewal = Instant.now();
            }

            @Override
            public void onError(Throwable t) {
                thread.execute(() -> ended(granted, EtcdStore.oneLine(t)));
            }

            @Override
            public void onCompleted() {
                thread.execute(() -> ended(granted, "keep-alive completed"));
            }
        });
    }

    /** Whether the record is due for a refresh of its last renewal (every half lease-ttl). */
    boolean writeDue() {
        return registered() && Duration.between(lastWrite, Instant.now()).compareTo(ttl.dividedBy(2)) >= 0;
    }

    /** Writes the record (under the current lease; nothing without one). */
    void write(long appliedRevision, boolean stopping) {
        if (lease == 0) {
            return;
        }
        ObjectNode member = JSON.createObjectNode();
        member.put("node", node);
        member.put("address", address);
        member.put("appliedRevision", appliedRevision);
        member.put("lastRenewal", lastRenewal.toString());
        if (stopping) {
            member.put("stopping", true);
        }
        store.put(key, SharedConfig.json(member), lease);
        lastWrite = Instant.now();
    }

    /** Leaves the member list at once: the record marked stopping, then the lease revoked. */
    void leave(long appliedRevision) {
        long leaving = lease;
        close();
        if (leaving == 0) {
            return;
        }
        lease = leaving;
        try {
            write(appliedRevision, true);
            store.revokeLease(leaving);
        } finally {
            lease = 0;
        }
    }

    /** Stops renewing (the record goes when the lease expires). */
    void close() {
        if (keepAlive != null) {
            keepAlive.close();
            keepAlive = null;
        }
        lease = 0;
    }

    private void ended(long ended, String why) {
        if (ended != lease) {
            return; // a lease already replaced, or closed on purpose
        }
        log.warn("cluster: lease keep-alive ended ({}); granting a new lease", why);
        close();
    }

    /** Whether a member record says its node was stopping when it wrote it. */
    static boolean stopping(String memberJson) {
        try {
            return JSON.readTree(memberJson).path("stopping").asBoolean(false);
        } catch (IOException e) {
            return false;
        }
    }
}
