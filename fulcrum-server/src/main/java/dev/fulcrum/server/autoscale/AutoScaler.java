package dev.fulcrum.server.autoscale;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.autoscale.Decision;
import dev.fulcrum.core.autoscale.Sample;
import dev.fulcrum.core.autoscale.ScalingPolicy;
import dev.fulcrum.core.autoscale.ScalingRules;
import dev.fulcrum.core.pool.Server;
import dev.fulcrum.core.pool.ServerState;
import dev.fulcrum.server.admin.AutoscaleStatus;
import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.config.FulcrumConfig.Autoscale;
import dev.fulcrum.server.metrics.ControlMetrics;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.registry.PoolEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The auto-scaler of one {@code autoscale} entry. Every {@code metric.interval} it scrapes the
 * pool's servers ({@link MetricScraper}) and asks the {@link ScalingPolicy}; then:
 * <ul>
 *   <li><b>out k</b>: k times, on the provisioning thread: provision → {@link Registry#addServer}
 *       (weight 1; {@code checking} until its first passing health check, then traffic, with slow
 *       start if the pool has it) → event {@code scale-out} with the metric's value and the reason,
 *       which the {@link Alerter} turns into a {@code FulcrumScaledOut} notice, and
 *       {@code fulcrum_autoscale_actions_total{direction="out"}}.</li>
 *   <li><b>in k</b>: the k servers with the fewest active requests among those this auto-scaler
 *       started that are not starting → {@link Registry#removeServer} (drain) → event
 *       {@code scale-in}; when the registry reports {@code server-removed} (in-flight requests
 *       ended, or {@code drain-timeout} passed) the provisioner stops it. Servers listed in the
 *       config file or added through the admin API are the operator's: they are never scaled in,
 *       so the pool's floor is those servers even when {@code min-servers} is lower.</li>
 * </ul>
 * A provisioner failure is an event ({@code scale-out-failed} or {@code scale-in-failed}) and a
 * {@value #SCALE_FAILED} alert (warning, resolved by the next successful action); it counts as an
 * action for the cooldown, so it is retried after {@code cooldown}. It never stops the scaler.
 *
 * <p>Threads: each step (scrape, decide, scale in) is a command on the registry's control thread
 * ({@link ControlPlane}), scheduled in its time; provisioning (which blocks) runs on a thread of its
 * own, so scraping goes on while a server starts, and registers a started server with one command.
 * {@link #status()} may be called from any thread.
 * {@link #close()} stops both and then every server this auto-scaler started.
 */
public final class AutoScaler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AutoScaler.class);

    /** Alert fired when a provisioner fails; not in the spec's list, which has no failure alert. */
    public static final String SCALE_FAILED = "FulcrumScaleFailed";
    /** How long close() lets a provisioning task in progress finish before interrupting it. */
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(12);

    private final Autoscale config;
    private final Registry registry;
    private final Provisioner provisioner;
    private final ControlMetrics metrics;
    private final Alerter alerter;
    private final ControlPlane control;
    private final Clock clock;
    private final ScalingPolicy policy;
    private final MetricReadings scraper;
    private final ExecutorService provisioning;

    /** Servers this auto-scaler started and registered, by id ({@code host:port}). */
    private final Map<String, HostPort> started = new ConcurrentHashMap<>();
    /** Servers out of the pool whose stop failed; retried after the cooldown. */
    private final Map<String, HostPort> toStop = new ConcurrentHashMap<>();
    /** Provisionings submitted and not yet registered: capacity that is coming, without an address. */
    private final AtomicInteger provisioningNow = new AtomicInteger();
    /** In a cluster: the pending actions this node owes, and the leader's leftovers. */
    private final PendingActions pending;
    private volatile Instant lastAction;
    private volatile String lastActionText = "";
    private volatile boolean closed;
    /** In a cluster: the election this instance must hold to act, and where its actions go; null outside one. */
    private volatile ScalingLeadership leadership;

    AutoScaler(Autoscale config, Registry registry, Provisioner provisioner, ControlMetrics metrics, Alerter alerter) {
        this(config, registry, provisioner, metrics, alerter,
                new MetricScraper(config.metric(), config.window(), registry.control().clock()),
                Executors.newSingleThreadExecutor(r -> daemon(r, "fulcrum-provision-" + config.pool())));
    }

    /**
     * @param scraper      where samples come from
     * @param provisioning runs the provisioner's blocking calls, one at a time
     */
    AutoScaler(Autoscale config, Registry registry, Provisioner provisioner, ControlMetrics metrics, Alerter alerter,
               MetricReadings scraper, ExecutorService provisioning) {
        this.config = config;
        this.registry = registry;
        this.provisioner = provisioner;
        this.metrics = metrics;
        this.alerter = alerter;
        this.control = registry.control();
        this.clock = control.clock();
        this.policy = new ScalingPolicy(new ScalingRules(config.scaleOutAbove(), config.scaleInBelow(),
                config.window(), config.cooldown(), config.minServers(), config.maxServers()));
        this.scraper = scraper;
        this.provisioning = provisioning;
        this.pending = new PendingActions(config, provisioner, provisioning, clock, this::failed, () -> closed);
    }

    /**
     * Starts the auto-scaler of {@code config} with the provisioner its config names; the process
     * provisioner logs to {@code logDir}. The first scrape runs at once, the first evaluation
     * one {@code metric.interval} later (a pool below {@code min-servers} grows then), and both
     * every {@code metric.interval} after that.
     */
    public static AutoScaler start(Autoscale config, Registry registry, ControlMetrics metrics, Alerter alerter,
                                   Path logDir) {
        var p = config.provisioner();
        Provisioner provisioner = switch (p.type()) {
            case PROCESS -> new ProcessProvisioner(config.pool(), p.command(), p.portLow(), p.portHigh(), logDir,
                    Duration.ofSeconds(60), Duration.ofSeconds(10));
            case EXEC -> new ExecProvisioner(config.pool(), p.scaleOut(), p.scaleIn(), logDir, Duration.ofSeconds(60));
        };
        return new AutoScaler(config, registry, provisioner, metrics, alerter).start();
    }

    /**
     * From now on decides and acts only while this node leads the cluster's auto-scaling (spec
     * cluster.md), otherwise it keeps scraping, so a node that becomes leader has a window of
     * samples at once; honours the cooldown recorded in etcd; and scales through
     * {@code leadership}'s transactions instead of this node's registry. A scale-out is recorded
     * as pending before it provisions; a scale-in removes the server at once and is pending until
     * the server is stopped, by the node that owns its process ({@code process}) or by the leader
     * ({@code exec}). Every node finishes the pending scale-ins it owes; the leader also drops
     * scale-outs nobody is running and takes over the servers of nodes that left the cluster
     * ({@link PendingActions}).
     */
    public void inCluster(ScalingLeadership leadership) {
        this.leadership = leadership;
        // a new leader acts at once (spec: within lease-ttl + 1 s of the old one's death), not a step later
        leadership.onLead(() -> control.execute(() -> {
            if (!closed) {
                tick();
            }
        }));
    }

    AutoScaler start() {
        registry.onEvent(this::onEvent);
        // The first step comes one interval after the start, once the instance is up and the
        // first scrape (started at once) has had time to answer.
        control.execute(() -> scraper.scrape(view().active().stream().map(Server::address).toList()));
        control.schedule(config.metric().interval(), this::step);
        return this;
    }

    /** One step, then the next one an interval later (a fixed delay). On the control thread. */
    private void step() {
        if (closed) {
            return;
        }
        try {
            tick();
        } finally {
            control.schedule(config.metric().interval(), this::step);
        }
    }

    public String pool() {
        return config.pool();
    }

    /** The dashboard's view: servers now (starting ones included), bounds, the window average, the last action. */
    public AutoscaleStatus status() {
        View view = view();
        Double value = policy.windowAverage(scraper.samples(), clock.instant(), view.starting());
        return new AutoscaleStatus(config.pool(), view.servers(), config.minServers(), config.maxServers(),
                config.metric().name(), value, config.scaleOutAbove(), config.scaleInBelow(), lastActionText);
    }

    /** The pool as the policy sees it: servers not being removed, plus those being provisioned. */
    private record View(List<Server> active, int servers, Set<String> starting) {
    }

    private View view() {
        List<Server> active;
        try {
            active = registry.pool(config.pool()).pool().servers().stream()
                    .filter(s -> !s.isBeingRemoved()).toList();
        } catch (NoSuchElementException gone) {
            active = List.of();
        }
        Set<String> starting = new HashSet<>();
        for (Server s : active) {
            if (s.health() == ServerState.CHECKING) {
                starting.add(s.id());
            }
        }
        int coming = provisioningNow.get();
        for (int i = 0; i < coming; i++) {
            starting.add("(provisioning " + (i + 1) + ")");
        }
        return new View(active, active.size() + coming, starting);
    }

    private void tick() {
        try {
            PoolRuntime pool;
            try {
                pool = registry.pool(config.pool());
            } catch (NoSuchElementException gone) {
                log.debug("pool {} is gone; auto-scaling holds", config.pool());
                return;
            }
            ScalingLeadership cluster = leadership;
            if (cluster != null) {
                pending.finish(cluster, pool);
            }
            if (cluster != null && !cluster.leading()) {
                scraper.scrape(view().active().stream().map(Server::address).toList());
                return;
            }
            if (cluster != null) {
                Instant recorded = cluster.lastAction(config.pool()); // a former leader's cooldown
                if (recorded != null && (lastAction == null || recorded.isAfter(lastAction))) {
                    lastAction = recorded;
                }
            }
            Instant now = clock.instant();
            if (cluster == null) {
                retryStops(now);
            }
            View view = view();
            List<Sample> samples = scraper.samples();
            Decision decision = policy.decide(samples, now, view.servers(), view.starting(), lastAction);
            log.debug("pool {}: {} {} ({})", config.pool(), decision.direction().wireName(), decision.count(),
                    decision.reason());
            switch (decision.direction()) {
                case OUT -> scaleOut(decision, now);
                case IN -> scaleIn(pool, view, decision, now);
                case HOLD -> {
                }
            }
            scraper.scrape(view.active().stream().map(Server::address).toList());
        } catch (RuntimeException e) {
            // a bug here must not end auto-scaling
            log.warn("pool {}: auto-scaling step failed: {}", config.pool(), e.toString());
        }
    }

    private void scaleOut(Decision decision, Instant now) {
        lastAction = now;
        String why = detail(decision);
        ScalingLeadership cluster = leadership;
        for (int i = 0; i < decision.count(); i++) {
            provisioningNow.incrementAndGet();
            if (cluster == null) {
                provisioning.execute(() -> provisionOne(why));
            } else {
                String id = UUID.randomUUID().toString();
                pending.begun(id);
                provisioning.execute(() -> provisionShared(cluster, id, why, now));
            }
        }
    }

    private void provisionOne(String why) {
        try {
            if (closed) {
                return;
            }
            HostPort address;
            try {
                address = provisioner.provision();
            } catch (Provisioner.ProvisionException e) {
                failed("scale-out-failed", null, "could not start a server: " + e.getMessage() + " (retry after cooldown)");
                return;
            }
            Server server;
            try {
                // one command: registered, counted as ours and reported before any other change
                server = control.call(() -> {
                    Server added = registry.addServer(config.pool(), address, 1);
                    started.put(added.id(), address);
                    lastActionText = "out: " + added.id() + " at " + clock.instant() + " (" + why + ")";
                    registry.emit(new PoolEvent.ScaledOut(clock.instant(), registry.pool(config.pool()), added, why));
                    return added;
                });
            } catch (IllegalStateException duplicate) {
                // the provisioner returned an address already in the pool: not ours to stop
                failed("scale-out-failed", null, "new server " + address + " is already in the pool");
                return;
            } catch (NoSuchElementException gone) {
                stopQuietly(address);
                return;
            }
            // Until the finally below, the server counts twice (registered and provisioning): an
            // overcount for a moment only holds a scale-out back; it never causes one.
            metrics.autoscaleAction(config.pool(), "out");
            alerter.resolve(SCALE_FAILED, config.pool(), "", "scaled out to " + server.id());
        } catch (RuntimeException e) {
            // e.g. the pool went away in a reload meanwhile; the executor would print a stack trace
            log.warn("pool {}: scale-out step failed: {}", config.pool(), e.toString());
        } finally {
            provisioningNow.decrementAndGet();
        }
    }

    /**
     * Scale-out in a cluster, on the provisioning thread: recorded as pending (with the cooldown)
     * in a transaction that checks leadership, then provisioned, then added to the shared config
     * in another such transaction, which also ends the pending record; when that one does not
     * apply (no longer leader, or a new leader dropped the pending record) the server is stopped.
     */
    private void provisionShared(ScalingLeadership cluster, String id, String why, Instant at) {
        try {
            if (closed) {
                return;
            }
            try {
                if (!cluster.beginScaleOut(config.pool(), id, at)) {
                    log.info("pool {}: scale-out not begun: this node no longer leads auto-scaling", config.pool());
                    return;
                }
            } catch (RuntimeException e) {
                failed("scale-out-failed", null, "could not record the scale-out in etcd: " + e.getMessage()
                        + " (retry after cooldown)");
                return;
            }
            HostPort address;
            try {
                address = provisioner.provision();
            } catch (Provisioner.ProvisionException e) {
                pending.done(cluster, id);
                failed("scale-out-failed", null, "could not start a server: " + e.getMessage() + " (retry after cooldown)");
                return;
            }
            addShared(cluster, id, address, why, at);
        } catch (RuntimeException e) {
            log.warn("pool {}: scale-out step failed: {}", config.pool(), e.toString());
        } finally {
            provisioningNow.decrementAndGet();
            pending.ended(id);
        }
    }

    private void addShared(ScalingLeadership cluster, String id, HostPort address, String why, Instant at) {
        String server = address.toString();
        ProcessHandle process = provisioner.process(address);
        ScaledServer record = process == null ? new ScaledServer(server, cluster.node(), at, 0, null)
                : new ScaledServer(server, cluster.node(), at, process.pid(),
                        process.info().startInstant().orElse(Instant.EPOCH));
        boolean applied;
        try {
            applied = cluster.scaleOut(config.pool(), record, id);
        } catch (RuntimeException e) {
            stopQuietly(address);
            failed("scale-out-failed", null, "could not add " + server + " through etcd: " + e.getMessage()
                    + " (retry after cooldown)");
            return;
        }
        if (!applied) {
            stopQuietly(address);
            log.info("pool {}: scale-out of {} not applied: this node no longer leads auto-scaling (or the server"
                    + " is already there); stopped it", config.pool(), server);
            return;
        }
        if (process == null) {
            provisioner.release(address); // the cluster's server now: a node that stops leaves it to the leader
        } else {
            pending.inPool(server);
        }
        control.execute(() -> {
            lastActionText = "out: " + server + " at " + clock.instant() + " (" + why + ")";
            try {
                PoolRuntime pool = registry.pool(config.pool());
                pool.pool().find(server).ifPresent(added ->
                        registry.emit(new PoolEvent.ScaledOut(clock.instant(), pool, added, why)));
            } catch (NoSuchElementException gone) {
                log.debug("pool {} went away after scaling out", config.pool());
            }
        });
        metrics.autoscaleAction(config.pool(), "out");
        alerter.resolve(SCALE_FAILED, config.pool(), "", "scaled out to " + server);
    }

    private void scaleIn(PoolRuntime pool, View view, Decision decision, Instant now) {
        ScalingLeadership cluster = leadership;
        // in a cluster, the servers any auto-scaler started (etcd says which), this node's predecessors' too
        Map<String, ScaledServer> scaled = cluster == null ? Map.of() : cluster.scaled(config.pool());
        List<Server> candidates = view.active().stream()
                .filter(s -> cluster == null ? started.containsKey(s.id()) : scaled.containsKey(s.id()))
                .filter(s -> s.health() != ServerState.CHECKING)
                .sorted(Comparator.comparingInt(Server::activeRequests))
                .limit(decision.count())
                .toList();
        if (candidates.isEmpty()) {
            log.debug("pool {}: would scale in, but no server it started is left", config.pool());
            return;
        }
        lastAction = now;
        String why = detail(decision);
        if (cluster != null) {
            for (Server s : candidates) {
                ScaledServer record = scaled.get(s.id());
                String id = UUID.randomUUID().toString();
                provisioning.execute(() -> removeShared(cluster, pool, s, record, id, why, now));
            }
            return;
        }
        for (Server s : candidates) {
            registry.removeServer(pool.name(), s.id());
            lastActionText = "in: " + s.id() + " at " + now + " (" + why + ")";
            registry.emit(new PoolEvent.ScaledIn(clock.instant(), pool, s,
                    why + "; draining, in-flight " + s.activeRequests()));
            metrics.autoscaleAction(config.pool(), "in");
        }
        alerter.resolve(SCALE_FAILED, config.pool(), "", "scaled in");
    }

    /**
     * Scale-in in a cluster, on the provisioning thread: the server leaves the shared config, and
     * its pending scale-in is recorded, in a transaction that checks leadership; every node then
     * drains it, and the node that owes its stop stops it ({@link PendingActions}).
     */
    private void removeShared(ScalingLeadership cluster, PoolRuntime pool, Server s, ScaledServer record, String id,
                              String why, Instant now) {
        try {
            if (!cluster.scaleIn(pool.name(), record, id, now)) {
                log.info("pool {}: scale-in of {} not applied: this node no longer leads auto-scaling", pool.name(), s.id());
                return;
            }
        } catch (RuntimeException e) {
            failed("scale-in-failed", s.id(), "could not remove " + s.id() + " through etcd: " + e.getMessage());
            return;
        }
        control.execute(() -> {
            lastActionText = "in: " + s.id() + " at " + now + " (" + why + ")";
            registry.emit(new PoolEvent.ScaledIn(clock.instant(), pool, s, why + "; draining, in-flight " + s.activeRequests()));
        });
        metrics.autoscaleAction(pool.name(), "in");
        alerter.resolve(SCALE_FAILED, pool.name(), "", "scaled in");
    }

    /** The event's detail: the reason, naming the metric when the reason is its value. */
    private String detail(Decision decision) {
        return decision.reason().startsWith("average ")
                ? config.metric().name() + " " + decision.reason() : decision.reason();
    }

    /** On the control thread. */
    private void onEvent(PoolEvent e) {
        switch (e) {
            case PoolEvent.ServerRemoved removed -> removed(removed);
            case PoolEvent.ServerAdded _, PoolEvent.ServerUp _, PoolEvent.ServerDown _, PoolEvent.ServerEjected _,
                 PoolEvent.ServerDraining _, PoolEvent.ServerEnabled _, PoolEvent.WeightChanged _,
                 PoolEvent.MacLearned _, PoolEvent.MacLost _, PoolEvent.ScaleEvent _, PoolEvent.HaEvent _,
                 PoolEvent.ConfigReloaded _, PoolEvent.ClusterEvent _ -> {
            }
        }
    }

    /** A server it started left the pool (scale-in, or removed through the API): stop it. */
    private void removed(PoolEvent.ServerRemoved e) {
        // in a cluster the pending scale-in says who stops it (PendingActions)
        if (closed || leadership != null || !e.pool().name().equals(config.pool())) {
            return;
        }
        HostPort address = started.remove(e.server().id());
        if (address != null) {
            provisioning.execute(() -> stop(address));
        }
    }

    private void stop(HostPort address) {
        if (closed) {
            return; // close() stops every server still running
        }
        try {
            provisioner.deprovision(address);
            toStop.remove(address.toString());
        } catch (RuntimeException e) {
            log.warn("pool {}: stopping {} failed: {}", config.pool(), address, e.toString());
        } catch (Provisioner.ProvisionException e) {
            toStop.put(address.toString(), address);
            failed("scale-in-failed", address.toString(), "could not stop " + address + ": " + e.getMessage()
                    + " (retry after cooldown)");
        }
    }

    private void retryStops(Instant now) {
        if (toStop.isEmpty() || (lastAction != null && now.isBefore(lastAction.plus(config.cooldown())))) {
            return;
        }
        lastAction = now;
        for (HostPort address : List.copyOf(toStop.values())) {
            provisioning.execute(() -> stop(address));
        }
    }

    private void failed(String type, String server, String detail) {
        if (closed) {
            log.info("pool {}: {} while stopping: {}", config.pool(), type, detail);
            return;
        }
        lastAction = clock.instant();
        lastActionText = type + " at " + lastAction + ": " + detail;
        PoolRuntime pool = null;
        try {
            pool = registry.pool(config.pool());
        } catch (NoSuchElementException gone) {
            // report it pool-wide by name only
        }
        String text = server == null ? detail : server + ": " + detail;
        registry.emit(type.startsWith("scale-out")
                ? new PoolEvent.ScaleOutFailed(lastAction, pool, text)
                : new PoolEvent.ScaleInFailed(lastAction, pool, text));
        alerter.fire(SCALE_FAILED, "warning", config.pool(), "", "pool " + config.pool() + " could not "
                + (type.startsWith("scale-out") ? "scale out" : "scale in"), detail);
    }

    private void stopQuietly(HostPort address) {
        try {
            provisioner.deprovision(address);
        } catch (Provisioner.ProvisionException e) {
            log.warn("pool {}: could not stop {}: {}", config.pool(), address, e.getMessage());
        }
    }

    /**
     * Stops scaling and then every server this auto-scaler started (SIGTERM then SIGKILL for
     * {@code process}; the scale-in program for {@code exec}). Call after the listeners have
     * drained. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Queued tasks see `closed` and return at once; a stop in progress is let finish (a demo
        // server exits within a second of SIGTERM); a start in progress is interrupted after the
        // bound, and the provisioner stops what it had started in close() below.
        provisioning.shutdown();
        try {
            if (!provisioning.awaitTermination(CLOSE_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
                provisioning.shutdownNow();
                if (!provisioning.awaitTermination(CLOSE_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("pool {}: provisioning did not stop", config.pool());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scraper.close();
        provisioner.close();
        started.clear();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
