package dev.fulcrum.server;

import dev.fulcrum.server.alert.Alerter;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.health.HealthChecker;
import dev.fulcrum.server.health.OutlierEjector;
import dev.fulcrum.server.health.SlowStartRamp;
import dev.fulcrum.server.http.HttpListener;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.net.ProxyObserver;
import dev.fulcrum.server.net.Transport;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.tcp.TcpListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>Thread-safe: start/stop/reload may be called from any thread (signal handlers, admin API).
 */
public final class FulcrumServer {

    private static final Logger log = LoggerFactory.getLogger(FulcrumServer.class);

    private volatile FulcrumConfig config;
    private final Transport transport;
    private final Registry registry;
    private final HealthChecker healthChecker;
    private final Alerter alerter;
    private final List<ListenerRuntime> listeners;
    /** The config entry each running listener was built from, to tell what a reload changed. */
    private final ProxyObserver observer;
    private final java.util.Map<ListenerRuntime, Listener> listenerConfigs = new java.util.concurrent.ConcurrentHashMap<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean stopping;

    private FulcrumServer(FulcrumConfig config, Transport transport, ControlPlane control,
                          List<ListenerRuntime> listeners) {
        this.config = config;
        this.transport = transport;
        this.registry = control.registry();
        this.healthChecker = control.healthChecker();
        this.alerter = control.alerter();
        this.observer = control.observer();
        this.listeners = listeners;
    }

    /** The registry and what watches it: health checks, passive ejection, slow start, alerts. */
    private record ControlPlane(Registry registry, HealthChecker healthChecker, Alerter alerter,
                                ProxyObserver observer) {

        static ControlPlane start(FulcrumConfig config, Clock clock) {
            Registry registry = Registry.fromConfig(config, clock);
            Alerter alerter = Alerter.fromConfig(config, clock).attach(registry);
            HealthChecker checker = new HealthChecker(registry, clock);
            OutlierEjector ejector = OutlierEjector.on(registry, clock, checker);
            new SlowStartRamp(registry, clock, checker.controlExecutor());
            return new ControlPlane(registry, checker, alerter, ejector::onResult);
        }

        void close() {
            healthChecker.close();
            alerter.close();
            registry.close();
        }
    }

    /**
     * Starts every listener of {@code config}.
     *
     * @throws StartException with a one-line reason (e.g. a port already in use); nothing is left
     *                        running in that case
     */
    public static FulcrumServer start(FulcrumConfig config) {
        Transport transport = Transport.create();
        ControlPlane control = ControlPlane.start(config, Clock.systemUTC());
        Registry registry = control.registry();
        List<ListenerRuntime> listeners = new ArrayList<>();
        java.util.Map<ListenerRuntime, Listener> configs = new java.util.HashMap<>();
        for (Listener l : config.listeners()) {
            ListenerRuntime runtime = newListener(l, registry, transport, control.observer());
            listeners.add(runtime);
            configs.put(runtime, l);
        }
        List<ListenerRuntime> bound = new ArrayList<>();
        try {
            for (ListenerRuntime l : listeners) {
                l.start().join();
                bound.add(l);
            }
        } catch (CompletionException | IllegalStateException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            bound.forEach(ListenerRuntime::stopAccepting);
            bound.forEach(l -> l.closeGracefully(Duration.ZERO));
            control.close();
            transport.close();
            throw new StartException(cause.getMessage(), cause);
        }
        log.info("fulcrum {} started: {} listener(s), {} pool(s), transport {}", config.name(),
                listeners.size(), config.pools().size(), transport.name());
        FulcrumServer server = new FulcrumServer(config, transport, control,
                new java.util.concurrent.CopyOnWriteArrayList<>(listeners));
        server.listenerConfigs.putAll(configs);
        return server;
    }

    private static ListenerRuntime newListener(Listener l, Registry registry, Transport transport,
                                               ProxyObserver observer) {
        var pool = registry.pool(l.pool());
        return switch (l.protocol()) {
            case HTTP -> new HttpListener(l, pool, transport, observer);
            case TCP -> new TcpListener(l, pool, transport, observer);
        };
    }

    /**
     * Applies a reloaded, already validated config: pools first (new servers are checked before
     * traffic, dropped ones drain), then listeners — an unchanged listener keeps its socket and its
     * connections; a changed one is replaced (the old one stops accepting and drains); a removed
     * one drains; a new one binds.
     *
     * @throws StartException when a new or changed listener cannot bind; the others stay applied
     */
    public synchronized void reload(FulcrumConfig next) {
        if (stopping) {
            throw new IllegalStateException("stopping");
        }
        registry.applyPools(next.pools());
        java.util.Map<String, Listener> wanted = new java.util.LinkedHashMap<>();
        next.listeners().forEach(l -> wanted.put(l.name(), l));
        List<String> failures = new ArrayList<>();
        for (ListenerRuntime running : List.copyOf(listeners)) {
            Listener was = listenerConfigs.get(running);
            Listener now = wanted.get(running.name());
            if (now != null && now.equals(was)) {
                wanted.remove(running.name());
                continue;
            }
            running.stopAccepting();
            listeners.remove(running);
            listenerConfigs.remove(running);
            running.closeGracefully(drainTimeout());
        }
        for (Listener l : wanted.values()) {
            ListenerRuntime runtime = newListener(l, registry, transport, observer);
            try {
                runtime.start().join();
                listeners.add(runtime);
                listenerConfigs.put(runtime, l);
            } catch (CompletionException e) {
                failures.add(e.getCause() == null ? e.toString() : e.getCause().getMessage());
            }
        }
        this.config = next;
        registry.emit("config-reloaded", null, null, failures.isEmpty() ? "applied" : String.join("; ", failures));
        if (!failures.isEmpty()) {
            throw new StartException(String.join("; ", failures));
        }
    }

    public FulcrumConfig config() {
        return config;
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

    public List<ListenerRuntime> listeners() {
        return listeners;
    }

    /** The longest drain-timeout of the config's pools: how long a graceful stop may take. */
    public Duration drainTimeout() {
        return config.pools().stream().map(FulcrumConfig.PoolConfig::drainTimeout)
                .max(Duration::compareTo).orElse(Duration.ofSeconds(30));
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
        log.info("stopping: no new connections; waiting up to {} ms for in-flight requests", drainTimeout.toMillis());
        listeners.forEach(ListenerRuntime::stopAccepting);
        CompletableFuture<?>[] closing = listeners.stream()
                .map(l -> l.closeGracefully(drainTimeout)).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(closing).join();
        } catch (CompletionException e) {
            log.warn("a listener did not close cleanly: {}", e.getCause() == null ? e : e.getCause().toString());
        }
        healthChecker.close();
        alerter.close();
        registry.close();
        transport.close();
        log.info("stopped");
        stopped.countDown();
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
