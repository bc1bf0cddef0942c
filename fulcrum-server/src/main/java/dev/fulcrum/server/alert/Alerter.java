package dev.fulcrum.server.alert;

import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import dev.fulcrum.server.registry.PoolEvent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns what happens into alerts (spec admin-api.md, Alerts) and hands each one to every sink.
 * It keeps the set of firing alerts, so a condition fires once and is resolved once:
 *
 * <ul>
 *   <li>{@code server-down} fires {@code FulcrumServerDown} (critical); {@code server-ejected}
 *       fires {@code FulcrumServerEjected} (warning); {@code server-up} or {@code server-removed}
 *       resolves both; going from ejected to down swaps one for the other.</li>
 *   <li>A pool left with no server in rotation (after a down, ejected, draining or removed
 *       event) fires {@code FulcrumPoolDown} (critical); any event after which one is up again
 *       resolves it.</li>
 *   <li>{@code scale-out} / {@code scale-in} are one-off notices {@code FulcrumScaledOut} /
 *       {@code FulcrumScaledIn} (info): sent firing with {@code endsAt} {@link #NOTICE_LIFETIME}
 *       later, so Alertmanager notifies once and resolves them by itself.</li>
 *   <li>{@code ha-master} fires {@code FulcrumHaMaster} (info), {@code ha-fault} fires
 *       {@code FulcrumHaFault} (critical); each resolves the other, {@code ha-backup} resolves
 *       both. Other parts may call {@link #fire} and {@link #resolve} directly.</li>
 * </ul>
 *
 * <p>Thread-safe: events arrive on the control thread; other parts (the auto-scaler) call
 * fire/resolve from theirs, so fire/resolve are serialized so a resolution never overtakes its firing on the way to a sink. Sinks never block.
 */
public final class Alerter implements AutoCloseable {

    public static final String SERVER_DOWN = "FulcrumServerDown";
    public static final String SERVER_EJECTED = "FulcrumServerEjected";
    public static final String POOL_DOWN = "FulcrumPoolDown";
    public static final String SCALED_OUT = "FulcrumScaledOut";
    public static final String SCALED_IN = "FulcrumScaledIn";
    public static final String HA_MASTER = "FulcrumHaMaster";
    public static final String HA_FAULT = "FulcrumHaFault";
    public static final String ETCD_UNAVAILABLE = "FulcrumEtcdUnavailable";
    public static final String CLUSTER_MEMBER_LOST = "FulcrumClusterMemberLost";

    /** How long a one-off notice stays firing in Alertmanager. */
    public static final Duration NOTICE_LIFETIME = Duration.ofMinutes(5);

    private final String instance;
    private final Clock clock;
    private final List<AlertSink> sinks;
    /** Firing alerts by identity (name and scope labels: pool, server, or a certificate's). Guarded by {@code this}. */
    private final Map<String, Alert> firing = new LinkedHashMap<>();
    private volatile Registry registry;

    /** @param instance this instance's name ({@code name} in the config), the {@code instance} label */
    public Alerter(String instance, Clock clock, List<AlertSink> sinks) {
        this.instance = instance;
        this.clock = clock;
        this.sinks = List.copyOf(sinks);
    }

    /**
     * The sinks of {@code config.alerts()}: {@code log} and {@code webhook} entries, with
     * {@code generatorURL} pointing at the admin API.
     */
    public static Alerter fromConfig(FulcrumConfig config, Clock clock) {
        String generatorUrl = "http://" + config.admin().listen() + "/";
        List<AlertSink> sinks = new ArrayList<>();
        for (FulcrumConfig.Alert a : config.alerts()) {
            sinks.add(switch (a.type()) {
                case LOG -> new LogAlertSink();
                case WEBHOOK -> new WebhookAlertSink(a.url(), a.timeout(), generatorUrl);
            });
        }
        return new Alerter(config.name(), clock, sinks);
    }

    /** Listens to a registry's events from now on. */
    public Alerter attach(Registry registry) {
        this.registry = registry;
        registry.onEvent(this::onEvent);
        return this;
    }

    /**
     * Fires an alert unless the same one (name, pool, server) is firing already.
     *
     * @param pool   "" when not about a pool
     * @param server "" when not about a server
     * @return the firing alert
     */
    public synchronized Alert fire(String name, String severity, String pool, String server, String summary,
                                   String description) {
        return fire(name, severity, scope(pool, server), summary, description);
    }

    /**
     * Fires an alert about something else than a pool or server (a listener's certificate): its
     * {@code scope} labels tell it apart, after alertname, severity and instance.
     */
    public synchronized Alert fire(String name, String severity, Map<String, String> scope, String summary,
                                   String description) {
        String key = key(name, scope);
        Alert current = firing.get(key);
        if (current != null) {
            return current;
        }
        Alert alert = new Alert(name, false, labels(name, severity, scope),
                annotations(summary, description), clock.instant(), null);
        firing.put(key, alert);
        deliver(alert);
        return alert;
    }

    /** Resolves a firing alert; {@code description} says why. Empty when it was not firing. */
    public synchronized Optional<Alert> resolve(String name, String pool, String server, String description) {
        return resolve(name, scope(pool, server), description);
    }

    /** Resolves an alert fired with {@code scope}; empty when it was not firing. */
    public synchronized Optional<Alert> resolve(String name, Map<String, String> scope, String description) {
        Alert current = firing.remove(key(name, scope));
        if (current == null) {
            return Optional.empty();
        }
        Alert resolved = current.resolve(clock.instant(), description);
        deliver(resolved);
        return Optional.of(resolved);
    }

    /** Sends a one-off alert that ends by itself after {@link #NOTICE_LIFETIME}. */
    public synchronized Alert notice(String name, String severity, String pool, String server, String summary,
                                     String description) {
        Instant now = clock.instant();
        Alert alert = new Alert(name, false, labels(name, severity, scope(pool, server)),
                annotations(summary, description), now, now.plus(NOTICE_LIFETIME));
        deliver(alert);
        return alert;
    }

    /** The alerts firing now, oldest first. */
    public synchronized List<Alert> firing() {
        return List.copyOf(firing.values());
    }

    /** Maps one event to alerts; see the class comment. On the control thread. */
    public void onEvent(PoolEvent e) {
        switch (e) {
            case PoolEvent.ServerDown down -> {
                String pool = down.pool().name();
                String server = down.server().id();
                resolve(SERVER_EJECTED, pool, server, e.detail());
                fire(SERVER_DOWN, "critical", pool, server, "server " + server + " of pool " + pool + " is down",
                        e.detail());
                checkPool(down, true);
            }
            case PoolEvent.ServerEjected ejected -> {
                String pool = ejected.pool().name();
                String server = ejected.server().id();
                fire(SERVER_EJECTED, "warning", pool, server,
                        "server " + server + " of pool " + pool + " is ejected", e.detail());
                checkPool(ejected, true);
            }
            case PoolEvent.ServerUp up -> {
                resolve(SERVER_DOWN, up.pool().name(), up.server().id(), e.detail());
                resolve(SERVER_EJECTED, up.pool().name(), up.server().id(), e.detail());
                checkPool(up, false);
            }
            case PoolEvent.ServerRemoved removed -> {
                resolve(SERVER_DOWN, removed.pool().name(), removed.server().id(), "removed: " + e.detail());
                resolve(SERVER_EJECTED, removed.pool().name(), removed.server().id(), "removed: " + e.detail());
                checkPool(removed, true);
            }
            case PoolEvent.ServerDraining draining -> checkPool(draining, true);
            case PoolEvent.ServerAdded added -> checkPool(added, false);
            case PoolEvent.ServerEnabled enabled -> checkPool(enabled, false);
            case PoolEvent.WeightChanged changed -> checkPool(changed, changed.to() == 0);
            case PoolEvent.MacLearned _, PoolEvent.MacLost _ -> {
                // DSR's view of a server; the pool's rotation is unchanged
            }
            case PoolEvent.ScaledOut out ->
                    notice(SCALED_OUT, "info", out.pool().name(), "", "pool " + out.pool().name() + " scaled out",
                            e.detail());
            case PoolEvent.ScaledIn in ->
                    notice(SCALED_IN, "info", in.pool().name(), "", "pool " + in.pool().name() + " scaled in",
                            e.detail());
            case PoolEvent.ScaleOutFailed _, PoolEvent.ScaleInFailed _ -> {
                // the auto-scaler fires and resolves FulcrumScaleFailed itself
            }
            case PoolEvent.HaMaster _ -> {
                resolve(HA_FAULT, "", "", e.detail());
                fire(HA_MASTER, "info", "", "", "instance " + instance + " is HA master", e.detail());
            }
            case PoolEvent.HaBackup _ -> {
                resolve(HA_FAULT, "", "", e.detail());
                resolve(HA_MASTER, "", "", e.detail());
            }
            case PoolEvent.HaFault _ -> {
                resolve(HA_MASTER, "", "", e.detail());
                fire(HA_FAULT, "critical", "", "", "instance " + instance + " is in HA fault", e.detail());
            }
            case PoolEvent.ConfigReloaded _, PoolEvent.ConfigApplied _ -> {
            }
            case PoolEvent.EtcdUnavailable _ -> fire(ETCD_UNAVAILABLE, "critical", "", "",
                    "instance " + instance + " cannot reach etcd; it serves its last applied config", e.detail());
            case PoolEvent.EtcdAvailable _ -> resolve(ETCD_UNAVAILABLE, "", "", e.detail());
            case PoolEvent.MemberLeft left -> {
                if (!left.stopped()) { // a graceful stop is planned: nobody needs paging for it
                    fire(CLUSTER_MEMBER_LOST, "warning", Map.of("node", left.node()),
                            "cluster member " + left.node() + " left the member list", e.detail());
                }
            }
            case PoolEvent.MemberJoined joined -> resolve(CLUSTER_MEMBER_LOST, Map.of("node", joined.node()),
                    e.detail());
        }
    }

    /**
     * Fires or resolves {@code FulcrumPoolDown} after a server event; only an event that can take
     * the last server out of rotation ({@code outOfRotation}) fires it.
     */
    private void checkPool(PoolEvent.ServerEvent e, boolean outOfRotation) {
        PoolRuntime pool = e.pool();
        String what = "server " + e.server().id() + " " + e.wireName().substring(7) + ": " + e.detail();
        Registry r = registry;
        if (r != null && !r.isRegistered(pool)) {
            resolve(POOL_DOWN, pool.name(), "", "pool removed");
            return;
        }
        // The snapshot is already published when the event arrives, so it tells the truth.
        if (pool.snapshot().hasServerUp()) {
            resolve(POOL_DOWN, pool.name(), "", what);
        } else if (outOfRotation) {
            fire(POOL_DOWN, "critical", pool.name(), "", "pool " + pool.name() + " has no server up", "last: " + what);
        }
    }

    private Map<String, String> labels(String name, String severity, Map<String, String> scope) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("alertname", name);
        labels.put("severity", severity);
        labels.put("instance", instance);
        labels.putAll(scope);
        return labels;
    }

    /** The pool and server labels, each left out when "". */
    private static Map<String, String> scope(String pool, String server) {
        Map<String, String> scope = new LinkedHashMap<>();
        if (!pool.isEmpty()) {
            scope.put("pool", pool);
        }
        if (!server.isEmpty()) {
            scope.put("server", server);
        }
        return scope;
    }

    private static Map<String, String> annotations(String summary, String description) {
        Map<String, String> notes = new LinkedHashMap<>();
        notes.put("summary", summary);
        notes.put("description", description == null ? "" : description);
        return notes;
    }

    private static String key(String name, Map<String, String> scope) {
        StringBuilder key = new StringBuilder(name);
        scope.forEach((label, value) -> key.append('\u0000').append(label).append('=').append(value));
        return key.toString();
    }

    private void deliver(Alert alert) {
        for (AlertSink sink : sinks) {
            try {
                sink.send(alert);
            } catch (RuntimeException ex) {
                // a sink must not throw; if one does, the others still get the alert
                org.slf4j.LoggerFactory.getLogger(Alerter.class).warn("alert sink failed: {}", ex.toString());
            }
        }
    }

    @Override
    public void close() {
        sinks.forEach(AlertSink::close);
    }
}
