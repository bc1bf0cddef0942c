package dev.fulcrum.core.pool;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.Balancer;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.balance.WeightedServer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * The registered servers of one pool and the mechanics of changing them: every change builds a
 * new {@link PoolSnapshot} (servers + a ready balancer) and publishes it with a single volatile
 * write before the method returns, so whoever reports the change (an event, an alert) does so after
 * the data plane can already see it. Which changes happen, and when, is decided by the server's
 * registry, whose commands run on one control thread.
 *
 * <p>Thread-safety: mutators are called from that one control thread; the pool's monitor still
 * serializes them, so a reader of {@link #servers()} on another thread sees a consistent list.
 * {@link #snapshot()} is a lock-free volatile read for the request path.
 */
public final class Pool {

    private final String name;
    private Algorithm algorithm;
    private HashKey hashKey;
    private final List<Server> servers = new ArrayList<>();
    private ToIntFunction<Server> effectiveWeight = Server::weight;
    /** In a cluster: consistent-hash tables are built over the shared server set ({@link Balancer#createShared}). */
    private boolean sharedTable;
    private long version;
    private volatile PoolSnapshot snapshot;
    /** Told of every snapshot as it is published (under the pool's lock); see {@link #onPublish}. */
    private java.util.function.Consumer<PoolSnapshot> published = s -> { };

    public Pool(String name, Algorithm algorithm, HashKey hashKey) {
        this.name = name;
        this.algorithm = algorithm;
        this.hashKey = hashKey;
        publish();
    }

    public String name() {
        return name;
    }

    public synchronized Algorithm algorithm() {
        return algorithm;
    }

    public synchronized HashKey hashKey() {
        return hashKey;
    }

    /** Switches the balancing algorithm or hash key (a reload) and republishes; servers stay. */
    public synchronized void setBalancing(Algorithm algorithm, HashKey hashKey) {
        if (this.algorithm == algorithm && this.hashKey.equals(hashKey)) {
            return;
        }
        this.algorithm = algorithm;
        this.hashKey = hashKey;
        publish();
    }

    /**
     * Tells {@code listener} of the current snapshot and of every one published after it, in order
     * (under the pool's lock, on the thread that changed the pool): for an owner that publishes the
     * snapshot together with its own state, so that readers get both with one volatile read.
     */
    public synchronized void onPublish(java.util.function.Consumer<PoolSnapshot> listener) {
        this.published = listener;
        listener.accept(snapshot);
    }

    /** The current snapshot; never null. */
    public PoolSnapshot snapshot() {
        return snapshot;
    }

    /** Registered servers (draining ones included), in registration order. */
    public synchronized List<Server> servers() {
        return List.copyOf(servers);
    }

    public synchronized Optional<Server> find(String id) {
        for (Server s : servers) {
            if (s.id().equals(id)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /**
     * Registers a server.
     *
     * @throws IllegalStateException when a server with that address is already registered
     */
    public synchronized Server add(HostPort address, int weight, ServerState health) {
        if (find(address.toString()).isPresent()) {
            throw new IllegalStateException("server " + address + " is already in pool " + name);
        }
        Server server = new Server(address, weight, health);
        servers.add(server);
        publish();
        return server;
    }

    /** Forgets a server at once (call after it drained); idle connections to it must close. */
    public synchronized boolean remove(Server server) {
        if (!servers.remove(server)) {
            return false;
        }
        server.markRemoved();
        publish();
        return true;
    }

    /** Sets the active checks' verdict on a server; returns false when nothing changed. */
    public synchronized boolean setCheck(Server server, CheckState check) {
        if (server.check() == check || !servers.contains(server)) {
            return false;
        }
        server.setCheck(check);
        publish();
        return true;
    }

    /**
     * Ejects a server until {@code until}, or ends its ejection ({@code null}); returns false when
     * nothing changed (an ejection's end moving counts as a change but needs no publication).
     */
    public synchronized boolean setEjectedUntil(Server server, java.time.Instant until) {
        if (!servers.contains(server) || java.util.Objects.equals(server.ejectedUntil(), until)) {
            return false;
        }
        boolean rotationChanges = server.isEjected() != (until != null);
        server.setEjectedUntil(until);
        if (rotationChanges) {
            publish();
        }
        return true;
    }

    /** Drains (true) or enables (false) a server; returns false when nothing changed. */
    public synchronized boolean setDraining(Server server, boolean draining) {
        if (server.isDraining() == draining || !servers.contains(server)) {
            return false;
        }
        server.setDraining(draining);
        publish();
        return true;
    }

    /**
     * Starts removing a server: it drains (no new requests) and is to be forgotten ({@link #remove})
     * once idle or at {@code deadline}, which the registry's drain timer sees to. Returns false when
     * nothing changed: not registered, or already being removed (its first deadline holds).
     */
    public synchronized boolean startRemoval(Server server, java.time.Instant deadline) {
        if (server.isBeingRemoved() || !servers.contains(server)) {
            return false;
        }
        server.setRemovalDeadline(deadline);
        server.setDraining(true);
        publish();
        return true;
    }

    /**
     * Cancels a server's removal: it stops draining and is back in rotation, subject to its
     * health. Returns false when it was not being removed.
     */
    public synchronized boolean cancelRemoval(Server server) {
        if (!server.isBeingRemoved() || !servers.contains(server)) {
            return false;
        }
        server.setRemovalDeadline(null);
        server.setDraining(false);
        publish();
        return true;
    }

    /**
     * Starts ({@code since}) or ends ({@code null}) a server's slow-start ramp and republishes, so
     * the balancer takes the weight {@link #setEffectiveWeight the effective-weight function} gives
     * it now; returns false when nothing changed.
     */
    public synchronized boolean setRampingSince(Server server, java.time.Instant since) {
        if (!servers.contains(server) || java.util.Objects.equals(server.rampingSince(), since)) {
            return false;
        }
        server.setRampingSince(since);
        publish();
        return true;
    }

    public synchronized boolean setWeight(Server server, int weight) {
        Server.checkWeight(weight);
        if (server.weight() == weight || !servers.contains(server)) {
            return false;
        }
        server.setWeight(weight);
        publish();
        return true;
    }

    /**
     * Replaces how a server's configured weight becomes its weight in the balancer (slow start
     * ramps it), and republishes. The function must return 0..weight and be cheap.
     */
    public synchronized void setEffectiveWeight(ToIntFunction<Server> effectiveWeight) {
        this.effectiveWeight = effectiveWeight;
        publish();
    }

    /**
     * From now on builds consistent-hash tables over every server that is not being removed, in
     * address order and with configured weights (what the nodes of a cluster share), and applies
     * this node's view of health only when picking; republishes.
     */
    public synchronized void useSharedTable() {
        if (!sharedTable) {
            sharedTable = true;
            publish();
        }
    }

    /** Rebuilds and publishes the snapshot, e.g. when slow-start weights moved. */
    public synchronized void republish() {
        publish();
    }

    private void publish() {
        List<WeightedServer> inRotation = new ArrayList<>(servers.size());
        for (Server s : servers) {
            if (s.isInRotation()) {
                int w = Math.min(s.weight(), effectiveWeight.applyAsInt(s));
                inRotation.add(new WeightedServer(s, Math.max(1, w)));
            }
        }
        List<WeightedServer> shared = sharedTable ? sharedServers() : null;
        Balancer balancer = shared != null ? Balancer.createShared(algorithm, shared, inRotation)
                : Balancer.create(algorithm, inRotation);
        snapshot = new PoolSnapshot(name, ++version, algorithm, hashKey, servers, balancer, shared);
        published.accept(snapshot);
    }

    /**
     * The servers every node of a cluster has alike: not being removed, weight above 0; in address
     * order, with configured weights (slow start, health and drains are this node's own).
     */
    private List<WeightedServer> sharedServers() {
        List<WeightedServer> shared = new ArrayList<>(servers.size());
        for (Server s : servers) {
            if (!s.isBeingRemoved() && !s.isRemoved() && s.weight() > 0) {
                shared.add(new WeightedServer(s, s.weight()));
            }
        }
        shared.sort(java.util.Comparator.comparing(ws -> ws.server().id()));
        return shared;
    }
}
