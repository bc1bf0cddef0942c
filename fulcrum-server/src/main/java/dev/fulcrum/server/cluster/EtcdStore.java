package dev.fulcrum.server.cluster;

import dev.fulcrum.server.config.FulcrumConfig.Cluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fulcrum's one door to etcd: jetcd's KV, Watch, Lease and Maintenance clients behind a few calls
 * in Fulcrum's words. Every call has a deadline ({@link #CALL_DEADLINE}): without one, jetcd's
 * calls wait for as long as quorum is lost. Failures come out as {@link EtcdUnavailableException}
 * with one line. Watches and leases end when etcd has trouble (jetcd gives up on a watch after "no
 * leader", and a keep-alive stream can complete); resuming them is the caller's job
 * ({@link ClusterNode}), from the revision it last applied.
 *
 * <p>Thread-safe (jetcd's clients are).
 */
public final class EtcdStore implements AutoCloseable {

    /** The longest any single etcd call may take before it counts as "etcd unavailable". */
    public static final Duration CALL_DEADLINE = Duration.ofSeconds(2);

    private final Client client;
    private final List<URI> endpoints;
    /** Says why, when a call fails and etcd is reached over TLS; null without TLS. */
    private final EtcdTlsCheck tlsCheck;

    public EtcdStore(Cluster cluster) {
        quietJetcd();
        this.endpoints = cluster.etcd();
        ClientBuilder builder = Client.builder().endpoints(cluster.etcd())
                .connectTimeout(CALL_DEADLINE)
                // fail fast while no endpoint answers, rather than queue the call until one does
                .waitForReady(false)
                .retryMaxDuration(CALL_DEADLINE);
        EtcdTlsCheck check = null;
        if (cluster.tls() != null) {
            try {
                check = new EtcdTlsCheck(cluster.tls(), cluster.etcd());
                builder.sslContext(ssl -> {
                    if (cluster.tls().ca() != null) {
                        ssl.trustManager(cluster.tls().ca().toFile());
                    }
                    if (cluster.tls().cert() != null) {
                        ssl.keyManager(cluster.tls().cert().toFile(), cluster.tls().key().toFile());
                    }
                });
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalArgumentException("cluster.tls: " + e.getMessage(), e);
            }
        }
        this.tlsCheck = check;
        this.client = builder.build();
    }

    /** Every key under {@code prefix} with the revision they were read at. */
    public record Snapshot(long revision, SortedMap<String, String> keys) {
    }

    /** One key changed by a transaction: {@code value} null for a delete. */
    public record Change(String key, String value) {
    }

    /** What a watch delivers: the changes of one revision (one transaction), in order. */
    public interface Changes {
        void onRevision(long revision, List<Change> changes);

        /** The watch ended: {@code compacted} when its start revision is gone (read everything again). */
        void onEnd(Throwable cause, boolean compacted);
    }

    public Snapshot readAll(String prefix) {
        GetResponse response = await(client.getKVClient().get(bytes(prefix),
                GetOption.builder().isPrefix(true).build()), "read " + prefix);
        SortedMap<String, String> keys = new TreeMap<>();
        for (KeyValue kv : response.getKvs()) {
            keys.put(string(kv.getKey()), string(kv.getValue()));
        }
        return new Snapshot(response.getHeader().getRevision(), keys);
    }

    /** Puts and deletes in one transaction; its revision. */
    public long commit(Map<String, String> puts, Collection<String> deletes) {
        List<Op> ops = new ArrayList<>();
        puts.forEach((k, v) -> ops.add(Op.put(bytes(k), bytes(v), PutOption.DEFAULT)));
        deletes.forEach(k -> ops.add(Op.delete(bytes(k), DeleteOption.DEFAULT)));
        TxnResponse response = await(client.getKVClient().txn().Then(ops.toArray(Op[]::new)).commit(),
                "write " + ops.size() + " key(s)");
        return response.getHeader().getRevision();
    }

    /** A key's value and its mod revision; {@code value} null and {@code modRevision} 0 when absent. */
    public record Entry(String value, long modRevision) {
    }

    /** One key, read linearizably (so it needs quorum), within {@code deadline}. */
    public Entry get(String key, Duration deadline) {
        GetResponse response = await(client.getKVClient().get(bytes(key)), "read " + key, deadline);
        if (response.getKvs().isEmpty()) {
            return new Entry(null, 0);
        }
        KeyValue kv = response.getKvs().getFirst();
        return new Entry(string(kv.getValue()), kv.getModRevision());
    }

    /**
     * Puts and deletes in one transaction that applies only if every key of {@code expected} still
     * has the given mod revision (0: the key is absent). Its revision; -1 when a compare failed
     * (nothing written). A failure (the deadline included) leaves the outcome unknown.
     */
    public long commitIf(Map<String, Long> expected, Map<String, String> puts, Collection<String> deletes) {
        List<Cmp> compares = new ArrayList<>();
        expected.forEach((k, r) -> compares.add(new Cmp(bytes(k), Cmp.Op.EQUAL, CmpTarget.modRevision(r))));
        List<Op> ops = new ArrayList<>();
        puts.forEach((k, v) -> ops.add(Op.put(bytes(k), bytes(v), PutOption.DEFAULT)));
        deletes.forEach(k -> ops.add(Op.delete(bytes(k), DeleteOption.DEFAULT)));
        TxnResponse response = await(client.getKVClient().txn().If(compares.toArray(Cmp[]::new))
                .Then(ops.toArray(Op[]::new)).commit(), "write " + ops.size() + " key(s) if unchanged", CALL_DEADLINE);
        return response.isSucceeded() ? response.getHeader().getRevision() : -1;
    }

    /**
     * Creates {@code key} bound to {@code lease} only if it does not exist (an election: the first
     * to create it holds it until its lease ends); the revision that created it, or -1 when it exists.
     */
    public long createIfAbsent(String key, String value, long lease) {
        TxnResponse response = await(client.getKVClient().txn()
                .If(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(bytes(key), bytes(value), PutOption.builder().withLeaseId(lease).build())).commit(),
                "create " + key);
        return response.isSucceeded() ? response.getHeader().getRevision() : -1;
    }

    /**
     * Puts and deletes in one transaction that applies only while {@code guard} holds exactly
     * {@code guardValue} (say, the leader key still names this node's life) and every key of
     * {@code expected} holds its value (null: the key does not exist). Its revision; -1 when a
     * compare failed (nothing written).
     */
    public long commitWhile(String guard, String guardValue, Map<String, String> expected, Map<String, String> puts,
                            Collection<String> deletes) {
        List<Cmp> compares = new ArrayList<>();
        compares.add(new Cmp(bytes(guard), Cmp.Op.EQUAL, CmpTarget.value(bytes(guardValue))));
        expected.forEach((k, v) -> compares.add(v == null
                ? new Cmp(bytes(k), Cmp.Op.EQUAL, CmpTarget.createRevision(0))
                : new Cmp(bytes(k), Cmp.Op.EQUAL, CmpTarget.value(bytes(v)))));
        List<Op> ops = new ArrayList<>();
        puts.forEach((k, v) -> ops.add(Op.put(bytes(k), bytes(v), PutOption.DEFAULT)));
        deletes.forEach(k -> ops.add(Op.delete(bytes(k), DeleteOption.DEFAULT)));
        TxnResponse response = await(client.getKVClient().txn().If(compares.toArray(Cmp[]::new))
                .Then(ops.toArray(Op[]::new)).commit(), "write " + ops.size() + " key(s) while " + guard + " holds",
                CALL_DEADLINE);
        return response.isSucceeded() ? response.getHeader().getRevision() : -1;
    }

    /** Puts one key bound to {@code lease} (0 = none); its revision. */
    public long put(String key, String value, long lease) {
        PutOption option = lease == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(lease).build();
        return await(client.getKVClient().put(bytes(key), bytes(value), option), "write " + key)
                .getHeader().getRevision();
    }

    /** A new lease of {@code ttl} (whole seconds); its id. */
    public long grantLease(Duration ttl) {
        return await(client.getLeaseClient().grant(ttl.toSeconds()), "grant a lease").getID();
    }

    /** Revokes {@code lease}, so the keys bound to it go at once (a graceful stop). */
    public void revokeLease(long lease) {
        await(client.getLeaseClient().revoke(lease), "revoke the lease");
    }

    /** Keeps {@code lease} alive until closed; {@code observer} hears each renewal and the end. */
    public CloseableClient keepAlive(long lease, StreamObserver<LeaseKeepAliveResponse> observer) {
        return client.getLeaseClient().keepAlive(lease, observer);
    }

    /**
     * Watches every key under {@code prefix} from {@code fromRevision}, delivering each revision's
     * changes together (etcd never splits one revision over two responses). Requires a leader, so
     * a member cut off from quorum ends the watch instead of going quiet.
     */
    public Watch.Watcher watch(String prefix, long fromRevision, Changes changes) {
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(fromRevision)
                .withRequireLeader(true).build();
        return client.getWatchClient().watch(bytes(prefix), option, new Watch.Listener() {
            @Override
            public void onNext(io.etcd.jetcd.watch.WatchResponse response) {
                long revision = -1;
                List<Change> batch = new ArrayList<>();
                for (var event : response.getEvents()) {
                    long r = event.getKeyValue().getModRevision();
                    if (r != revision && !batch.isEmpty()) {
                        changes.onRevision(revision, List.copyOf(batch));
                        batch.clear();
                    }
                    revision = r;
                    String key = string(event.getKeyValue().getKey());
                    batch.add(new Change(key, switch (event.getEventType()) {
                        case PUT -> string(event.getKeyValue().getValue());
                        case DELETE, UNRECOGNIZED -> null;
                    }));
                }
                if (!batch.isEmpty()) {
                    changes.onRevision(revision, List.copyOf(batch));
                }
            }

            @Override
            public void onError(Throwable cause) {
                changes.onEnd(cause, cause instanceof io.etcd.jetcd.common.exception.CompactedException);
            }

            @Override
            public void onCompleted() {
                changes.onEnd(null, false);
            }
        });
    }

    /** One etcd member's answer to a status call. */
    public record EndpointStatus(String endpoint, boolean up, String detail) {
    }

    /** The status of every configured endpoint, each within the deadline. */
    public List<EndpointStatus> health() {
        List<EndpointStatus> out = new ArrayList<>();
        for (URI endpoint : endpoints) {
            try {
                var status = await(client.getMaintenanceClient().statusMember(endpoint.toString()),
                        "ask " + endpoint + " for its status");
                out.add(new EndpointStatus(endpoint.toString(), true, "etcd " + status.getVersion()
                        + (status.getLeader() == status.getHeader().getMemberId() ? ", leader" : "")));
            } catch (EtcdUnavailableException e) {
                out.add(new EndpointStatus(endpoint.toString(), false, e.getMessage()));
            }
        }
        return out;
    }

    @Override
    public void close() {
        client.close();
    }

    private <T> T await(CompletableFuture<T> call, String what) {
        return await(call, what, CALL_DEADLINE);
    }

    private <T> T await(CompletableFuture<T> call, String what, Duration deadline) {
        try {
            return call.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw unavailable("etcd did not answer within " + deadline.toMillis() + " ms (" + what + ")", what, null);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw unavailable("etcd: cannot " + what + ": " + oneLine(cause), what, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EtcdUnavailableException("interrupted while waiting for etcd (" + what + ")");
        }
    }

    /** A failed call's exception: what gRPC said, or, over TLS, the handshake's failure when that is the cause. */
    private EtcdUnavailableException unavailable(String message, String what, Throwable cause) {
        String tls = tlsCheck == null ? null : tlsCheck.failure();
        return new EtcdUnavailableException(tls == null ? message : tls + " (" + what + ")", cause);
    }

    /**
     * jetcd logs a warning for each retry of each call while etcd is away; the caller reports the
     * call's failure once, in Fulcrum's words, so only jetcd's errors are kept.
     */
    private static void quietJetcd() {
        if (org.slf4j.LoggerFactory.getLogger("io.etcd") instanceof ch.qos.logback.classic.Logger logger
                && logger.getLevel() == null) {
            logger.setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static String string(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
