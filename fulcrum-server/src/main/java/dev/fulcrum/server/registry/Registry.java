package dev.fulcrum.server.registry;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * All pools of the running instance, and the operations that change them: add, remove (drain, then
 * forget), drain and enable a server. The admin API, reload, health checks and the auto-scaler call
 * these; the data plane only reads {@link PoolRuntime#snapshot()}.
 *
 * <p>Removal never drops in-flight work: the server leaves rotation at once (a new snapshot is
 * published before this returns), and is forgotten when its in-flight requests reach zero or the
 * pool's {@code drain-timeout} passes, whichever comes first.
 *
 * <p>Thread-safe. Events are delivered on the caller's thread (or the registry's timer for
 * removals), after the snapshot that reflects them is published.
 */
public final class Registry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Registry.class);
    private static final long DRAIN_POLL_MS = 50;

    private final Clock clock;
    private final Map<String, PoolRuntime> pools = new ConcurrentHashMap<>();
    private final Map<Server, Removal> removals = new ConcurrentHashMap<>();
    private final List<Consumer<RegistryEvent>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer;
    /**
     * Whether a health prober runs: only then does a new server wait in {@code checking} for its
     * first passing check. Without one it would never leave {@code checking}.
     */
    private volatile boolean healthChecking;
    /** The pool DSR forwards to (its servers must be IPv4 addresses), or null without DSR. */
    private volatile String dsrPool;

    private record Removal(PoolRuntime pool, Instant deadline, String reason) {
    }

    public Registry(Clock clock) {
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fulcrum-registry");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::finishRemovals, DRAIN_POLL_MS, DRAIN_POLL_MS, TimeUnit.MILLISECONDS);
    }

    /** Builds the pools of a config, with their servers. */
    public static Registry fromConfig(FulcrumConfig config, Clock clock) {
        Registry registry = new Registry(clock);
        if (config.dsr() != null) {
            registry.dsrPool = config.dsr().pool();
        }
        for (PoolConfig pc : config.pools()) {
            registry.addPool(pc);
        }
        return registry;
    }

    /** Called by the health prober when it starts: from then on new servers start {@code checking}. */
    public void enableHealthChecking() {
        this.healthChecking = true;
    }

    /** Listens to every event; the consumer must be quick and must not throw. */
    public void onEvent(Consumer<RegistryEvent> listener) {
        listeners.add(listener);
    }

    public PoolRuntime addPool(PoolConfig config) {
        Pool pool = new Pool(config.name(), config.algorithm(),
                config.hashKey() == null ? HashKey.SOURCE_IP : config.hashKey());
        PoolRuntime runtime = new PoolRuntime(pool, config);
        if (pools.putIfAbsent(config.name(), runtime) != null) {
            throw new IllegalStateException("pool " + config.name() + " already exists");
        }
        for (FulcrumConfig.ServerEntry entry : config.servers()) {
            addServer(config.name(), entry.address(), entry.weight());
            runtime.fromConfig().add(entry.address().toString());
        }
        return runtime;
    }

    /**
     * Applies a reloaded config's pools: new pools appear, pools no longer listed drain and go,
     * existing pools take the new settings and balancing; servers the file added are registered
     * (and checked before traffic), servers the file dropped drain and go, weights change.
     * Servers added through the API or the auto-scaler stay unless their pool goes.
     */
    public synchronized void applyPools(List<PoolConfig> configs) {
        // checked before anything changes: a reload applies whole or not at all
        for (PoolConfig pc : configs) {
            for (FulcrumConfig.ServerEntry entry : pc.servers()) {
                dsrAddressProblem(pc.name(), entry.address()).ifPresent(p -> {
                    throw new IllegalStateException(p);
                });
            }
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        for (PoolConfig pc : configs) {
            names.add(pc.name());
            PoolRuntime runtime = pools.get(pc.name());
            if (runtime == null) {
                addPool(pc);
                continue;
            }
            runtime.setSettings(pc);
            runtime.pool().setBalancing(pc.algorithm(), pc.hashKey() == null ? HashKey.SOURCE_IP : pc.hashKey());
            java.util.Set<String> wanted = new java.util.HashSet<>();
            for (FulcrumConfig.ServerEntry entry : pc.servers()) {
                String id = entry.address().toString();
                wanted.add(id);
                var existing = runtime.pool().find(id);
                if (existing.isEmpty()) {
                    addServer(pc.name(), entry.address(), entry.weight());
                } else {
                    Server server = existing.get();
                    if (removals.remove(server) != null) {
                        runtime.pool().setDraining(server, false);
                        emit("server-enabled", runtime, server, "listed again by the reloaded config");
                    }
                    runtime.pool().setWeight(server, entry.weight());
                }
            }
            for (String id : List.copyOf(runtime.fromConfig())) {
                if (!wanted.contains(id) && runtime.pool().find(id).isPresent()) {
                    removeServer(pc.name(), id);
                }
            }
            runtime.fromConfig().clear();
            runtime.fromConfig().addAll(wanted);
        }
        for (PoolRuntime runtime : List.copyOf(pools.values())) {
            if (!names.contains(runtime.name())) {
                for (Server server : runtime.pool().servers()) {
                    removeServer(runtime.name(), server.id());
                }
                pools.remove(runtime.name());
            }
        }
    }

    /**
     * Why {@code address} cannot join {@code poolName}, in one line: DSR finds its servers' MACs
     * by IPv4 address, so the pool it forwards to takes no names or IPv6 addresses.
     */
    private java.util.Optional<String> dsrAddressProblem(String poolName, HostPort address) {
        if (!poolName.equals(dsrPool) || address.isIpv4()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("pool " + poolName + " is the dsr pool: " + address
                + " must be an IPv4 address, like 10.0.0.21:80 (DSR reaches servers by IPv4 address and MAC)");
    }

    /** The pool named {@code name}. @throws NoSuchElementException when there is none */
    public PoolRuntime pool(String name) {
        PoolRuntime pool = pools.get(name);
        if (pool == null) {
            throw new NoSuchElementException("no pool named " + Escape.quote(name));
        }
        return pool;
    }

    public List<PoolRuntime> pools() {
        return List.copyOf(pools.values());
    }

    /**
     * Registers a server. With health checks configured (and a prober running, see
     * {@link #enableHealthChecking()}) it starts {@code checking}: no traffic until a check passes;
     * otherwise it is {@code up} at once.
     *
     * @throws IllegalStateException when the address is already registered in the pool
     * @throws IllegalArgumentException when the pool is DSR's and the address is not IPv4
     */
    public Server addServer(String poolName, HostPort address, int weight) {
        PoolRuntime pool = pool(poolName);
        dsrAddressProblem(poolName, address).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
        boolean checked = healthChecking && pool.settings().healthCheck() != null
                && pool.settings().healthCheck().type() != CheckType.NONE;
        Server server = pool.pool().add(address, weight, checked ? ServerState.CHECKING : ServerState.UP);
        emit("server-added", pool, server, "weight " + weight);
        return server;
    }

    /**
     * Starts removing a server: it drains at once and is forgotten when idle or at drain-timeout.
     *
     * @throws NoSuchElementException when the pool or server does not exist
     */
    public Server removeServer(String poolName, String address) {
        PoolRuntime pool = pool(poolName);
        Server server = server(pool, address);
        pool.pool().setDraining(server, true);
        Instant deadline = clock.instant().plus(pool.settings().drainTimeout());
        if (removals.putIfAbsent(server, new Removal(pool, deadline, "removed")) == null) {
            emit("server-draining", pool, server, "removal requested; in-flight " + server.activeRequests());
        }
        return server;
    }

    /** Stops new traffic to a server but keeps it registered. */
    public Server drainServer(String poolName, String address) {
        PoolRuntime pool = pool(poolName);
        Server server = server(pool, address);
        if (pool.pool().setDraining(server, true)) {
            emit("server-draining", pool, server, "drain requested; in-flight " + server.activeRequests());
        }
        return server;
    }

    /** Puts a drained server back into rotation (subject to its health). */
    public Server enableServer(String poolName, String address) {
        PoolRuntime pool = pool(poolName);
        Server server = server(pool, address);
        if (removals.containsKey(server)) {
            throw new IllegalStateException("server " + Escape.quote(address) + " is being removed");
        }
        if (pool.pool().setDraining(server, false)) {
            emit("server-enabled", pool, server, "enabled; state " + server.state());
        }
        return server;
    }

    /** Sets a server's health state (health checks, outlier detection); publishes, then emits. */
    public boolean setHealth(PoolRuntime pool, Server server, ServerState health, String eventType, String detail) {
        if (!pool.pool().setHealth(server, health)) {
            return false;
        }
        emit(eventType, pool, server, detail);
        return true;
    }

    public Server server(PoolRuntime pool, String address) {
        return pool.pool().find(address).orElseThrow(
                () -> new NoSuchElementException("no server " + Escape.quote(address) + " in pool " + pool.name()));
    }

    /** Servers that are draining towards removal. */
    public boolean isBeingRemoved(Server server) {
        return removals.containsKey(server);
    }

    /** Reports an event to every listener; {@code pool} and {@code server} may be null (pool-wide, global). */
    public void emit(String type, PoolRuntime pool, Server server, String detail) {
        RegistryEvent event = new RegistryEvent(clock.instant(), type, pool == null ? "" : pool.name(),
                server == null ? "" : server.id(), detail);
        log.info("{} pool={} server={} {}", type, event.pool(), event.server(), detail);
        for (Consumer<RegistryEvent> l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                log.warn("event listener failed on {}: {}", type, e.toString());
            }
        }
    }

    private void finishRemovals() {
        Instant now = clock.instant();
        removals.forEach((server, removal) -> {
            boolean idle = server.activeRequests() <= 0;
            if (idle || !now.isBefore(removal.deadline())) {
                removals.remove(server);
                removal.pool().pool().remove(server);
                emit("server-removed", removal.pool(), server, idle
                        ? "drained"
                        : "drain-timeout passed with " + server.activeRequests() + " in flight");
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
