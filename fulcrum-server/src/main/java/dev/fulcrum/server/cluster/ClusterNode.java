package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fulcrum.server.FulcrumServer;
import dev.fulcrum.server.admin.ClusterStatus;
import dev.fulcrum.server.admin.HookResult;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.net.StartException;
import dev.fulcrum.server.registry.PoolEvent;
import io.etcd.jetcd.Watch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One node of a cluster (spec cluster.md): its config is the shared part from etcd plus its own
 * file. At start it reads the whole prefix (or, with etcd unreachable, the state saved in
 * {@code state-dir}), starts the {@link FulcrumServer} from it, then watches from the next
 * revision: each revision (one etcd transaction) is applied whole, in revision order, as a reload —
 * the existing path, a diff applied on the control thread; revisions that arrived while the last
 * reload ran are applied together, as one reload (and one {@code config-applied}). A watch that ends ("no leader", a
 * disconnect) is resumed from the revision last applied; one whose start was compacted away, and
 * a return of etcd after an outage, read everything again; so does a full re-read every
 * {@link #RESYNC_INTERVAL}, a safety net. Each applied state goes to {@link StateFile}. The node
 * is in the member list under a lease of {@code lease-ttl}, re-granted whenever its keep-alive
 * ends; its member record carries its admin address, applied revision and last renewal.
 *
 * <p>Threads: everything that changes this node's view runs on its one {@code fulcrum-cluster}
 * thread (watch responses and keep-alive ends are handed to it), so revisions apply one at a time
 * and in order; the admin API reads the {@link ClusterStatus} it last published.
 */
public final class ClusterNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How often the whole prefix is read again even though the watch looks healthy. */
    static final Duration RESYNC_INTERVAL = Duration.ofSeconds(30);
    /** How often etcd's reachability is checked (a small read): the watch alone can go quiet. */
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    /** Reads of etcd at start, each within its deadline, before a node without a saved state gives up. */
    static final int START_READS = 3;

    private final FulcrumConfig.Cluster cluster;
    private final KeyLayout layout;
    private final Path file;
    private final Map<String, String> env;
    private final EtcdStore store;
    private final StateFile stateFile;
    private final ScheduledExecutorService thread;

    // --- confined to the cluster thread ---
    private ObjectNode localTree;
    /** The node file's addresses for shared listeners; a reload of the file may change them. */
    private Map<String, dev.fulcrum.core.HostPort> listens;
    private FulcrumServer server;
    /** Every key under the prefix as last applied (config and members). */
    private SortedMap<String, String> keys = new TreeMap<>();
    private long revision;
    private Watch.Watcher watcher;
    /** Bumped whenever a watch is replaced: a late message of an old one is ignored. */
    private long watchGeneration;
    /** Revisions the watch delivered (on jetcd's threads), taken by {@link #applyArrived} on this thread. */
    private final java.util.Queue<Arrived> arrived = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final MemberLease member;
    private Instant lastResync = Instant.now();
    private boolean closing;
    /** Admin API writes waiting for their revision to be applied ({@link #applied}). */
    private final List<Waiter> waiters = new ArrayList<>();

    // --- read anywhere ---
    private volatile boolean etcdUp;
    private volatile ClusterStatus status;
    /** This node's leader record while it holds the auto-scaling election (as of the last revision applied). */
    private volatile LeaderRecord leading;
    /** What etcd records about auto-scaling (cooldowns, pending actions, who started what), as of the last revision applied. */
    private volatile ScalingState scaling = ScalingState.EMPTY;
    /** Told when this node starts to lead; set once the auto-scalers know it. Cluster thread. */
    private GuardedScaling guarded;

    private ClusterNode(FulcrumConfig local, Path file, ObjectNode localTree, Map<String, String> env) {
        this.cluster = local.cluster();
        this.layout = new KeyLayout(cluster.prefix());
        this.file = file;
        this.env = env;
        this.localTree = localTree;
        this.listens = cluster.listens();
        this.store = new EtcdStore(cluster);
        this.stateFile = new StateFile(cluster.stateDir());
        String address = local.admin().listen().toString();
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fulcrum-cluster");
            t.setDaemon(true);
            return t;
        });
        this.member = new MemberLease(store, layout, cluster.node(), address, cluster.leaseTtl(), this::later);
        this.status = new ClusterStatus(cluster.node(), "down", 0, null, List.of());
    }

    /**
     * Starts the node of {@code local} (a config with a {@code cluster} section, read from
     * {@code file}) and its server.
     *
     * @throws StartException when neither etcd nor {@code state-dir} has a state to start from, or
     *                        the server does not start
     */
    public static ClusterNode start(FulcrumConfig local, Path file) {
        ObjectNode tree;
        try {
            tree = SharedConfig.readTree(file);
        } catch (IOException e) {
            throw new StartException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ClusterNode node = new ClusterNode(local, file, tree, System.getenv());
        try {
            FulcrumConfig first = node.onThread(node::firstConfig);
            FulcrumServer server = FulcrumServer.start(first, file);
            node.onThread(() -> {
                node.server = server;
                node.afterStart();
                return null;
            });
            GuardedScaling scaling = new GuardedScaling(node.store, node.layout, node.cluster.node(), node::leading,
                    () -> node.scaling, node::applied);
            server.autoscaleInCluster(scaling);
            node.onThread(() -> {
                node.guarded = scaling;
                return null;
            });
            server.attachCluster(() -> node.status, node::reloadFromFile,
                    new ClusterWrites(node.store, node.layout, node::applied));
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    public FulcrumServer server() {
        return server;
    }

    /** The view {@code GET /api/v1/cluster} shows. */
    public ClusterStatus status() {
        return status;
    }

    /**
     * The config to start from: etcd's, or the state saved in state-dir when etcd does not answer.
     * Without a saved state to fall back on, the read is tried {@link #START_READS} times: a node
     * started beside a busy etcd (its connection still being made) should not give up at the first
     * deadline when waiting a little more is all it can do anyway.
     */
    private FulcrumConfig firstConfig() {
        for (int attempt = 1; ; attempt++) {
            try {
                EtcdStore.Snapshot snapshot = store.readAll(layout.root());
                keys = new TreeMap<>(snapshot.keys());
                revision = snapshot.revision();
                etcdUp = true;
                log.info("cluster: read {} key(s) from etcd at revision {}", keys.size(), revision);
                return compose();
            } catch (EtcdUnavailableException e) {
                Optional<StateFile.State> saved;
                try {
                    saved = stateFile.read();
                } catch (IOException io) {
                    throw new StartException(e.getMessage() + "; and the saved state is unreadable: " + io.getMessage(),
                            io);
                }
                if (saved.isPresent()) {
                    keys = new TreeMap<>(saved.get().keys());
                    revision = saved.get().revision();
                    log.warn("cluster: {}; starting from the state saved at revision {} in {}", e.getMessage(),
                            revision, stateFile.path());
                    return compose();
                }
                if (attempt == START_READS) {
                    throw new StartException(e.getMessage() + "; and no saved state in " + stateFile.path()
                            + " to start from");
                }
                log.warn("cluster: {}; no saved state to start from: asking etcd again", e.getMessage());
            }
        }
    }

    /** After the server started: save the state, join the member list, watch, and check etcd periodically. */
    private void afterStart() {
        applyDrains();
        saveState();
        if (etcdUp) {
            register();
            watchFrom(revision + 1);
        } else {
            server.registry().emit(new PoolEvent.EtcdUnavailable(server.registry().now(),
                    "etcd unreachable at start; serving the state saved at revision " + revision));
        }
        publishStatus();
        thread.scheduleWithFixedDelay(this::heartbeat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private FulcrumConfig compose() {
        for (String name : listens.keySet()) {
            if (!keys.containsKey(layout.listener(name))) {
                log.warn("cluster: {} gives listener {} an address, but etcd has no listener {} (pushed yet?)",
                        file, name, name);
            }
        }
        return SharedConfig.build(localTree, keys, layout, listens, "etcd@" + revision, env);
    }

    // ------------------------------------------------------------------ watch

    private void watchFrom(long from) {
        if (watcher != null) {
            watcher.close();
        }
        long generation = ++watchGeneration;
        watcher = store.watch(layout.root(), from, new EtcdStore.Changes() {
            @Override
            public void onRevision(long rev, List<EtcdStore.Change> changes) {
                arrived.add(new Arrived(generation, rev, changes));
                later(ClusterNode.this::applyArrived);
            }

            @Override
            public void onEnd(Throwable cause, boolean compacted) {
                later(() -> {
                    if (generation == watchGeneration) {
                        watchEnded(cause, compacted);
                    }
                });
            }
        });
    }

    /** One revision as the watch {@code generation} delivered it. */
    private record Arrived(long generation, long revision, List<EtcdStore.Change> changes) {
    }

    private void watchEnded(Throwable cause, boolean compacted) {
        if (closing) {
            return;
        }
        watcher.close();
        watcher = null;
        watchGeneration++;
        if (compacted) {
            log.warn("cluster: the watch's revisions were compacted away; reading everything again");
            resync();
        } else {
            // resumed by the heartbeat, from the revision last applied
            log.warn("cluster: the etcd watch ended ({}); resuming from revision {}",
                    cause == null ? "completed" : EtcdStore.oneLine(cause), revision + 1);
        }
    }

    /**
     * Every revision the watch delivered so far, in order: each etcd transaction taken whole, once,
     * and one reload for all of them. Under a burst of writes the watch runs ahead of the reloads
     * (each one a diff, a state file written and synced, a member record written); taking what
     * arrived meanwhile together keeps a node as fast as the writes, where one reload per revision
     * fell behind by seconds at 50 writes a second. A node never serves half a transaction.
     */
    private void applyArrived() {
        boolean configChanged = false;
        boolean any = false;
        for (Arrived a = arrived.poll(); a != null; a = arrived.poll()) {
            if (a.generation() != watchGeneration || a.revision() <= revision) {
                continue; // an old watch's, or a resumed watch or a re-read already covered it
            }
            for (EtcdStore.Change change : a.changes()) {
                String before = change.value() == null ? keys.remove(change.key())
                        : keys.put(change.key(), change.value());
                if (layout.isConfig(change.key())) {
                    configChanged = true;
                } else if (layout.parse(change.key()) instanceof KeyLayout.Member m) {
                    memberChanged(m.node(), before, change.value());
                }
            }
            revision = a.revision();
            any = true;
        }
        if (!any) {
            return;
        }
        markUp();
        if (configChanged) {
            applyConfig();
        }
        publishStatus();
        if (!keys.containsKey(layout.leader())) {
            campaign(); // the leader left: the first node to create the key leads
        }
    }

    private void memberChanged(String node, String before, String after) {
        if (before == null && after != null) {
            server.registry().emit(new PoolEvent.MemberJoined(server.registry().now(), node,
                    "node " + node + " joined the cluster"));
        } else if (before != null && after == null) {
            boolean stopped = MemberLease.stopping(before);
            server.registry().emit(new PoolEvent.MemberLeft(server.registry().now(), node, stopped, stopped
                    ? "node " + node + " stopped and left the member list"
                    : "node " + node + " left the member list: its lease expired (dead, hung or cut off from etcd)"));
        }
    }

    /** Reloads the server with the composed config of the current keys; keeps the running one when it is invalid. */
    private void applyConfig() {
        FulcrumConfig next;
        try {
            next = compose();
        } catch (ConfigException e) {
            log.error("cluster: etcd revision {} holds a config this node cannot run; keeping the running one:\n{}",
                    revision, e.getMessage());
            return;
        } catch (IllegalArgumentException e) {
            log.error("cluster: etcd revision {} holds a value that is not JSON ({}); keeping the running config",
                    revision, e.getMessage());
            return;
        }
        try {
            server.reload(next);
        } catch (StartException e) {
            log.warn("cluster: revision {} applied, but: {}", revision, e.getMessage());
        } catch (IllegalStateException e) {
            log.warn("cluster: revision {} not applied: {}", revision, e.getMessage());
            return;
        }
        applyDrains();
        server.registry().emit(new PoolEvent.ConfigApplied(server.registry().now(), revision,
                "revision " + revision + " applied"));
        publishStatus(); // serving it now; saving it and telling the others follow
        saveState();
        writeMember();
    }

    /**
     * Drains or enables each shared server as its entry says ({@code "drain": true}, written by an
     * admin API drain on any node). Admin intent is not config: the reload keeps a server's drain
     * as it was, so it is set here, one command per server that differs. A server being removed
     * is left alone (its removal decides).
     */
    private void applyDrains() {
        java.util.Set<KeyLayout.PoolServer> drained = SharedConfig.drained(keys, layout);
        var registry = server.registry();
        for (String key : keys.keySet()) {
            if (!(layout.parse(key) instanceof KeyLayout.PoolServer ps)) {
                continue;
            }
            try {
                var pool = registry.pool(ps.pool());
                var s = registry.server(pool, ps.address());
                boolean drain = drained.contains(ps);
                if (s.isBeingRemoved() || s.isDraining() == drain) {
                    continue;
                }
                if (drain) {
                    registry.drainServer(ps.pool(), ps.address());
                } else {
                    registry.enableServer(ps.pool(), ps.address());
                }
            } catch (java.util.NoSuchElementException | IllegalStateException e) {
                log.debug("cluster: drain state of {} not applied: {}", key, e.getMessage());
            }
        }
    }

    private void saveState() {
        try {
            stateFile.write(new StateFile.State(revision, SharedConfig.configKeys(keys, layout)));
        } catch (IOException e) {
            log.warn("cluster: cannot save the applied state to {}: {}", stateFile.path(), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ re-read and heartbeat

    /** Reads the whole prefix, applies what differs, and watches from after it. */
    private void resync() {
        EtcdStore.Snapshot snapshot;
        try {
            snapshot = store.readAll(layout.root());
        } catch (EtcdUnavailableException e) {
            markDown(e.getMessage());
            return;
        }
        lastResync = Instant.now();
        markUp();
        SortedMap<String, String> before = keys;
        boolean configChanged = !SharedConfig.configKeys(before, layout)
                .equals(SharedConfig.configKeys(snapshot.keys(), layout));
        membersDiff(before, snapshot.keys());
        keys = new TreeMap<>(snapshot.keys());
        // the read is linearizable, so it is at least what was applied; lower only when etcd was
        // rebuilt from scratch, and then its revisions are the ones to follow
        revision = snapshot.revision();
        if (configChanged) {
            log.info("cluster: read everything again at revision {}: the shared config differs from the applied one",
                    snapshot.revision());
            applyConfig();
        }
        if (!member.registered()) {
            register();
        }
        watchFrom(snapshot.revision() + 1);
        publishStatus();
    }

    private void membersDiff(Map<String, String> before, Map<String, String> after) {
        for (String key : before.keySet()) {
            if (layout.parse(key) instanceof KeyLayout.Member m && !after.containsKey(key)) {
                memberChanged(m.node(), before.get(key), null);
            }
        }
        for (String key : after.keySet()) {
            if (layout.parse(key) instanceof KeyLayout.Member m && !before.containsKey(key)) {
                memberChanged(m.node(), null, after.get(key));
            }
        }
    }

    /**
     * Every {@link #HEARTBEAT}: is etcd there? A watch that ended is resumed; after an outage, or
     * every {@link #RESYNC_INTERVAL}, everything is read again; the member record is refreshed.
     */
    private void heartbeat() {
        if (closing) {
            return;
        }
        try {
            boolean wasUp = etcdUp;
            if (!wasUp || Duration.between(lastResync, Instant.now()).compareTo(RESYNC_INTERVAL) >= 0) {
                resync();
                return;
            }
            if (watcher == null) {
                // resume where this node was: a compacted start ends the watch again, then everything is read
                store.readAll(layout.members()); // reachable? (a watch call alone does not say)
                watchFrom(revision + 1);
            }
            if (!member.registered()) {
                register();
            } else if (member.writeDue()) {
                writeMember();
            }
            if (!keys.containsKey(layout.leader())) {
                campaign();
            }
        } catch (EtcdUnavailableException e) {
            markDown(e.getMessage());
        } catch (RuntimeException e) {
            log.warn("cluster: heartbeat failed", e);
        }
    }

    private void markUp() {
        if (!etcdUp) {
            etcdUp = true;
            server.registry().emit(new PoolEvent.EtcdAvailable(server.registry().now(), "etcd reachable again"));
        }
    }

    private void markDown(String why) {
        if (etcdUp) {
            etcdUp = false;
            server.registry().emit(new PoolEvent.EtcdUnavailable(server.registry().now(),
                    why + "; serving revision " + revision));
            publishStatus();
        }
    }

    // ------------------------------------------------------------------ membership

    /** A new lease and this node's member record under it. */
    private void register() {
        try {
            member.register(revision);
        } catch (EtcdUnavailableException e) {
            markDown(e.getMessage());
        }
    }

    /**
     * Tries to become the auto-scaling leader: creates the leader key bound to this node's member
     * lease if nobody holds it. The outcome arrives through the watch like any change (so every
     * node learns the leader the same way); losing the lease loses the leadership.
     */
    private void campaign() {
        if (closing || !member.registered()) {
            return;
        }
        try {
            long won = store.createIfAbsent(layout.leader(), new LeaderRecord(cluster.node(), member.lease()).json(),
                    member.lease());
            if (won > 0) {
                log.info("cluster: this node leads auto-scaling from revision {}", won);
            }
        } catch (EtcdUnavailableException e) {
            markDown(e.getMessage());
        }
    }

    /** This node's leader record while it leads auto-scaling and reaches etcd; null otherwise. Read anywhere. */
    LeaderRecord leading() {
        return etcdUp ? leading : null;
    }

    private void writeMember() {
        try {
            member.write(revision, false);
        } catch (EtcdUnavailableException e) {
            markDown(e.getMessage());
        }
    }

    private void publishStatus() {
        LeaderRecord leader = LeaderRecord.parse(keys.get(layout.leader()));
        LeaderRecord was = leading;
        leading = leader != null && member.registered() && leader.node().equals(cluster.node())
                && leader.lease() == member.lease() ? leader : null;
        if (leading != null && !leading.equals(was) && guarded != null) {
            guarded.started();
        }
        scaling = ScalingState.of(keys, layout);
        status = new ClusterStatus(cluster.node(), etcdUp ? "up" : "down", revision, leader == null ? null : leader.node(),
                ClusterMembers.parse(keys, layout));
        if (!waiters.isEmpty()) {
            waiters.removeIf(w -> w.done().isDone() || reached(w) && w.done().complete(null));
        }
    }

    // ------------------------------------------------------------------ waiting for a revision

    private record Waiter(long revision, boolean everyMember, java.util.concurrent.CompletableFuture<Void> done) {
    }

    /**
     * Completes once this node has applied {@code revision} and, with {@code everyMember}, once
     * every live member's record says it has (each member writes its applied revision after each
     * config change it applies). Never times out by itself: the caller bounds the wait and may
     * cancel; a cancelled wait is dropped at the next revision.
     */
    java.util.concurrent.CompletableFuture<Void> applied(long revision, boolean everyMember) {
        var done = new java.util.concurrent.CompletableFuture<Void>();
        later(() -> {
            Waiter w = new Waiter(revision, everyMember, done);
            if (!reached(w)) {
                waiters.add(w);
            } else {
                done.complete(null);
            }
        });
        return done;
    }

    private boolean reached(Waiter w) {
        if (revision < w.revision()) {
            return false;
        }
        return !w.everyMember() || status.members().stream().allMatch(m -> m.appliedRevision() >= w.revision());
    }

    // ------------------------------------------------------------------ reload and stop

    /** SIGHUP and {@code POST /api/v1/reload}: this node's file again, with etcd's shared config. */
    private HookResult reloadFromFile() {
        try {
            return onThread(() -> {
                FulcrumConfig local;
                ObjectNode tree;
                try {
                    local = ConfigLoader.load(file);
                    tree = SharedConfig.readTree(file);
                } catch (ConfigException e) {
                    return HookResult.failed(e.getMessage());
                } catch (IOException e) {
                    return HookResult.failed("cannot read " + file + ": " + e.getMessage());
                }
                if (local.cluster() == null) {
                    return HookResult.failed(file + " no longer has a cluster section; restart to leave the cluster");
                }
                if (!sameCluster(local.cluster(), cluster)) {
                    log.warn("cluster: a changed cluster section takes effect at the next start");
                }
                localTree = tree;
                listens = local.cluster().listens();
                applyConfig();
                return HookResult.success();
            });
        } catch (RuntimeException e) {
            return HookResult.failed(e.getMessage());
        }
    }

    /** The cluster sections without the listen addresses (which a reload does apply). */
    private static boolean sameCluster(FulcrumConfig.Cluster a, FulcrumConfig.Cluster b) {
        return a.etcd().equals(b.etcd()) && a.prefix().equals(b.prefix()) && java.util.Objects.equals(a.node(), b.node())
                && a.leaseTtl().equals(b.leaseTtl()) && a.stateDir().equals(b.stateDir())
                && java.util.Objects.equals(a.tls(), b.tls());
    }

    /**
     * Leaves the cluster: the lease is revoked (the member record goes at once, not after
     * lease-ttl), the watch and the etcd client close. Call after the server stopped.
     */
    @Override
    public void close() {
        try {
            onThread(() -> {
                closing = true;
                if (watcher != null) {
                    watcher.close();
                }
                try {
                    member.leave(revision); // marked stopping: no FulcrumClusterMemberLost on the others
                } catch (EtcdUnavailableException e) {
                    log.info("cluster: lease not revoked ({}); the member record goes after lease-ttl",
                            e.getMessage());
                }
                return null;
            });
        } catch (RuntimeException e) {
            log.warn("cluster: leaving the cluster: {}", e.getMessage());
        }
        thread.shutdownNow();
        store.close();
    }

    /** Runs {@code task} on the cluster thread later; dropped once the node closed (jetcd may still call back). */
    private void later(Runnable task) {
        try {
            thread.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            log.debug("cluster: closed; a late etcd callback dropped");
        }
    }

    /** Runs {@code task} on the cluster thread and waits for it; its runtime exceptions are rethrown. */
    private <T> T onThread(java.util.concurrent.Callable<T> task) {
        try {
            return thread.submit(task).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new IllegalStateException("the cluster node is closed");
        }
    }
}
