package dev.fulcrum.server.registry;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.pool.CheckState;
import dev.fulcrum.core.pool.Pool;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.core.reload.ReloadCommand;
import dev.fulcrum.core.reload.ReloadPlan;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.CheckType;
import dev.fulcrum.server.config.FulcrumConfig.PoolConfig;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.control.Scheduler;
import dev.fulcrum.server.tls.PoolTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * All pools of the running instance, and the commands that change them: add, remove (drain, then
 * forget), drain and enable a server, set its check verdict, eject it, apply a reloaded config. Every command runs
 * on the {@link ControlPlane}'s one thread ({@link #control()}): called from another thread it is
 * sent there and waited for ({@link ControlPlane#call}, bounded); called there it runs inline.
 * The admin API sends the same commands with {@link ControlPlane#submit} and answers from the
 * future, so no event loop waits. The data plane only reads {@link PoolRuntime#snapshot()}.
 *
 * <p>Removal never drops in-flight work: the server leaves rotation at once (a new snapshot is
 * published before the command returns), and is forgotten when its in-flight requests reach zero
 * or the pool's {@code drain-timeout} passes, whichever comes first (the drain timer polls on the
 * control thread every {@link #DRAIN_POLL}). That a server is being removed, and by when, is its
 * own flag ({@link Server#isBeingRemoved()}, {@link Server#removalDeadline()}). A reload and a
 * drain finishing are both commands, so a reload that lists a server either finds it draining (and
 * keeps it) or finds it gone (and adds it again): never "applied" and then gone.
 *
 * <p>Events ({@link PoolEvent}) are delivered on the control thread, after the snapshot that
 * reflects them is published. Queries ({@link #pool}, {@link #pools}) may be called from any
 * thread.
 */
public final class Registry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Registry.class);
    /** How often the drain timer looks at draining servers' in-flight requests. */
    public static final Duration DRAIN_POLL = Duration.ofMillis(50);

    private final ControlPlane control;
    /** Whether {@link #close()} closes the control plane too (this registry made it). */
    private final boolean ownsControl;
    /** Written on the control thread only; read anywhere. */
    private final Map<String, PoolRuntime> pools = new ConcurrentHashMap<>();
    /**
     * The pools with a server being removed, for the drain timer to look in: an index only (the
     * removal and its deadline are the server's flags), kept because a pool a reload dropped is no
     * longer in {@link #pools} while its servers still drain. Control thread only.
     */
    private final Set<PoolRuntime> removing = new LinkedHashSet<>();
    private final List<Consumer<PoolEvent>> listeners = new CopyOnWriteArrayList<>();
    /** The drain timer's next poll while removals are pending; control thread only. */
    private Scheduler.Scheduled drainPoll;
    /**
     * Whether a health prober runs: only then does a new server wait in {@code checking} for its
     * first passing check. Without one it would never leave {@code checking}.
     */
    private volatile boolean healthChecking;
    /** The pool DSR forwards to (its servers must be IPv4 addresses), or null without DSR. */
    private volatile String dsrPool;
    /** In a cluster: every pool builds its consistent-hash table over the shared server set ({@link Pool#useSharedTable}). */
    private volatile boolean sharedTables;

    /** A registry on a control thread of its own, closed with it. */
    public Registry(Clock clock) {
        this(ControlPlane.onThread(clock), true);
    }

    /** A registry whose commands run on {@code control} (which its creator closes). */
    public Registry(ControlPlane control) {
        this(control, false);
    }

    private Registry(ControlPlane control, boolean ownsControl) {
        this.control = control;
        this.ownsControl = ownsControl;
    }

    /** Builds the pools of a config, with their servers, on a control thread of its own. */
    public static Registry fromConfig(FulcrumConfig config, Clock clock) {
        return fromConfig(config, new Registry(clock));
    }

    /** Builds the pools of a config, with their servers; commands run on {@code control}. */
    public static Registry fromConfig(FulcrumConfig config, ControlPlane control) {
        return fromConfig(config, new Registry(control));
    }

    private static Registry fromConfig(FulcrumConfig config, Registry registry) {
        if (config.dsr() != null) {
            registry.dsrPool = config.dsr().pool();
        }
        // the nodes of a cluster share their servers: consistent hashing must agree across them
        registry.sharedTables = config.cluster() != null;
        for (PoolConfig pc : config.pools()) {
            registry.addPool(pc);
        }
        return registry;
    }

    /** The control plane every command of this registry runs on. */
    public ControlPlane control() {
        return control;
    }

    /** Called by the health prober when it starts: from then on new servers start {@code checking}. */
    public void enableHealthChecking() {
        this.healthChecking = true;
    }

    /**
     * Listens to every event from now on. Called on the control thread; the listener must be quick,
     * must not block, and must not throw.
     */
    public void onEvent(Consumer<PoolEvent> listener) {
        listeners.add(listener);
    }

    /** Registers a pool and its servers. A command. */
    public PoolRuntime addPool(PoolConfig config) {
        return control.call(() -> {
            PoolRuntime runtime = registerPool(config, loadTls(config));
            for (FulcrumConfig.ServerEntry entry : config.servers()) {
                addServer(config.name(), entry.address(), entry.weight());
                runtime.fromConfig().add(entry.address().toString());
            }
            return runtime;
        });
    }

    /**
     * The pool's TLS to its servers, its files read now; null without {@code tls}.
     *
     * @throws IllegalStateException with one line naming the pool and the file that does not load
     */
    private static PoolTls loadTls(PoolConfig config) {
        try {
            return PoolTls.load(config);
        } catch (IOException e) {
            throw new IllegalStateException(tlsProblem(config.name(), e));
        }
    }

    private static String tlsProblem(String pool, IOException e) {
        return "pool " + pool + ": cannot load the TLS files for its servers: " + e.getMessage();
    }

    /** Registers a pool without servers; control thread only. */
    private PoolRuntime registerPool(PoolConfig config, PoolTls tls) {
        Pool pool = new Pool(config.name(), config.algorithm(), hashKey(config));
        if (sharedTables) {
            pool.useSharedTable();
        }
        PoolRuntime runtime = new PoolRuntime(pool, config, tls);
        if (pools.putIfAbsent(config.name(), runtime) != null) {
            throw new IllegalStateException("pool " + config.name() + " already exists");
        }
        return runtime;
    }

    private static HashKey hashKey(PoolConfig config) {
        return config.hashKey() == null ? HashKey.SOURCE_IP : config.hashKey();
    }

    /**
     * Applies a reloaded config's pools, as one command: new pools appear, pools no longer listed
     * drain and go, existing pools take the new settings and balancing; servers the file added are
     * registered (and checked before traffic), servers the file dropped drain and go, weights
     * change ({@link PoolEvent.WeightChanged}); a listed server that is draining towards removal
     * stays ({@link PoolEvent.ServerEnabled}). Servers added through the API or the auto-scaler
     * stay unless their pool goes. Checked first, applied whole or not at all. What changes is
     * decided by {@link ReloadPlan#diff} (pure, in fulcrum-core); this applies its commands in order.
     *
     * <p>Every pool's {@code tls} files are read again (renewed under the same names), first, and
     * published before the commands run, so no connection of the new settings goes out with the
     * old TLS or none. A pool whose files no longer load keeps the TLS it had.
     *
     * @return one line per pool that kept its old TLS, saying why; empty when all loaded
     * @throws IllegalStateException when a server cannot join its pool (DSR's IPv4 rule), or a pool
     *                               that had no TLS cannot load its files (nothing applied)
     */
    public List<String> applyPools(List<PoolConfig> configs) {
        return control.call(() -> apply(configs));
    }

    private List<String> apply(List<PoolConfig> configs) {
        for (PoolConfig pc : configs) {
            for (FulcrumConfig.ServerEntry entry : pc.servers()) {
                dsrAddressProblem(pc.name(), entry.address()).ifPresent(p -> {
                    throw new IllegalStateException(p);
                });
            }
        }
        List<String> problems = new ArrayList<>();
        Map<String, PoolTls> tls = reloadTls(configs, problems);
        Map<String, PoolConfig> byName = new HashMap<>();
        List<ReloadPlan.ConfiguredPool> next = new ArrayList<>();
        for (PoolConfig pc : configs) {
            byName.put(pc.name(), pc);
            PoolRuntime runtime = pools.get(pc.name());
            boolean settingsChanged = runtime != null
                    && !withoutServers(runtime.settings()).equals(withoutServers(pc));
            next.add(new ReloadPlan.ConfiguredPool(pc.name(), pc.algorithm(), hashKey(pc), settingsChanged,
                    pc.servers().stream().map(e -> new ReloadPlan.ConfiguredServer(e.address(), e.weight())).toList()));
        }
        List<ReloadPlan.RunningPool> running = pools.values().stream()
                .sorted(Comparator.comparing(PoolRuntime::name))
                .map(this::running)
                .toList();
        // The plan is decided once, from the state before its first step; it holds because the steps
        // run in this one command and no listener changes pools inline (they schedule, or send commands).
        for (PoolConfig pc : configs) {
            PoolRuntime runtime = pools.get(pc.name());
            if (runtime != null) {
                runtime.setTls(tls.get(pc.name()));
            }
        }
        for (ReloadCommand command : ReloadPlan.diff(running, next)) {
            apply(command, byName, tls);
        }
        return problems;
    }

    /**
     * Each pool's TLS loaded anew (null values for plain-text pools); a running pool whose files
     * fail keeps its TLS, with a line in {@code problems}.
     *
     * @throws IllegalStateException when a pool without TLS so far cannot load it (it would speak
     *                               plain text where TLS was asked for)
     */
    private Map<String, PoolTls> reloadTls(List<PoolConfig> configs, List<String> problems) {
        Map<String, PoolTls> out = new HashMap<>();
        for (PoolConfig pc : configs) {
            try {
                out.put(pc.name(), PoolTls.load(pc));
            } catch (IOException e) {
                PoolRuntime running = pools.get(pc.name());
                if (running == null || running.tls() == null) {
                    throw new IllegalStateException(tlsProblem(pc.name(), e));
                }
                problems.add(tlsProblem(pc.name(), e) + "; keeping the TLS settings loaded before");
                out.put(pc.name(), running.tls());
            }
        }
        return out;
    }

    /** A running pool as {@link ReloadPlan} sees it; control thread only. */
    private ReloadPlan.RunningPool running(PoolRuntime runtime) {
        List<ReloadPlan.RunningServer> servers = runtime.pool().servers().stream()
                .map(s -> new ReloadPlan.RunningServer(s.id(), s.weight(), s.isBeingRemoved()))
                .toList();
        return new ReloadPlan.RunningPool(runtime.name(), runtime.pool().algorithm(), runtime.pool().hashKey(),
                servers, runtime.fromConfig());
    }

    /**
     * A pool's settings apart from its servers: what a reload compares to tell a settings change
     * (the servers are the plan's to diff). The constructor call breaks the build when a setting is
     * added, so none is forgotten.
     */
    private static PoolConfig withoutServers(PoolConfig c) {
        return new PoolConfig(c.name(), c.algorithm(), c.hashKey(), c.stickyCookie(), List.of(), c.connectTimeout(),
                c.responseTimeout(), c.retries(), c.slowStart(), c.drainTimeout(), c.maxConnectionsPerServer(),
                c.healthCheck(), c.outlierDetection(), c.protocol(), c.tls(), c.maxRequestsPerConnection());
    }

    /** One step of a reload; control thread only. {@code configs}: the reloaded file's pools by name. */
    private void apply(ReloadCommand command, Map<String, PoolConfig> configs, Map<String, PoolTls> tls) {
        switch (command) {
            case ReloadCommand.AddPool c -> registerPool(configs.get(c.pool()), tls.get(c.pool()));
            case ReloadCommand.RemovePool c -> pools.remove(c.pool());
            case ReloadCommand.ChangeSettings c -> pool(c.pool()).setSettings(configs.get(c.pool()));
            case ReloadCommand.ChangeBalancing c -> pool(c.pool()).pool().setBalancing(c.algorithm(), c.hashKey());
            case ReloadCommand.AddServer c -> {
                addServer(c.pool(), c.address(), c.weight());
                pool(c.pool()).fromConfig().add(c.address().toString());
            }
            case ReloadCommand.RemoveServer c -> {
                removeServer(c.pool(), c.address());
                pool(c.pool()).fromConfig().remove(c.address());
            }
            case ReloadCommand.CancelRemoval c -> {
                PoolRuntime runtime = pool(c.pool());
                Server server = server(runtime, c.address());
                if (runtime.pool().cancelRemoval(server)) {
                    emit(new PoolEvent.ServerEnabled(now(), runtime, server, "listed again by the reloaded config"));
                }
            }
            case ReloadCommand.ChangeWeight c -> {
                PoolRuntime runtime = pool(c.pool());
                Server server = server(runtime, c.address());
                if (runtime.pool().setWeight(server, c.to())) {
                    emit(new PoolEvent.WeightChanged(now(), runtime, server, c.from(), c.to(),
                            "weight " + c.from() + " to " + c.to() + " by the reloaded config"));
                }
            }
            case ReloadCommand.Adopt c -> pool(c.pool()).fromConfig().add(c.address());
            case ReloadCommand.Disown c -> pool(c.pool()).fromConfig().remove(c.address());
        }
    }

    /**
     * Why {@code address} cannot join {@code poolName}, in one line: DSR finds its servers' MACs
     * by IPv4 address, so the pool it forwards to takes no names or IPv6 addresses.
     */
    private Optional<String> dsrAddressProblem(String poolName, HostPort address) {
        if (!poolName.equals(dsrPool) || address.isIpv4()) {
            return Optional.empty();
        }
        return Optional.of("pool " + poolName + " is the dsr pool: " + address
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

    /** Whether {@code pool} is still registered (a reload may have dropped it). */
    public boolean isRegistered(PoolRuntime pool) {
        return pools.get(pool.name()) == pool;
    }

    /**
     * Registers a server. A command. With health checks configured (and a prober running, see
     * {@link #enableHealthChecking()}) it starts {@code checking}: no traffic until a check passes;
     * otherwise it is {@code up} at once.
     *
     * @throws IllegalStateException when the address is already registered in the pool
     * @throws IllegalArgumentException when the pool is DSR's and the address is not IPv4
     */
    public Server addServer(String poolName, HostPort address, int weight) {
        return control.call(() -> {
            PoolRuntime pool = pool(poolName);
            dsrAddressProblem(poolName, address).ifPresent(p -> {
                throw new IllegalArgumentException(p);
            });
            boolean checked = healthChecking && pool.settings().healthCheck() != null
                    && pool.settings().healthCheck().type() != CheckType.NONE;
            Server server = pool.pool().add(address, weight, checked ? ServerState.CHECKING : ServerState.UP);
            emit(new PoolEvent.ServerAdded(now(), pool, server, "weight " + weight));
            return server;
        });
    }

    /**
     * Starts removing a server: it drains at once and is forgotten when idle or at drain-timeout.
     * A command.
     *
     * @throws NoSuchElementException when the pool or server does not exist
     */
    public Server removeServer(String poolName, String address) {
        return control.call(() -> {
            PoolRuntime pool = pool(poolName);
            Server server = server(pool, address);
            if (pool.pool().startRemoval(server, now().plus(pool.settings().drainTimeout()))) {
                emit(new PoolEvent.ServerDraining(now(), pool, server,
                        "removal requested; in-flight " + server.activeRequests()));
                removing.add(pool);
                if (drainPoll == null) {
                    drainPoll = control.schedule(DRAIN_POLL, this::finishRemovals);
                }
            }
            return server;
        });
    }

    /** Stops new traffic to a server but keeps it registered. A command. */
    public Server drainServer(String poolName, String address) {
        return control.call(() -> {
            PoolRuntime pool = pool(poolName);
            Server server = server(pool, address);
            if (pool.pool().setDraining(server, true)) {
                emit(new PoolEvent.ServerDraining(now(), pool, server,
                        "drain requested; in-flight " + server.activeRequests()));
            }
            return server;
        });
    }

    /**
     * Puts a drained server back into rotation (subject to its health). A command.
     *
     * @throws IllegalStateException when the server is being removed
     */
    public Server enableServer(String poolName, String address) {
        return control.call(() -> {
            PoolRuntime pool = pool(poolName);
            Server server = server(pool, address);
            if (server.isBeingRemoved()) {
                throw new IllegalStateException("server " + Escape.quote(address) + " is being removed");
            }
            if (pool.pool().setDraining(server, false)) {
                emit(new PoolEvent.ServerEnabled(now(), pool, server, "enabled; state " + server.state()));
            }
            return server;
        });
    }

    /**
     * Sets the active checks' verdict on a server (the health checker's command). Failing checks
     * are the stronger verdict: {@code down} also ends an ejection, and the checks decide the
     * return. Publishes, then reports the change of the server's health, if any
     * ({@link #reportHealth}). A command.
     *
     * @return false when nothing changed (same verdict, or the server is gone)
     */
    public boolean setCheck(PoolRuntime pool, Server server, CheckState check, String detail) {
        return control.call(() -> {
            ServerState before = server.health();
            if (!pool.pool().setCheck(server, check)) {
                return false;
            }
            if (check == CheckState.DOWN) {
                pool.pool().setEjectedUntil(server, null);
            }
            reportHealth(pool, server, before, detail);
            return true;
        });
    }

    /**
     * Ejects a server until {@code until} (passive outlier detection's command), or moves the end
     * of its ejection. Publishes, then reports {@link PoolEvent.ServerEjected} when it left
     * rotation. A command.
     */
    public boolean eject(PoolRuntime pool, Server server, Instant until, String detail) {
        return control.call(() -> {
            ServerState before = server.health();
            if (!pool.pool().setEjectedUntil(server, until)) {
                return false;
            }
            reportHealth(pool, server, before, detail);
            return true;
        });
    }

    /** Ends a server's ejection; reports {@link PoolEvent.ServerUp} when its checks pass. A command. */
    public boolean endEjection(PoolRuntime pool, Server server, String detail) {
        return control.call(() -> {
            ServerState before = server.health();
            if (!pool.pool().setEjectedUntil(server, null)) {
                return false;
            }
            reportHealth(pool, server, before, detail);
            return true;
        });
    }

    /**
     * Reports the change of a server's health ({@link Server#health()}, derived from its check
     * verdict and ejection) as its event: {@code up}, {@code down} or {@code ejected}.
     */
    private void reportHealth(PoolRuntime pool, Server server, ServerState before, String detail) {
        ServerState after = server.health();
        if (after == before) {
            return;
        }
        Instant at = now();
        switch (after) {
            case UP -> emit(new PoolEvent.ServerUp(at, pool, server, detail));
            case DOWN -> emit(new PoolEvent.ServerDown(at, pool, server, detail));
            case EJECTED -> emit(new PoolEvent.ServerEjected(at, pool, server, detail));
            case CHECKING, DRAINING -> {
                // not reached: a verdict never returns to checking, and health() is never draining
            }
        }
    }

    public Server server(PoolRuntime pool, String address) {
        return pool.pool().find(address).orElseThrow(
                () -> new NoSuchElementException("no server " + Escape.quote(address) + " in pool " + pool.name()));
    }

    /**
     * Reports an event to every listener, on the control thread: at once when called there, else
     * queued (a thread that is not the control thread, such as the VRRP speaker's, never waits).
     */
    public void emit(PoolEvent event) {
        if (!control.inControlThread()) {
            control.execute(() -> emit(event));
            return;
        }
        RegistryEvent wire = event.wire();
        log.info("{} pool={} server={} {}", wire.type(), wire.pool(), wire.server(), wire.detail());
        for (Consumer<PoolEvent> l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                log.warn("event listener failed on {}: {}", wire.type(), e.toString());
            }
        }
    }

    /** The control thread's time: events and deadlines use it. */
    public Instant now() {
        return control.now();
    }

    /**
     * The drain timer: on the control thread, every {@link #DRAIN_POLL} while removals are pending,
     * forgets each server being removed that is idle or past its removal deadline.
     */
    private void finishRemovals() {
        drainPoll = null;
        Instant now = now();
        for (PoolRuntime pool : List.copyOf(removing)) {
            if (!finishRemovals(pool, now)) {
                removing.remove(pool); // a cancelled removal leaves nothing pending too
            }
        }
        if (!removing.isEmpty()) {
            drainPoll = control.schedule(DRAIN_POLL, this::finishRemovals);
        }
    }

    /** One pool's part of the drain timer; true when a removal is still pending. Control thread only. */
    private boolean finishRemovals(PoolRuntime pool, Instant now) {
        boolean pending = false;
        for (Server server : pool.pool().servers()) {
            Instant deadline = server.removalDeadline();
            if (deadline == null) {
                continue;
            }
            boolean idle = server.activeRequests() <= 0;
            if (idle || !now.isBefore(deadline)) {
                pool.pool().remove(server);
                emit(new PoolEvent.ServerRemoved(now, pool, server, idle
                        ? "drained"
                        : "drain-timeout passed with " + server.activeRequests() + " in flight"));
            } else {
                pending = true;
            }
        }
        return pending;
    }

    /** Closes the control thread when this registry made it; else its owner does. */
    @Override
    public void close() {
        if (ownsControl) {
            control.close();
        }
    }
}
