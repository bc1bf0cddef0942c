package dev.fulcrum.server;

import dev.fulcrum.core.pool.Server;
import dev.fulcrum.server.admin.AdminHooks;
import dev.fulcrum.server.admin.AdminServer;
import dev.fulcrum.server.admin.AutoscaleStatus;
import dev.fulcrum.server.admin.HookResult;
import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.alert.CertificateExpiryAlerts;
import dev.fulcrum.server.admin.HaStatus;
import dev.fulcrum.server.autoscale.AutoScaler;
import dev.fulcrum.server.dsr.DsrService;
import dev.fulcrum.server.ha.HaSpeaker;
import dev.fulcrum.server.config.ConfigException;
import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.health.CheckResult;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.metrics.ProxyMetrics;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.health.HealthChecker;
import dev.fulcrum.server.health.OutlierEjector;
import dev.fulcrum.server.health.SlowStartRamp;
import dev.fulcrum.server.http.HttpListener;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.tcp.TcpListener;
import dev.fulcrum.server.net.StartException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;

/**
 * One running Fulcrum instance: the transport, the registry of pools and the listeners of a
 * config. {@link #start} binds every listener or none (a failed bind closes the ones already
 * bound); {@link #stop} stops accepting, lets in-flight requests finish for up to the drain
 * timeout, and releases everything.
 *
 * <p>Thread-safe: start/stop/reload may be called from any thread (signal handlers, admin API); a
 * reload runs on the control thread ({@link RunningConfig}).
 */
public final class FulcrumServer {

    private static final Logger log = LoggerFactory.getLogger(FulcrumServer.class);

    /** The config in force and its listeners; a reload replaces both. */
    private final RunningConfig running;
    private final Transport transport;
    private final Registry registry;
    /** The control thread every change of pools and servers runs on. */
    private final ControlPlane controlPlane;
    private final HealthChecker healthChecker;
    private final AdminServer admin;
    /** The file the config came from; null when built in code. */
    private final Path configFile;
    private final Alerter alerter;
    private final List<AutoScaler> autoscalers;
    /** Always there, off without an {@code access-log} section: a reload may turn it on. */
    private final AccessLog accessLog;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Whether {@link #stop} was called: later calls wait for the first. Guarded by {@code this}. */
    private boolean stopping;
    /** The VRRP speaker; null without {@code ha}. Set once, right after start. */
    private volatile HaSpeaker ha;
    /** The metrics of this instance (the cluster node registers its gauges here). */
    private final FulcrumMetrics metrics;
    /** The cluster node's view; null outside a cluster. Set once, right after start. */
    private volatile java.util.function.Supplier<dev.fulcrum.server.admin.ClusterStatus> cluster;
    /** In a cluster, what a reload (SIGHUP, the admin API) does instead of reading the file alone. */
    private volatile java.util.function.Supplier<HookResult> clusterReload;
    /** In a cluster, where the admin API's server changes go (etcd); null outside one. */
    private volatile dev.fulcrum.server.admin.SharedWrites sharedWrites;
    /** The DSR forwarder; null without {@code dsr}. Set once, right after start. */
    private volatile DsrService dsr;

    private FulcrumServer(RunningConfig running, Transport transport, ControlSide control, AdminServer admin,
                          Path configFile, AccessLog accessLog) {
        this.running = running;
        this.accessLog = accessLog;
        this.admin = admin;
        this.configFile = configFile;
        this.transport = transport;
        this.registry = control.registry();
        this.healthChecker = control.healthChecker();
        this.alerter = control.alerter();
        this.autoscalers = control.autoscalers();
        this.controlPlane = control.controlPlane();
        this.metrics = control.metrics();
    }

    /** How long a stop waits for the access log's queued lines to be written. */
    private static final Duration ACCESS_LOG_FLUSH = Duration.ofSeconds(5);

    /** Where the auto-scaler's {@code process} provisioner writes its servers' output. */
    private static final Path AUTOSCALE_LOGS = Path.of("autoscale-logs");

    /**
     * The control thread, the registry whose commands run on it, and what sends commands and hears
     * events: health checks, passive ejection, slow start, alerts, metrics, auto-scaling.
     */
    private record ControlSide(ControlPlane controlPlane, Registry registry, HealthChecker healthChecker,
                               Alerter alerter, ProxyObserver observer, FulcrumMetrics metrics,
                               List<AutoScaler> autoscalers) {

        static ControlSide start(FulcrumConfig config, Clock clock) {
            ControlPlane control = ControlPlane.onThread(clock);
            Registry registry;
            try {
                registry = Registry.fromConfig(config, control);
            } catch (IllegalStateException e) {
                // a pool's TLS files that stopped loading since the config was checked
                control.close();
                throw new StartException(e.getMessage(), e);
            }
            FulcrumMetrics metrics = new FulcrumMetrics(registry);
            Alerter alerter = Alerter.fromConfig(config, clock).attach(registry);
            HealthChecker checker = new HealthChecker(registry, metrics.control()::healthCheck);
            OutlierEjector ejector = OutlierEjector.on(registry, checker);
            new SlowStartRamp(registry);
            // after the checker: servers the auto-scaler adds must wait in checking for a passing check
            List<AutoScaler> autoscalers = config.autoscale().stream()
                    .map(a -> AutoScaler.start(a, registry, metrics.control(), alerter, AUTOSCALE_LOGS))
                    .toList();
            if (config.cluster() != null) {
                // until the cluster node attaches its election (autoscaleInCluster): the first step
                // comes an interval after the start, so none can act alone before this
                autoscalers.forEach(a -> a.inCluster(dev.fulcrum.server.autoscale.ScalingLeadership.NOT_JOINED));
            }
            return new ControlSide(control, registry, checker, alerter, ejector::onResult, metrics, autoscalers);
        }

        void close() {
            autoscalers.forEach(AutoScaler::close);
            healthChecker.close();
            alerter.close();
            registry.close();
            controlPlane.close();
        }
    }

    /**
     * Starts every listener of {@code config}.
     *
     * @throws StartException with a one-line reason (e.g. a port already in use); nothing is left
     *                        running in that case
     */
    public static FulcrumServer start(FulcrumConfig config) {
        return start(config, null);
    }

    /**
     * Starts every listener of {@code config}, read from {@code configFile} (null when built in code,
     * as the demo does: then {@code POST /api/v1/reload} answers that there is no file to re-read).
     */
    public static FulcrumServer start(FulcrumConfig config, Path configFile) {
        ControlSide control = ControlSide.start(config, Clock.systemUTC());
        Registry registry = control.registry();
        RuntimeHooks hooks = new RuntimeHooks();
        // Before the transport, whose native library may still be loading on another thread
        // (Transport.loadAhead): the admin API's set-up (Jackson, the dashboard) runs meanwhile.
        AdminServer admin = new AdminServer(config.admin(), registry, control.metrics(),
                hooks);
        Transport transport;
        try {
            transport = Transport.create();
        } catch (RuntimeException | Error e) {
            admin.close();
            control.close();
            throw e;
        }
        AccessLog accessLog = AccessLog.start(config.accessLog());
        control.metrics().accessLog(accessLog::linesWritten, accessLog::dropped);
        RunningConfig.ListenerFactory factory = (entry, instanceName) -> newListener(entry, registry, transport,
                control.observer(), control.metrics().proxy(), instanceName, accessLog);
        List<ListenerRuntime> listeners = new ArrayList<>();
        for (Listener l : config.listeners()) {
            listeners.add(factory.create(l, config.name()));
        }
        List<ListenerRuntime> bound = new ArrayList<>();
        try {
            for (ListenerRuntime l : listeners) {
                l.start().join();
                bound.add(l);
            }
            admin.start();
        } catch (CompletionException | IllegalStateException | StartException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            bound.forEach(ListenerRuntime::stopAccepting);
            bound.forEach(l -> l.closeGracefully(Duration.ZERO));
            admin.close();
            control.close();
            transport.close();
            accessLog.close(Duration.ZERO);
            throw cause instanceof StartException se ? se : new StartException(cause.getMessage(), cause);
        }
        log.info("fulcrum {} started: {} listener(s), {} pool(s), transport {}", config.name(),
                listeners.size(), config.pools().size(), transport.name());
        FulcrumServer server = new FulcrumServer(new RunningConfig(config, registry, factory, listeners, accessLog),
                transport, control, admin, configFile, accessLog);
        hooks.attach(server);
        control.metrics().tlsCertificates(server::listeners);
        CertificateExpiryAlerts.start(control.alerter(), registry, server::listeners);
        // on the control thread, once a reload's config is in force: the series of the routes it
        // dropped leave the scrape (route names come from the config; this keeps them bounded)
        registry.onEvent(event -> {
            if (event instanceof PoolEvent.ConfigReloaded) {
                control.metrics().proxy().keepRoutes(server.config().listeners());
            }
        });
        try {
            if (config.dsr() != null) {
                server.dsr = DsrService.start(config.dsr(), registry, control.metrics().control());
            }
            if (config.ha() != null) {
                // after the listeners: this instance takes the virtual IPs only once it can serve
                server.ha = HaSpeaker.start(config.ha(), registry, control.metrics().control(), server::health,
                        haStartupGrace(config));
            }
        } catch (StartException e) {
            server.stop(Duration.ZERO);
            throw e;
        }
        log.info("admin API, metrics and dashboard on http://{}/", config.admin().listen());
        return server;
    }

    /**
     * How long the speaker waits for {@code /healthz} to pass before it joins as FAULT: the
     * slowest pool's first passing checks ({@code rise} intervals plus a timeout), plus 2 s.
     */
    private static Duration haStartupGrace(FulcrumConfig config) {
        return config.pools().stream()
                .map(p -> p.healthCheck().interval().multipliedBy(p.healthCheck().rise()).plus(p.healthCheck().timeout()))
                .max(Duration::compareTo).orElse(Duration.ZERO).plusSeconds(2);
    }

    private static ListenerRuntime newListener(Listener l, Registry registry, Transport transport,
                                               ProxyObserver observer, ProxyMetrics metrics, String instanceName,
                                               AccessLog accessLog) {
        return switch (l.protocol()) {
            case HTTP -> new HttpListener(l, registry::pool, transport, observer, metrics, instanceName, accessLog);
            case TCP -> new TcpListener(l, registry.pool(l.pool()), transport, observer, metrics, accessLog);
        };
    }

    /**
     * Applies a reloaded, already validated config, as one command on the control thread, and
     * waits for it ({@link RunningConfig#reload}): pools first (new servers are checked before
     * traffic, dropped ones drain), then listeners — an unchanged listener keeps its socket and its
     * connections, and so does one whose routes alone changed (it takes them in place); another
     * changed one is replaced (the old one stops accepting and drains); a removed one drains; a
     * new one binds. A kept listener reads its TLS certificate files again.
     *
     * @throws StartException when a new or changed listener cannot bind, or a kept one's
     *                        certificates do not load (it keeps its old ones); the rest stays applied
     * @throws IllegalStateException when stopping, or when the reload could not be applied
     */
    public void reload(FulcrumConfig next) {
        running.reload(next);
    }

    public FulcrumConfig config() {
        return running.config();
    }

    public Registry registry() {
        return registry;
    }

    public HealthChecker healthChecker() {
        return healthChecker;
    }

    public Alerter alerter() {
        return alerter;
    }

    /** The running listeners, as the last reload left them. */
    public List<ListenerRuntime> listeners() {
        return running.listeners();
    }

    /** The longest drain-timeout of the config in force: how long a graceful stop may take. */
    public Duration drainTimeout() {
        return running.drainTimeout();
    }

    /**
     * Graceful stop: stop accepting at once, let in-flight requests finish for up to
     * {@code drainTimeout}, then close everything. Idempotent; returns when stopped.
     */
    public void stop(Duration drainTimeout) {
        synchronized (this) {
            if (stopping) {
                awaitStopped();
                return;
            }
            stopping = true;
        }
        try {
            running.stopReloads(); // so that no reload binds a listener after the ones below closed
        } catch (IllegalStateException e) {
            log.warn("stopping while the control thread does not answer: {}", e.getMessage());
        }
        if (ha != null) {
            // first: a MASTER hands the virtual IPs over (priority-0 advert) while it still serves
            ha.close();
        }
        log.info("stopping: no new connections; waiting up to {} ms for in-flight requests", drainTimeout.toMillis());
        if (dsr != null) {
            dsr.close(); // its flows are the servers' connections: nothing here to drain
        }
        List<ListenerRuntime> listeners = running.listeners();
        listeners.forEach(ListenerRuntime::stopAccepting);
        CompletableFuture<?>[] closing = listeners.stream()
                .map(l -> l.closeGracefully(drainTimeout)).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(closing).join();
        } catch (CompletionException e) {
            log.warn("a listener did not close cleanly: {}", e.getCause() == null ? e : e.getCause().toString());
        }
        accessLog.close(ACCESS_LOG_FLUSH); // after the listeners: their last requests' lines are queued
        // after the listeners drained, before the registry closes: stops the servers it started
        autoscalers.forEach(AutoScaler::close);
        admin.close();
        healthChecker.close();
        alerter.close();
        registry.close();
        controlPlane.close();
        transport.close();
        log.info("stopped");
        stopped.countDown();
    }

    /**
     * Re-reads the config file and applies it ({@link #reload}); the running config stays when the
     * file is invalid. Used by SIGHUP and {@code POST /api/v1/reload}.
     *
     * @return applied, or why not (the file's errors, one per line)
     */
    public HookResult reloadFromFile() {
        java.util.function.Supplier<HookResult> inCluster = clusterReload;
        if (inCluster != null) {
            return inCluster.get(); // the file holds only this node's part; etcd has the rest
        }
        if (configFile == null) {
            return HookResult.failed("this instance was not started from a config file");
        }
        FulcrumConfig next;
        try {
            next = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            return HookResult.failed(e.getMessage());
        }
        try {
            reload(next);
            return HookResult.success();
        } catch (StartException | IllegalStateException e) {
            return HookResult.failed(e.getMessage());
        }
    }

    /**
     * Reopens the access log's file (SIGUSR1, after logrotate renamed it): the writer closes the
     * old file and opens the path again between two batches, so no line is lost. Returns at once.
     */
    public void reopenAccessLog() {
        accessLog.reopen();
    }

    /** The auto-scalers act only while this node leads the cluster's election, through its transactions. */
    public void autoscaleInCluster(dev.fulcrum.server.autoscale.ScalingLeadership leadership) {
        autoscalers.forEach(a -> a.inCluster(leadership));
    }

    /**
     * Joins this instance to its cluster node (spec cluster.md): the admin API answers
     * {@code GET /api/v1/cluster} from {@code status}, the cluster gauges are registered, and a
     * reload goes through {@code reload} (which composes the file with etcd's shared config), and
     * the admin API's server changes go to {@code writes} (etcd). Once.
     */
    public void attachCluster(java.util.function.Supplier<dev.fulcrum.server.admin.ClusterStatus> status,
                              java.util.function.Supplier<HookResult> reload,
                              dev.fulcrum.server.admin.SharedWrites writes) {
        this.sharedWrites = writes;
        this.cluster = status;
        this.clusterReload = reload;
        metrics.cluster(() -> status.get().members().size(), () -> status.get().revision(),
                () -> status.get().etcd().equals("up"));
    }

    /** {@code /healthz}: every listener accepting and every pool with a server up. */
    public HookResult health() {
        for (ListenerRuntime l : running.listeners()) {
            if (!l.isAccepting()) {
                return HookResult.failed("listener " + l.name() + " is not accepting");
            }
        }
        return AdminHooks.poolsHaveServerUp(registry);
    }

    /**
     * The admin API's view of this instance. The admin API is built before the instance exists (it
     * is set up while the native transport loads, and must be ready when the listeners bind), so
     * the instance is attached once it is made; until then the hooks answer "starting".
     */
    private static final class RuntimeHooks implements AdminHooks {
        private volatile FulcrumServer server;

        void attach(FulcrumServer server) {
            this.server = server;
        }

        @Override
        public String instanceName() {
            FulcrumServer s = server;
            return s == null ? "" : s.config().name();
        }

        @Override
        public HookResult reload() {
            FulcrumServer s = server;
            return s == null ? HookResult.failed("starting") : s.reloadFromFile();
        }

        @Override
        public List<Listener> listeners() {
            FulcrumServer s = server;
            return s == null ? List.of() : s.config().listeners();
        }

        @Override
        public List<java.security.cert.X509Certificate> certificates(String listener) {
            FulcrumServer s = server;
            if (s == null) {
                return List.of();
            }
            return s.running.listeners().stream().filter(l -> l.name().equals(listener)).findFirst()
                    .map(ListenerRuntime::certificates).orElse(List.of());
        }

        @Override
        public dev.fulcrum.server.dsr.DsrStatus dsr() {
            FulcrumServer s = server;
            return s == null || s.dsr == null ? null : s.dsr.status();
        }

        @Override
        public dev.fulcrum.server.admin.ClusterStatus cluster() {
            FulcrumServer s = server;
            var status = s == null ? null : s.cluster;
            return status == null ? null : status.get();
        }

        @Override
        public dev.fulcrum.server.admin.SharedWrites sharedWrites() {
            FulcrumServer s = server;
            return s == null ? null : s.sharedWrites;
        }

        @Override
        public HaStatus ha() {
            FulcrumServer s = server;
            return s == null || s.ha == null ? null : s.ha.status();
        }

        @Override
        public HookResult healthz() {
            FulcrumServer s = server;
            return s == null ? HookResult.failed("starting") : s.health();
        }

        @Override
        public CheckResult lastCheck(Server srv) {
            FulcrumServer s = server;
            return s == null ? null : s.healthChecker.lastCheck(srv).orElse(null);
        }

        @Override
        public List<AutoscaleStatus> autoscale() {
            FulcrumServer s = server;
            return s == null ? List.of() : s.autoscalers.stream().map(AutoScaler::status).toList();
        }
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStopped() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
