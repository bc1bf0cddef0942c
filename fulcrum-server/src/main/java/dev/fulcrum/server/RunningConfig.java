package dev.fulcrum.server;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.config.FulcrumConfig.Listener;
import dev.fulcrum.server.control.ControlPlane;
import dev.fulcrum.server.log.AccessLog;
import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.net.StartException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * The config in force and the listeners built from it. A reload replaces both as one command on
 * the control thread: the pools ({@link Registry#applyPools}, which reads their TLS files again:
 * one that no longer loads keeps the pool's TLS and is reported like a listener's certificate),
 * then the listeners — an unchanged one keeps its socket and its connections, one whose routes
 * alone changed takes them in place
 * ({@link ListenerRuntime#reconfigure}) — both read their TLS certificate files again
 * ({@link ListenerRuntime#reloadCertificates}) — another changed one is replaced (the old one stops
 * accepting and drains), a removed one drains, a new one binds — then the config, then the
 * {@link PoolEvent.ConfigReloaded} event; a changed {@code access-log} section is handed to the
 * {@link AccessLog}, whose writer switches file or format between two batches. So a reload is
 * ordered against every other change
 * (admin API calls, health results, drains finishing), and nothing sees half of one.
 *
 * <p>The binds are the one wait on the control thread: a local bind on the event loops, which
 * never wait for the control thread themselves. The caller of {@link #reload} waits for the whole
 * command, at most {@link ControlPlane#CALL_BOUND}; on the control thread it runs inline.
 *
 * <p>Thread-safe: {@link #reload} and {@link #stopReloads} from any thread; the rest reads what the
 * last reload published.
 */
final class RunningConfig {

    private static final Logger log = LoggerFactory.getLogger(RunningConfig.class);

    /** Builds, without binding, the listener of a config entry. */
    interface ListenerFactory {
        ListenerRuntime create(Listener entry, String instanceName);
    }

    /** A running listener and the config entry it was built from, to tell what a reload changed. */
    private record Bound(ListenerRuntime runtime, Listener entry) {
    }

    private final Registry registry;
    private final ListenerFactory factory;
    private final AccessLog accessLog;
    /** Replaced on the control thread only; read anywhere. */
    private volatile FulcrumConfig config;
    /** The running listeners, immutable; replaced on the control thread only, read anywhere. */
    private volatile List<Bound> bound;
    /** Set by {@link #stopReloads}: a reload that starts after it is refused. */
    private volatile boolean stopping;

    /**
     * @param started   one bound listener per entry of {@code config.listeners()}, in its order
     * @param accessLog the instance's access log, made from {@code config}
     */
    RunningConfig(FulcrumConfig config, Registry registry, ListenerFactory factory, List<ListenerRuntime> started,
                  AccessLog accessLog) {
        this.config = config;
        this.accessLog = accessLog;
        this.registry = registry;
        this.factory = factory;
        List<Bound> all = new ArrayList<>();
        for (int i = 0; i < started.size(); i++) {
            all.add(new Bound(started.get(i), config.listeners().get(i)));
        }
        this.bound = List.copyOf(all);
    }

    FulcrumConfig config() {
        return config;
    }

    /** The running listeners, as the last reload left them. */
    List<ListenerRuntime> listeners() {
        return bound.stream().map(Bound::runtime).toList();
    }

    /** The longest drain-timeout of the config's pools: how long a graceful stop may take. */
    Duration drainTimeout() {
        return config.pools().stream().map(FulcrumConfig.PoolConfig::drainTimeout)
                .max(Duration::compareTo).orElse(Duration.ofSeconds(30));
    }

    /**
     * Applies a reloaded, already validated config, as one command; waits for it.
     *
     * @throws StartException        when a new or changed listener cannot bind, or a kept one's
     *                               TLS certificates do not load (one line per listener); the rest
     *                               stays applied
     * @throws IllegalStateException when stopping, when a server cannot join its pool (nothing
     *                               applied), or when the control thread did not answer in time
     */
    void reload(FulcrumConfig next) {
        if (stopping) {
            throw new IllegalStateException("stopping"); // at once: a stopped control thread never answers
        }
        registry.control().run(() -> apply(next));
    }

    /**
     * Refuses every later reload, and returns once a reload already running or queued has ended,
     * so that the caller may close {@link #listeners()} without one binding behind its back.
     *
     * @throws IllegalStateException when the control thread did not answer in time
     */
    void stopReloads() {
        stopping = true;
        // commands run one at a time, in order: this one runs after any reload sent before the flag
        registry.control().run(() -> { });
    }

    /** The reload command; control thread only. */
    private void apply(FulcrumConfig next) {
        if (stopping) {
            throw new IllegalStateException("stopping");
        }
        warnAboutRestartOnlyChanges(next);
        // pools' TLS files that no longer load: they keep the TLS they had, and the reload says so
        List<String> failures = new ArrayList<>(registry.applyPools(next.pools()));
        Map<String, Listener> wanted = new LinkedHashMap<>();
        next.listeners().forEach(l -> wanted.put(l.name(), l));
        List<Bound> kept = new ArrayList<>();
        List<Bound> dropped = new ArrayList<>();
        for (Bound b : bound) {
            Listener now = wanted.get(b.runtime().name());
            if (b.entry().equals(now)) {
                wanted.remove(b.runtime().name());
                kept.add(b);
            } else if (now != null && b.runtime().reconfigure(now)) {
                wanted.remove(b.runtime().name()); // new routes, same socket and connections
                kept.add(new Bound(b.runtime(), now));
            } else {
                dropped.add(b);
            }
        }
        bound = List.copyOf(kept); // first: /healthz never sees a listener that stopped on purpose
        for (Bound b : kept) {
            String problem = b.runtime().reloadCertificates(); // renewed files under unchanged paths
            if (problem != null) {
                failures.add(problem);
            }
        }
        for (Bound b : dropped) {
            b.runtime().stopAccepting(); // before the binds: a changed listener may keep its address
            b.runtime().closeGracefully(drainTimeout());
        }
        for (Listener entry : wanted.values()) {
            ListenerRuntime runtime = factory.create(entry, next.name());
            try {
                runtime.start().join();
                kept.add(new Bound(runtime, entry));
            } catch (CompletionException e) {
                failures.add(e.getCause() == null ? e.toString() : e.getCause().getMessage());
            }
        }
        bound = List.copyOf(kept);
        config = next;
        accessLog.configure(next.accessLog()); // unchanged: nothing happens
        String outcome = failures.isEmpty() ? "applied" : String.join("; ", failures);
        registry.emit(new PoolEvent.ConfigReloaded(registry.now(), outcome));
        if (!failures.isEmpty()) {
            throw new StartException(outcome);
        }
    }

    /** Sections that a reload does not apply: said in the log, the running ones stay. */
    private void warnAboutRestartOnlyChanges(FulcrumConfig next) {
        if (!next.admin().equals(config.admin())) {
            // the admin server is the one answering this reload: it is not rebound under its caller
            log.warn("admin: a changed admin section takes effect at the next start; still on {}",
                    config.admin().listen());
        }
        if (!Objects.equals(next.dsr(), config.dsr())) {
            log.warn("dsr changes take effect after a restart; the running forwarder is unchanged");
        }
        if (!Objects.equals(next.ha(), config.ha())) {
            log.warn("ha changes take effect after a restart; the running virtual router is unchanged");
        }
        if (!next.autoscale().equals(config.autoscale())) {
            // An auto-scaler owns running servers; swapping it live is not worth the risk yet.
            log.warn("autoscale changes take effect after a restart; the running auto-scaling is unchanged");
        }
    }
}
