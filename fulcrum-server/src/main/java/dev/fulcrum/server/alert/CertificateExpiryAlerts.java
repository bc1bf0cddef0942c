package dev.fulcrum.server.alert;

import dev.fulcrum.server.net.ListenerRuntime;
import dev.fulcrum.server.net.ListenerTls;
import dev.fulcrum.server.registry.PoolEvent;
import dev.fulcrum.server.registry.Registry;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code FulcrumCertificateExpiring} (warning), one per certificate a TLS listener serves that
 * expires within {@link #WARNING}, labelled listener, certificate (its first name) and serial;
 * resolved once no listener serves it any more (a reload brought a renewed one). Checked at start,
 * after every reload and every {@link #INTERVAL}, on the control thread only.
 */
public final class CertificateExpiryAlerts {

    public static final String NAME = "FulcrumCertificateExpiring";
    public static final Duration WARNING = Duration.ofDays(14);
    static final Duration INTERVAL = Duration.ofHours(1);

    private final Alerter alerter;
    /** The scopes fired by the last check; control thread only. */
    private Set<Map<String, String>> expiring = Set.of();

    CertificateExpiryAlerts(Alerter alerter) {
        this.alerter = alerter;
    }

    /** Checks now, then after each reload and every hour, on {@code registry}'s control thread. */
    public static void start(Alerter alerter, Registry registry, Supplier<List<ListenerRuntime>> listeners) {
        CertificateExpiryAlerts alerts = new CertificateExpiryAlerts(alerter);
        Runnable check = () -> alerts.check(listeners.get(), registry.now());
        registry.onEvent(event -> {
            if (event instanceof PoolEvent.ConfigReloaded) {
                check.run();
            }
        });
        registry.control().execute(new Runnable() {
            @Override
            public void run() {
                check.run();
                registry.control().schedule(INTERVAL, this); // the control plane drops it at stop
            }
        });
    }

    /** Fires for the certificates served now that expire before {@code now} + {@link #WARNING}; resolves the rest. */
    void check(List<ListenerRuntime> listeners, Instant now) {
        Set<Map<String, String>> found = new HashSet<>();
        for (ListenerRuntime listener : listeners) {
            for (X509Certificate leaf : listener.certificates()) {
                Instant notAfter = leaf.getNotAfter().toInstant();
                if (notAfter.isBefore(now.plus(WARNING))) {
                    Map<String, String> scope = new LinkedHashMap<>();
                    scope.put("listener", listener.name());
                    scope.put("certificate", ListenerTls.nameOf(leaf));
                    scope.put("serial", leaf.getSerialNumber().toString(16));
                    found.add(scope);
                    alerter.fire(NAME, "warning", scope, "certificate " + scope.get("certificate") + " of listener "
                            + listener.name() + " expires " + notAfter, "renew it and reload");
                }
            }
        }
        for (Map<String, String> scope : expiring) {
            if (!found.contains(scope)) {
                alerter.resolve(NAME, scope, "no longer served: renewed or removed");
            }
        }
        expiring = Set.copyOf(found);
    }
}
